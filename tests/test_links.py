"""Runs named in a page's address: read back in order, checked against the workspace's runs, and
named in a note when unknown (an address is typed, pasted and shared)."""

from cope_eval.app import LinkedRuns, link_value, linked_runs

KNOWN = {"run-a", "run-b", "run-c"}


def test_known_ids_come_back_in_the_addresss_order_each_once():
    linked = linked_runs(" run-c ,run-a,,run-c,run-b", KNOWN, most=6)
    assert linked == LinkedRuns(["run-c", "run-a", "run-b"], [])
    assert linked.note() is None


def test_at_most_most_runs_are_opened():
    assert linked_runs("run-a,run-b,run-c", KNOWN, most=2).runs == ["run-a", "run-b"]


def test_ids_the_workspace_lacks_are_left_out_and_named():
    linked = linked_runs("run-zz,run-a,run-zz", KNOWN, most=1)
    assert linked == LinkedRuns(["run-a"], ["run-zz"])
    assert linked.note() == r"The address names a run this workspace does not have, left out: run\-zz."


def test_a_hostile_address_gives_a_short_escaped_note():
    value = ",".join([f"[x](http://evil/{i})" for i in range(5)] + ["y" * 500])
    linked = linked_runs(value, KNOWN, most=6)
    assert linked.runs == [] and len(linked.unknown) == 6
    note = linked.note("scored run")
    assert note.startswith("The address names scored runs this workspace does not have")
    assert note.endswith(" and 3 more.") and "](" not in note and len(note) < 300


def test_no_parameter_and_an_empty_one_name_nothing():
    assert linked_runs(None, KNOWN, most=1) == linked_runs("", KNOWN, most=1) == LinkedRuns([], [])


def test_the_value_written_reads_back():
    assert link_value(["run-a", None, "run-b"]) == "run-a,run-b"
    assert link_value([None]) is None and link_value([]) is None
    assert linked_runs(link_value(["run-b", "run-a"]), KNOWN, most=6).runs == ["run-b", "run-a"]
