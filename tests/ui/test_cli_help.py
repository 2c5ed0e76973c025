"""``clickfarm <command> --help`` as a user reads it: flags take no value, so none is shown."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from sim.cli import app

COMMANDS = [info.name or info.callback.__name__ for info in app.registered_commands]


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_lists_flags_without_a_value(command):
    args = ["--help"] if command is None else [command, "--help"]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    help_line = next(line for line in result.output.splitlines() if "--help" in line)
    assert re.search(r"--help\s+Show this message and exit", help_line), help_line
    assert "<bool>" not in result.output


def test_the_ui_command_is_among_those_checked():
    assert "ui" in COMMANDS and "run" in COMMANDS


def test_a_flag_still_refuses_a_value():
    result = CliRunner().invoke(app, ["run", "baseline_microtask_market", "--quiet=yes"])
    assert result.exit_code == 2
    assert "does not take a value" in result.output
