"""Others' changes, in words (``app._news``): a newer policy version and who saved it, two saves
from one parent, and a newer version of a run's golden set (relabels, a split), on a real store."""

from datetime import datetime, timedelta, timezone

from cope_eval.app import golden_news, golden_notices, policy_news, saved_message, sibling_note
from cope_eval.golden import correct_label, split_golden_set
from cope_eval.policies import list_versions, save_version
from cope_eval.records import short_id
from cope_eval.store import Store
from tests.factories import make_golden

V1 = "# Criteria\n\n## Definition of Label\n\n#### Includes\n- Threats.\n"
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
TO_SCORE = (" To score it, pick it under \"Golden set\" on Evaluate and Start; this run's figures stay those of the "
            "version it scored.")


def _at(delta: timedelta) -> str:
    return (T0 + delta).isoformat()


def _menu(golden_hash: str, n: int = 20, derived: str = "corrected") -> str:
    return f"set · {n} items · {short_id(golden_hash)} · {derived}"


def test_a_newer_version_is_named_with_its_author_and_when_it_was_saved(workspace):
    v1 = save_version(workspace.root, "violence", V1, author="ana", created=_at(timedelta(0)))
    v2 = save_version(workspace.root, "violence", V1 + "- Jokes.\n", parent=v1.id, author="bo",
                      created=_at(timedelta(minutes=1)))
    versions = list_versions(workspace.root, "violence")

    assert policy_news(versions, v1.id, now=T0 + timedelta(minutes=3)) == (
        "v2 of this policy was saved by bo 2 min ago. You are editing from v1: pick v2 under \"Edit from version\" "
        "to start from it, or see what differs under \"Compare two versions\" below.")
    assert policy_news(versions, v2.id, now=T0) is None  # editing from the newest: nothing to say
    assert policy_news(versions, None, now=T0) is None  # a new policy

    save_version(workspace.root, "violence", V1 + "- Threats to pets.\n", parent=v2.id, author="",
                 created=_at(timedelta(hours=2)))
    news = policy_news(list_versions(workspace.root, "violence"), v1.id, now=T0 + timedelta(days=40))
    assert news.startswith("v3 of this policy was saved by someone (no author given) on 2025-03-01. "
                           "You are editing from v1 (2 versions are newer than it): pick v3 ")


def test_two_saves_from_one_parent_each_name_the_other(workspace):
    v1 = save_version(workspace.root, "violence", V1, author="ana", created=_at(timedelta(0)))
    ana = save_version(workspace.root, "violence", V1 + "- Jokes.\n", parent=v1.id, author="ana",
                       created=_at(timedelta(minutes=5)))
    bo = save_version(workspace.root, "violence", V1 + "- Quotes.\n", parent=v1.id, author="bo",
                      created=_at(timedelta(minutes=5, seconds=0.29)))  # the race: 0.29 s apart
    now = T0 + timedelta(minutes=5, seconds=30)

    assert saved_message(workspace.root, "violence", bo.id, existed=False, now=now) == (
        f"Saved version violence v3 ({short_id(bo.id, 8)}). v2 (saved by ana just now) was also edited from v1: "
        "both versions are kept, and neither has the other's changes. See how they differ under \"Compare two "
        "versions\" below (Old v2, New v3).")
    assert "v3 (saved by bo just now) was also edited from v1" in saved_message(
        workspace.root, "violence", ana.id, existed=False, now=now)
    # the editor still on ana's version hears of bo's, saved from the same parent
    assert policy_news(list_versions(workspace.root, "violence"), ana.id, now=now).startswith(
        "v3 of this policy was saved by bo just now, edited from v1 as v2 was: both versions are kept. ")

    after = save_version(workspace.root, "violence", V1 + "- Quotes, too.\n", parent=bo.id, author="bo",
                         created=_at(timedelta(minutes=7)))
    versions = list_versions(workspace.root, "violence")
    assert sibling_note(versions, after.id, now=now) == ""  # its parent has no other child
    assert sibling_note(versions, v1.id, now=now) == ""  # a first version has no parent, so no siblings
    assert saved_message(workspace.root, "violence", after.id, existed=False, now=now) == \
        f"Saved version violence v4 ({short_id(after.id, 8)})."


