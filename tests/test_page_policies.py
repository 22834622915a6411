"""The Policies page: create, edit and save versions; history, diffs, token count."""

import pytest

from cope_eval.policies import list_versions, read_draft, save_version
from cope_eval.records import short_id
from pages import _state
from tests.apptest import messages, open_page, table, texts

HOSTILE = "<img src=x onerror=alert(1)><script>alert(2)</script>"
V1 = "# Criteria\n\n## Definition of Label\n\n#### Includes\n- Threats.\n"
V2 = V1 + f"- Quoted text like {HOSTILE}\n"


def test_empty_workspace_offers_a_new_policy(workspace, monkeypatch):
    at = open_page("policies", monkeypatch)

    assert not at.exception
    assert at.text_input(key=_state.POLICY_NEW_NAME).value == ""  # the new-policy form, no picker
    assert not [w for w in at.selectbox if w.key == _state.POLICY_SLUG]
    assert not [b for b in at.button if b.key in (_state.POLICY_NEW, _state.POLICY_NEW_CANCEL)]
    assert "# Criteria" in at.text_area(key=_state.POLICY_EDITOR).value
    assert "no healthy model server" in texts(at)


def test_create_a_policy_and_save_it_as_a_first_version(workspace, monkeypatch):
    at = open_page("policies", monkeypatch)
    at.text_input(key=_state.POLICY_NEW_NAME).input("Hate Speech")
    at.text_area(key=_state.POLICY_EDITOR).input(V1)
    at.text_input(key=_state.POLICY_NOTE).input("first cut")
    at.text_input(key=_state.POLICY_AUTHOR).input("ana")
    at.button(key=_state.POLICY_SAVE).click().run()

    assert not at.exception
    [version] = list_versions(workspace.root, "hate-speech")
    assert (version.text, version.note, version.author, version.parent) == (V1, "first cut", "ana", None)
    assert any("Saved version" in m for m in messages(at, "success"))
    assert at.selectbox(key=_state.POLICY_SLUG).value == "hate-speech"
    assert at.text_input(key=_state.POLICY_NOTE).value == ""
    history = table(at, "run ids")
    assert history["note"].tolist() == ["first cut"]


def test_edit_and_save_a_new_version_with_its_parent(workspace, monkeypatch):
    first = save_version(workspace.root, "violence", V1, note="v1")
    at = open_page("policies", monkeypatch)
    assert at.text_area(key=_state.POLICY_EDITOR).value == V1

    at.text_area(key=_state.POLICY_EDITOR).input(V2)
    at.text_input(key=_state.POLICY_NOTE).input("quote rule")
    at.button(key=_state.POLICY_SAVE).click().run()

    versions = list_versions(workspace.root, "violence")
    assert [v.note for v in versions] == ["v1", "quote rule"]
    assert versions[-1].parent == first.id
    assert at.selectbox(key=_state.POLICY_BASE).value == versions[-1].id
    assert table(at, "run ids")["parent"].tolist() == ["v1", ""]  # the parent by its label


def test_saving_unchanged_text_says_so(workspace, monkeypatch):
    save_version(workspace.root, "violence", V1, note="v1")
    at = open_page("policies", monkeypatch)
    at.button(key=_state.POLICY_SAVE).click().run()

    assert len(list_versions(workspace.root, "violence")) == 1
    assert any("already saved" in m for m in messages(at, "info"))


def test_diff_of_two_versions_escapes_policy_text(workspace, monkeypatch):
    save_version(workspace.root, "violence", V1, note="v1")
    save_version(workspace.root, "violence", V2, note=HOSTILE)
    at = open_page("policies", monkeypatch)

    assert not at.exception
    [diff] = at.get("html")
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in diff.proto.body and "<script>" not in diff.proto.body
    assert '<tr class="insert">' in diff.proto.body
    assert "1 lines added" in texts(at)
    assert table(at, "run ids")["note"].tolist() == [HOSTILE, "v1"]


