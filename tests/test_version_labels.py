"""Version labels: v1, v2, ... per policy in creation order, and the one line that names a version
in every picker, the Compare legend and the export card."""

from cope_eval.app import group_labels, scored_runs
from cope_eval.charts import pr_figure, roc_figure, sweep_figure
from cope_eval.metrics import overlay_curves, threshold_sweep
from cope_eval.policies import label_versions, save_version, version_labels, version_title, version_titles
from cope_eval.records import Endpoint, PolicyVersion
from cope_eval.scoring import create_run
from cope_eval.store import Store
from tests.factories import make_golden
from tests.metric_data import frame

V1 = "# Criteria\n\n## Definition of Label\n\n#### Includes\n- Threats.\n"
V2 = V1 + "- Threats made in jest.\n"
V3 = V2 + "- Threats in quotes.\n"


def test_labels_follow_creation_order_then_id(workspace):
    late = save_version(workspace.root, "violence", V1, created="2026-01-03T00:00:00Z")
    early = save_version(workspace.root, "violence", V2, created="2026-01-01T00:00:00Z")
    same_a = save_version(workspace.root, "violence", V3, created="2026-01-02T00:00:00Z")
    same_b = save_version(workspace.root, "violence", V3 + "x\n", created="2026-01-02T00:00:00Z")
    save_version(workspace.root, "other", V3, created="2026-01-01T00:00:00Z")  # numbered on its own

    tied = sorted([same_a, same_b], key=lambda v: v.id)
    expected = {early.id: "v1", tied[0].id: "v2", tied[1].id: "v3", late.id: "v4"}
    assert version_labels(workspace.root, "violence") == expected
    assert label_versions([late, same_b, early, same_a]) == expected  # the same numbering, any input order
    assert version_labels(workspace.root, "other") == {save_version(workspace.root, "other", V3).id: "v1"}
    assert version_labels(workspace.root, "nothing-here") == {}


def test_a_damaged_version_text_keeps_every_number(workspace):
    first = save_version(workspace.root, "violence", V1, created="2026-01-01T00:00:00Z")
    second = save_version(workspace.root, "violence", V2, created="2026-01-02T00:00:00Z")
    (workspace.root / "policies" / "violence" / f"{first.id[7:23]}.md").write_text("edited by hand")

    assert version_labels(workspace.root, "violence") == {first.id: "v1", second.id: "v2"}


def test_the_title_names_policy_label_note_and_hash():
    version = PolicyVersion("sha256:3f2a9b0c" + "0" * 56, "violence", V1, note="tightened jest clause\nand more")
    assert version_title(version, "v3") == 'violence v3 · "tightened jest clause" (3f2a9b0c)'
    assert version_title(version, None) == 'violence · "tightened jest clause" (3f2a9b0c)'
    long = PolicyVersion(version.id, "violence", V1, note="x" * 60)
    assert version_title(long, "v1") == f'violence v1 · "{"x" * 39}…" (3f2a9b0c)'
    assert version_title(PolicyVersion(version.id, "violence", V1), "v1") == "violence v1 (3f2a9b0c)"


def test_version_titles_label_a_policy_for_a_menu(workspace):
    first = save_version(workspace.root, "violence", V1, note="first cut")
    second = save_version(workspace.root, "violence", V2, note="jest")
    assert version_titles([second, first]) == {first.id: f'violence v1 · "first cut" ({first.id[7:15]})',
                                               second.id: f'violence v2 · "jest" ({second.id[7:15]})'}


def test_run_pickers_and_agreement_groups_name_runs_by_version_title(workspace):
    first = save_version(workspace.root, "violence", V1, note="first cut")
    second = save_version(workspace.root, "violence", V2, parent=first.id, note="jest")
    golden = make_golden(4)
    with Store(workspace.private_dir) as store:
        store.put_golden_set(golden)
        runs = []
        for version in (first, second, second):
            run = create_run(store, policy=version, golden=golden, endpoint=Endpoint("http://h/v1", "m"))
            store.add_predictions(run.id, [("item-00000", 1.0, 1, "1", None, 1.0, 0)])
            store.mark_run(run.id, "completed")
            runs.append(run)
        infos = scored_runs(store)
        groups = {key: [infos[r.id] for r in runs[1:]] for key in [(second.id, golden.hash)]}
        labels = group_labels(store, groups)

    assert infos[runs[0].id].name == f'violence v1 · "first cut" ({first.id[7:15]}) · run {runs[0].id[-6:]}'
    assert infos[runs[1].id].name == f'violence v2 · "jest" ({second.id[7:15]}) · run {runs[1].id[-6:]}'
    assert labels[(second.id, golden.hash)].startswith(f'violence v2 · "jest" ({second.id[7:15]}) · ')


def test_the_compare_legend_shows_a_note_as_text_never_as_markup():
    name = 'violence v2 · "<b>bold</b> & <a href=x>link</a>" (3f2a9b0c) · run 4d5e6f'
    shown = 'violence v2 · "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;a href=x&gt;link&lt;/a&gt;" (3f2a9b0c) · run 4d5e6f'
    results = frame([0, 1, 0, 1], [0.1, 0.8, 0.3, 0.6])
    curves = overlay_curves({name: results})
    assert pr_figure(curves).data[0].name.startswith(shown + " (AP ")
    assert roc_figure(curves).data[0].name.startswith(shown + " (AUC ")
    assert sweep_figure({name: threshold_sweep(results)}, threshold=0.5).data[0].name == shown + " precision"
