"""The command line's parser: every command listed without the library, a command's flags added
when the command is used (``cli._main.CommandParser``), the flags commands share (``cli._options``).

That nothing heavy is imported to list the commands is tests/test_import_isolation.py's job.
"""

import pytest

from cope_eval.cli import main
from cope_eval.cli._main import _parser
from cope_eval.export import PICK_HELP
from cope_eval.local import DEFAULT_PORT
from cope_eval.scoring import ANSWER_MODES, DEFAULT_TEMPLATE, TEMPLATES


def help_of(argv, capsys) -> str:
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--help"])
    assert exit_.value.code == 0
    return " ".join(capsys.readouterr().out.split())  # argparse wraps lines: compare words


def test_the_command_list_names_every_command(capsys):
    out = help_of([], capsys)
    for command in ("serve-local", "app", "run", "resume", "export", "batch-export", "batch-import",
                    "compare", "triage"):
        assert f" {command} " in out


def test_a_commands_flags_are_added_when_it_is_used(capsys):
    run = _parser()._subparsers._group_actions[0].choices["run"]
    assert "--template" not in run._option_string_actions  # not yet: listing commands needs none of it
    out = help_of(["run"], capsys)
    assert f"--template {{{','.join(TEMPLATES)}}}" in out
    assert f"--answer-mode {{{','.join(ANSWER_MODES)}}}" in out
    assert f"default $COPE_LOCAL_PORT or {DEFAULT_PORT}" in help_of(["serve-local"], capsys)
    assert f"pick the threshold by a rule: {PICK_HELP}" in help_of(["export"], capsys)
    parsed = _parser().parse_args(["run", "--golden", "g.csv", "--policy", "p.md"])
    assert (parsed.template, parsed.answer_mode, parsed.threshold) == (DEFAULT_TEMPLATE, "logprobs", 0.5)


def test_a_deferred_flag_is_checked_like_any_other(workspace, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--golden", "g.csv", "--policy", "p.md", "--template", "no-such-template"])
    assert exit_.value.code == 2 and "invalid choice: 'no-such-template'" in capsys.readouterr().err


@pytest.mark.parametrize("argv, flag", [
    (["compare", "run-a", "run-b", "--threshold", "1.5"], "--threshold"),
    (["export", "--run", "r", "--out", "o", "--threshold", "nan"], "--threshold"),
    (["run", "--golden", "g", "--policy", "p", "--fail-under-f1", "2"], "--fail-under-f1"),
    (["run", "--golden", "g", "--policy", "p", "--max-error-rate", "-0.1"], "--max-error-rate"),
])
def test_threshold_flags_share_one_check_naming_the_flag(workspace, capsys, argv, flag):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {flag} must be a number from 0 to 1") and err.count("\n") == 1


def test_shared_flags_read_the_same_everywhere(capsys):
    key_help = ("environment variable holding the run's server key "
                "(default: COPE_API_KEY unless COPE_BASE_URL is another server)")
    assert key_help in help_of(["resume"], capsys)
    for command in (["export"], ["batch-export"], ["batch-import"]):
        assert "--run RUN_ID" in help_of(command, capsys)


def test_run_help_states_defaults_worth_stating_and_no_empty_ones(capsys):
    from cope_eval.cli import main

    with pytest.raises(SystemExit):
        main(["run", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert "(default: auto)" in shown and "(default: 0.5)" in shown  # a real default is still said
    for empty in ("(default: None)", "(default: False)", "(default: [])", "auto-detect) (default"):
        assert empty not in shown