@pytest.mark.parametrize("name", ["con", "日本語"])
def test_a_name_that_is_no_folder_name_is_saved_under_a_safe_one_and_the_page_says_which(workspace, monkeypatch,
                                                                                           name):
    from cope_eval.policies import slugify

    at = open_page("policies", monkeypatch)
    at.text_input(key=_state.POLICY_NEW_NAME).input(name).run()
    slug = slugify(name)  # "con-policy", "policy-<8 hex of the name>"
    assert f"Saved as the policy `{slug}` (folder policies/{slug}/)." in [c.value for c in at.caption]
    at.text_area(key=_state.POLICY_EDITOR).input(V1)
    at.button(key=_state.POLICY_SAVE).click().run()

    assert not at.exception and messages(at, "error") == []  # it said "Invalid policy name" before
    assert [v.text for v in list_versions(workspace.root, slug)] == [V1]
    assert at.selectbox(key=_state.POLICY_SLUG).value == slug


def test_a_bad_policy_name_is_one_error(workspace, monkeypatch):
    at = open_page("policies", monkeypatch)
    at.text_input(key=_state.POLICY_NEW_NAME).input("!!!")
    at.button(key=_state.POLICY_SAVE).click().run()

    assert not at.exception
    assert len(messages(at, "error")) == 1 and "Invalid policy name" in messages(at, "error")[0]
    assert list_versions(workspace.root, "x") == []


@pytest.mark.model
def test_token_count_against_the_model_context(workspace, monkeypatch, model_server):
    save_version(workspace.root, "violence", V1, note="v1")
    at = open_page("policies", monkeypatch, server=model_server)

    assert not at.exception
    [bar] = at.get("progress")
    assert "tokens of the model's" in bar.proto.text and "context" in bar.proto.text


def test_a_policy_file_edited_by_hand_is_one_error_not_a_traceback(workspace, monkeypatch):
    version = save_version(workspace.root, "violence", V1, note="v1")
    (workspace.policies_dir / "violence" / f"{version.id[7:23]}.md").write_text("tampered\n")
    at = open_page("policies", monkeypatch)

    assert not at.exception
    [error] = messages(at, "error")
    assert "was changed after it was saved" in error


def test_policy_gaps_from_triage_are_a_checklist_beside_the_editor(workspace, monkeypatch):
    from cope_eval.store import Store
    from cope_eval.insight import tag_item
    from tests.factories import make_golden
    from tests.test_triage import SCORES, scored_run

    save_version(workspace.root, "violence", V1, note="v1")
    with Store(workspace.private_dir) as store:
        run = scored_run(store, make_golden(9, texts=[HOSTILE] + [f"post {i}" for i in range(1, 9)]), SCORES, text=V1)
        first = tag_item(store, run.id, "item-00000", "policy_gap", note=f"quoted {HOSTILE}", author="ana")
        second = tag_item(store, run.id, "item-00001", "policy_gap", note="coded threats", author="ana")
    at = open_page("policies", monkeypatch)

    assert not at.exception
    box = at.checkbox(key=f"{_state.GAP_DONE}:{first.id}")
    assert not box.value and box.label.startswith("quoted \\<img src\\=x"), "labels are Markdown-escaped"
    assert "2 open · 0 done" in texts(at) and f"item-00000: {HOSTILE}" in texts(at)
    at.text_input(key=_state.POLICY_AUTHOR).input("bo")
    box.check().run()

    assert not at.exception
    assert at.checkbox(key=f"{_state.GAP_DONE}:{first.id}").value
    assert "1 open · 1 done" in texts(at)
    with Store(workspace.private_dir) as store:
        done = store.triage_tag(first.id)
        assert (done.status, done.done_by) == ("done", "bo") and store.triage_tag(second.id).status == "open"
    at.checkbox(key=f"{_state.GAP_DONE}:{first.id}").uncheck().run()
    assert not at.exception and "2 open · 0 done" in texts(at)

    at.button(key=_state.POLICY_NEW).click().run()
    assert "None tagged yet" in texts(at)


def test_new_policy_is_a_button_and_keeps_the_name_check(workspace, monkeypatch):
    save_version(workspace.root, "violence", V1, note="v1")
    at = open_page("policies", monkeypatch)
    assert at.selectbox(key=_state.POLICY_SLUG).options == ["violence"]  # no "new policy" option in the menu

    at.button(key=_state.POLICY_NEW).click().run()
    assert not at.exception and at.text_area(key=_state.POLICY_EDITOR).value.startswith("# Criteria")
    at.text_input(key=_state.POLICY_NEW_NAME).input("!!!")
    at.button(key=_state.POLICY_SAVE).click().run()
    assert len(messages(at, "error")) == 1 and "Invalid policy name" in messages(at, "error")[0]

    at.text_input(key=_state.POLICY_NEW_NAME).input("Spam")
    at.text_area(key=_state.POLICY_EDITOR).input(V2)
    at.button(key=_state.POLICY_SAVE).click().run()
    assert not at.exception and [v.text for v in list_versions(workspace.root, "spam")] == [V2]
    assert at.selectbox(key=_state.POLICY_SLUG).value == "spam"

    at.button(key=_state.POLICY_NEW).click().run()
    at.button(key=_state.POLICY_NEW_CANCEL).click().run()
    assert at.selectbox(key=_state.POLICY_SLUG).value == "spam"


