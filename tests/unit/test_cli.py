"""The `logistic` command line: help for every command and option, options refused before any work.

Nothing here reaches a command's body: a refused option or setting ends the
command before a container is built, so no file and no connection is opened.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import click
import pytest
from click.testing import CliRunner

from logistic.entrypoints.cli import logistic, main
from logistic.entrypoints.option_types import ClockSpeed, Instant, WholeNumber

# Settings that load without touching a disk; a test adds the ones it needs.
ENVIRONMENT = {"LOGISTIC_HOME": "/nonexistent", "LOGISTIC_DATABASE_URL": None}


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in sorted(group.commands.items()):
        found.append((*path, name))
        if isinstance(command, click.Group):
            found.extend(_commands(command, (*path, name)))
    return found


COMMANDS = _commands(logistic)


def _command(path: tuple[str, ...]) -> click.Command:
    command: click.Command = logistic
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


def test_the_commands_are_those_of_the_readme() -> None:
    assert COMMANDS == [
        ("backtest-estimate",),
        ("dispatcher",),
        ("ingest",),
        ("keys",),
        ("keys", "create"),
        ("migrate",),
        ("recount",),
        ("report",),
        ("run",),
        ("scheduler",),
        ("seed",),
        ("serve",),
    ]


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_every_command_explains_itself_and_each_of_its_options(
    path: tuple[str, ...], flag: str
) -> None:
    shown = CliRunner().invoke(logistic, [*path, flag], env=ENVIRONMENT)

    assert shown.exit_code == 0, shown.output
    assert shown.output.startswith(f"Usage: logistic {' '.join(path)} ")
    command = _command(path)
    assert command.help
    assert command.help in " ".join(shown.output.split())
    for option in command.params:
        if isinstance(option, click.Argument):
            # An argument has no help of its own: the command's help names and explains it.
            assert option.human_readable_name in shown.output
            assert option.human_readable_name in command.help
            continue
        assert isinstance(option, click.Option)
        assert option.help, option.name
        assert all(name in shown.output for name in option.opts), option.name


def test_without_a_command_the_help_is_shown_and_the_exit_code_is_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main([]) == 2

    shown = capsys.readouterr().err
    assert shown.startswith("Usage: logistic [OPTIONS] COMMAND")
    assert all(f"  {path[0]} " in shown for path in COMMANDS if len(path) == 1)


def test_help_exits_0_through_main(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["seed", "--help"]) == 0
    assert "--batch-size" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("arguments", "refusal"),
    [
        (["seed", "--orders", "many"], "a whole number is needed, not 'many'"),
        (["seed", "--orders", "-1"], "a whole number is needed, not '-1'"),
        (["seed", "--orders", " 5"], "a whole number is needed, not ' 5'"),
        (["seed", "--orders", "٣"], "a whole number is needed, not '٣'"),
        (["seed", "--workers", "0"], "at least 1 is needed, not '0'"),
        (["seed", "--batch-size", "0"], "at least 1 is needed, not '0'"),
        (["seed", "--seed", "abc"], "'abc' is not a valid integer"),
        (["serve", "--port", "http"], "'http' is not a valid integer"),
        (["run", "--port", "http"], "'http' is not a valid integer"),
        (["scheduler", "--clock-speed", "0"], "a clock speed is a number above 0, not '0'"),
        (["scheduler", "--clock-speed", "-600"], "a clock speed is a number above 0"),
        (["scheduler", "--clock-speed", "fast"], "a clock speed is a number above 0"),
        (["scheduler", "--clock-speed", "nan"], "a clock speed is a number above 0"),
        (["scheduler", "--clock-speed", "inf"], "a clock speed is a number above 0"),
        (["scheduler", "--clock-speed", "1e6"], "a clock speed is a number above 0"),
        (["scheduler", "--clock-start", "tomorrow"], "not an ISO 8601 instant: 'tomorrow'"),
        (
            ["scheduler", "--clock-start", "2026-11-25T07:59"],
            "give the instant an offset, e.g. 2026-11-25T07:59+08:00",
        ),
        (["keys", "create"], "Missing option '--scope'"),
        (["keys", "create", "--scope", "everything"], "'everything' is not one of"),
        (["keys"], "Usage: logistic keys [OPTIONS] COMMAND"),
        (["seed", "--orders"], "'--orders' requires an argument"),
        (["report", "--when", "now"], "No such option '--when'"),
        (["deploy"], "No such command 'deploy'"),
    ],
)
def test_a_malformed_option_is_refused_with_exit_code_2_before_any_work(
    arguments: list[str], refusal: str
) -> None:
    # A malformed setting too: the option's refusal comes first, as no container is built.
    refused = CliRunner().invoke(logistic, arguments, env={**ENVIRONMENT, "LOGISTIC_PORT": "0"})

    assert refused.exit_code == 2
    assert refusal in refused.stderr
    assert "LOGISTIC_PORT" not in refused.stderr
    assert "Traceback" not in refused.stderr
    assert refused.stdout == ""


def test_main_returns_the_exit_code_of_a_refusal(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["seed", "--workers", "none"]) == 2

    refusal = capsys.readouterr().err
    assert "Error: Invalid value for '--workers': a whole number is needed, not 'none'" in refusal


@pytest.mark.parametrize("path", [path for path in COMMANDS if path != ("keys",)], ids=" ".join)
def test_a_malformed_setting_is_one_line_and_exit_code_2(path: tuple[str, ...]) -> None:
    arguments = [*path, "--scope", "events:write"] if path == ("keys", "create") else list(path)
    if path == ("ingest",):
        arguments.append("-")
    refused = CliRunner().invoke(logistic, arguments, env={**ENVIRONMENT, "LOGISTIC_PORT": "0"})

    assert refused.exit_code == 2
    assert refused.stderr == ("logistic: LOGISTIC_PORT='0' must be a whole number of at least 1\n")


@pytest.mark.parametrize(("text", "least", "number"), [("0", 0, 0), ("7", 1, 7), ("0100", 1, 100)])
def test_whole_numbers_accepted(text: str, least: int, number: int) -> None:
    assert WholeNumber(least).convert(text, None, None) == number


@pytest.mark.parametrize(("text", "speed"), [("1", 1.0), ("600", 600.0), ("0.5", 0.5)])
def test_clock_speeds_accepted(text: str, speed: float) -> None:
    assert ClockSpeed().convert(text, None, None) == speed


def test_an_instant_keeps_its_offset() -> None:
    instant = Instant().convert("2026-11-25T07:59:00+08:00", None, None)

    assert instant == datetime(2026, 11, 25, 7, 59, tzinfo=timezone(timedelta(hours=8)))
    assert instant.utcoffset() == timedelta(hours=8)


@pytest.mark.parametrize(
    ("path", "defaults"),
    [
        (("migrate",), {}),
        (("recount",), {}),
        (
            ("seed",),
            {"orders": 100, "seed": None, "workers": None, "batch_size": 5_000, "days": 14},
        ),
        (("backtest-estimate",), {"train_until": None, "test_until": None, "as_json": False}),
        (("serve",), {"host": None, "port": None}),
        (("run",), {"host": None, "port": None, "no_scheduler": False, "no_dispatcher": False}),
        (("dispatcher",), {"metrics_port": None}),
        (("report",), {"slot": None}),
        (("scheduler",), {"clock_start": None, "clock_speed": 1.0, "metrics_port": None}),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, tuple) else "",
)
def test_the_defaults_of_the_options(path: tuple[str, ...], defaults: dict[str, object]) -> None:
    with _command(path).make_context(" ".join(path), []) as context:
        assert context.params == defaults
