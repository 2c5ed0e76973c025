"""Run the ``clickfarm`` command line inside the test process (much faster than a subprocess)."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import pytest

from sim import cli


@dataclass
class Outcome:
    """What a command did: its exit code and what it printed."""

    code: int
    stdout: str
    stderr: str


def run_cli(capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch, *args) -> Outcome:
    """``clickfarm ARGS`` in this process; any exception other than an exit fails the test."""
    monkeypatch.setattr(sys, "argv", ["clickfarm", *map(str, args)])
    try:
        cli.main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    captured = capsys.readouterr()
    return Outcome(code, captured.out, captured.err)