def _draft_notice(at) -> list[str]:
    return [m for m in messages(at, "warning") if m.startswith("Unsaved draft")]


def test_an_edit_survives_a_page_switch_with_an_unsaved_draft_notice(workspace, monkeypatch):
    save_version(workspace.root, "aaa", V1, note="a")
    first = save_version(workspace.root, "violence", V1, note="v1")
    at = open_page("policies", monkeypatch)
    at.selectbox(key=_state.POLICY_SLUG).select("violence").run()
    at.text_area(key=_state.POLICY_EDITOR).input(V2).run()
    [notice] = _draft_notice(at)
    assert notice.startswith(f"Unsaved draft (edited from v1 · {short_id(first.id, 8)}, ")

    at.switch_page("pages/evaluate.py").run()
    at.switch_page("pages/policies.py").run()

    assert not at.exception
    assert at.selectbox(key=_state.POLICY_SLUG).value == "violence"  # it came back on another policy before
    assert at.text_area(key=_state.POLICY_EDITOR).value == V2  # and blank
    assert _draft_notice(at) == [notice]
    assert [v.text for v in list_versions(workspace.root, "violence")] == [V1], "a draft is never a version"


def test_a_draft_survives_a_reload_or_restart(workspace, monkeypatch):
    save_version(workspace.root, "aaa", V1, note="a")
    save_version(workspace.root, "violence", V1, note="v1")
    at = open_page("policies", monkeypatch)
    at.selectbox(key=_state.POLICY_SLUG).select("violence").run()
    at.text_area(key=_state.POLICY_EDITOR).input(V2).run()

    again = open_page("policies", monkeypatch)  # a new session on the same workspace: a reload, a restart

    assert not again.exception
    assert again.selectbox(key=_state.POLICY_SLUG).value == "violence"
    assert again.text_area(key=_state.POLICY_EDITOR).value == V2 and len(_draft_notice(again)) == 1
    again.selectbox(key=_state.POLICY_SLUG).select("aaa").run()
    assert again.text_area(key=_state.POLICY_EDITOR).value == V1 and _draft_notice(again) == []


def test_a_new_policy_draft_survives_a_restart(workspace, monkeypatch):
    at = open_page("policies", monkeypatch)
    at.text_area(key=_state.POLICY_EDITOR).input(V1).run()

    again = open_page("policies", monkeypatch)
    assert again.text_area(key=_state.POLICY_EDITOR).value == V1
    assert "edited from the starter text" in _draft_notice(again)[0]
    again.text_input(key=_state.POLICY_NEW_NAME).input("Threats")
    again.button(key=_state.POLICY_DRAFT_SAVE).click().run()
    assert [v.text for v in list_versions(workspace.root, "threats")] == [V1]
    assert read_draft(workspace.root, None) is None


def test_discard_throws_the_draft_away(workspace, monkeypatch):
    save_version(workspace.root, "violence", V1, note="v1")
    at = open_page("policies", monkeypatch)
    at.text_area(key=_state.POLICY_EDITOR).input(V2).run()
    at.button(key=_state.POLICY_DRAFT_DISCARD).click().run()

    assert not at.exception and _draft_notice(at) == []
    assert at.text_area(key=_state.POLICY_EDITOR).value == V1
    assert read_draft(workspace.root, "violence") is None
    assert open_page("policies", monkeypatch).text_area(key=_state.POLICY_EDITOR).value == V1