def test_three_saves_from_one_parent(workspace):
    v1 = save_version(workspace.root, "violence", V1, created=_at(timedelta(0)))
    for i, who in enumerate(("ana", "bo", "cy")):
        last = save_version(workspace.root, "violence", V1 + f"- Rule {i}.\n", parent=v1.id, author=who,
                            created=_at(timedelta(minutes=1 + i)))
    note = sibling_note(list_versions(workspace.root, "violence"), last.id, now=T0 + timedelta(minutes=10))
    assert note.startswith("v2 (saved by ana 9 min ago) and v3 (saved by bo 8 min ago) were also edited from v1: "
                           "all 3 versions are kept, and none has the others' changes.")


def _stored(workspace, n: int = 20):
    store = Store(workspace.private_dir)
    golden = make_golden(n)
    store.put_golden_set(golden)
    return store, golden


def _later(news, minutes: int = 3) -> datetime:
    return datetime.fromisoformat(news.created) + timedelta(minutes=minutes)


def test_a_relabel_is_news_for_runs_on_the_version_before_it(workspace):
    store, golden = _stored(workspace)
    with store:
        assert golden_news(store, golden.hash) is None
        assert golden_notices(store, {"run r1": golden.hash}, now=T0) == []  # nothing newer: nothing said

        one = correct_label(store, golden.hash, "item-00000", 1, author="bo", reason="a threat")
        two = correct_label(store, one.hash, "item-00003", 0, author="cy", reason="a joke")
        news = golden_news(store, golden.hash)

        assert (news.newest, news.changed, news.authors, news.split, news.branches) == (
            two.hash, 2, ("bo", "cy"), False, 1)
        assert golden_notices(store, {"run r1": golden.hash}, now=_later(news)) == [
            f"The golden set of run r1 has a newer version (relabelled by bo and cy, 3 min ago: 2 labels changed): "
            f"{_menu(two.hash)}." + TO_SCORE]
        assert golden_news(store, one.hash).authors == ("cy",)  # only the changes after the run's version
        assert golden_notices(store, {"run r2": two.hash}, now=_later(news)) == []  # the newest: nothing newer


def test_a_label_changed_and_changed_back_is_not_counted(workspace):
    store, golden = _stored(workspace)
    with store:
        one = correct_label(store, golden.hash, "item-00000", 1, author="", reason="a threat")
        two = correct_label(store, one.hash, "item-00001", 0, author="", reason="a joke")
        correct_label(store, two.hash, "item-00000", 0, author="", reason="no, not a threat")
        news = golden_news(store, golden.hash)

        assert news.changed == 1  # item 1 only
        assert news.how(_later(news)) == "relabelled by someone (no author given), 3 min ago: 1 label changed"


def test_a_split_and_a_relabel_after_it(workspace):
    store, golden = _stored(workspace)
    with store:
        split = split_golden_set(store, golden.hash, test_fraction=0.3, seed=0).golden
        news = golden_news(store, golden.hash)
        assert news.how(_later(news, 5)) == "drawn as a dev/test split, 5 min ago"
        assert golden_notices(store, {"run r1": golden.hash}, now=_later(news))[0].startswith(
            "The golden set of run r1 has a newer version (drawn as a dev/test split, 3 min ago): "
            f"{_menu(split.hash, derived='dev/test split')}.")

        relabelled = correct_label(store, split.hash, "item-00002", 1, author="bo", reason="a threat")
        news = golden_news(store, golden.hash)
        assert news.newest == relabelled.hash
        assert news.how(_later(news)) == \
            "relabelled by bo and drawn as a dev/test split, 3 min ago: 1 label changed"


def test_runs_on_one_set_share_a_sentence_and_a_run_on_the_newest_is_named(workspace):
    store, golden = _stored(workspace)
    with store:
        newer = correct_label(store, golden.hash, "item-00000", 1, author="bo", reason="a threat")
        now = _later(golden_news(store, golden.hash))

        [line] = golden_notices(store, {"A": golden.hash, "B": golden.hash, "C": newer.hash}, now=now)

        assert line == (f"The golden set of A and B has a newer version (relabelled by bo, 3 min ago: 1 label "
                        f"changed): {_menu(newer.hash)}. C scored it.")


def test_relabels_that_branch_apart_say_how_many(workspace):
    store, golden = _stored(workspace)
    with store:
        correct_label(store, golden.hash, "item-00000", 1, author="ana", reason="a threat")
        other = correct_label(store, golden.hash, "item-00001", 0, author="bo", reason="a joke")
        news = golden_news(store, golden.hash)

        assert (news.newest, news.authors, news.branches) == (other.hash, ("bo",), 2)
        assert "It is the newest of 2 versions that branch apart from this one." in \
            golden_notices(store, {"run r1": golden.hash}, now=_later(news))[0]