@pytest.mark.parametrize("button", [_state.POLICY_SAVE, _state.POLICY_DRAFT_SAVE])
def test_saving_makes_a_version_and_clears_the_draft(workspace, monkeypatch, button):
    first = save_version(workspace.root, "violence", V1, note="v1")
    at = open_page("policies", monkeypatch)
    at.text_area(key=_state.POLICY_EDITOR).input(V2).run()
    at.text_input(key=_state.POLICY_NOTE).input("quote rule")
    at.button(key=button).click().run()

    assert not at.exception and _draft_notice(at) == []
    assert [(v.text, v.note, v.parent) for v in list_versions(workspace.root, "violence")][-1] \
        == (V2, "quote rule", first.id)
    assert read_draft(workspace.root, "violence") is None
    assert open_page("policies", monkeypatch).text_area(key=_state.POLICY_EDITOR).value == V2


def test_a_draft_edited_from_an_older_version_opens_on_that_version(workspace, monkeypatch):
    first = save_version(workspace.root, "violence", V1, note="v1")
    save_version(workspace.root, "violence", V2, note="v2")
    at = open_page("policies", monkeypatch)
    at.selectbox(key=_state.POLICY_BASE).select(first.id).run()
    at.text_area(key=_state.POLICY_EDITOR).input(V1 + "- Jokes.\n").run()

    again = open_page("policies", monkeypatch)

    assert again.selectbox(key=_state.POLICY_BASE).value == first.id  # not the newest, v2
    assert again.text_area(key=_state.POLICY_EDITOR).value == V1 + "- Jokes.\n"
    assert _draft_notice(again)[0].startswith(f"Unsaved draft (edited from v1 · {short_id(first.id, 8)}, ")


def _newer_notice(at) -> list[str]:
    return [m for m in messages(at, "warning") if "Saving makes a new version beside it" in m]


def _html(at) -> str:
    return "\n".join(e.proto.body for e in at.main if e.type == "html")


def test_a_version_saved_from_another_tab_is_announced_with_its_diff_before_saving(workspace, monkeypatch):
    first = save_version(workspace.root, "violence", V1, note="first")
    tab1, tab2 = open_page("policies", monkeypatch), open_page("policies", monkeypatch)
    tab2.text_area(key=_state.POLICY_EDITOR).input(V1 + "- Jokes.\n").run()
    assert _newer_notice(tab2) == []  # v1 is still the newest

    tab1.text_area(key=_state.POLICY_EDITOR).input(V2)
    tab1.text_input(key=_state.POLICY_NOTE).input("quote rule")
    tab1.text_input(key=_state.POLICY_AUTHOR).input("bo")
    tab1.button(key=_state.POLICY_SAVE).click().run()
    second = list_versions(workspace.root, "violence")[-1]
    assert any(f'Saved version violence v2 · "quote rule" ({short_id(second.id, 8)})' in m
               for m in messages(tab1, "success"))

    tab2.text_area(key=_state.POLICY_EDITOR).input(V1 + "- Jokes, too.\n").run()  # the next edit reruns tab 2
    [notice] = _newer_notice(tab2)
    assert notice.startswith(f"v2 · {short_id(second.id, 8)} was saved after you started editing from "
                             f"v1 · {short_id(first.id, 8)} (by bo, {second.created[:10]} ")
    assert "it will not have v2's changes" in notice
    assert "Jokes, too." in _html(tab2) and "Quoted text like &lt;img" in _html(tab2)  # your text against v2
    assert tab2.selectbox(key=_state.POLICY_BASE).value == first.id  # still editing from v1

    tab2.button(key=_state.POLICY_SAVE).click().run()  # saving stays possible: a sibling of v2
    assert not tab2.exception
    assert [v.parent for v in list_versions(workspace.root, "violence")] == [None, first.id, first.id]
    assert _newer_notice(tab2) == []  # the sibling is the newest now


def test_editing_an_older_version_on_purpose_says_a_newer_one_exists(workspace, monkeypatch):
    first = save_version(workspace.root, "violence", V1, note="first")
    save_version(workspace.root, "violence", V2, parent=first.id, note="second")
    at = open_page("policies", monkeypatch)
    at.selectbox(key=_state.POLICY_BASE).select(first.id).run()
    assert _newer_notice(at) == []  # nothing edited: saving would make nothing new

    at.text_area(key=_state.POLICY_EDITOR).input(V1 + "- Jokes.\n").run()

    [notice] = _newer_notice(at)
    assert notice.startswith("v2 · ") and "is newer than v1 · " in notice and "saved after" not in notice
