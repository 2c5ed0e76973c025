"""Hostile and broken input: each is refused in one line, exit code 2, with nothing written.

The cases of issue 8 (sizes that cannot fit, unbounded reads, deep nesting, money that
would wrap, loose types, tiny days) and more of the same families. Most run the command
line in this process (``sim.cli.main``: fast); a few run it as a real process, to see what
a user's terminal shows.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sim.core.ledger import Ledger, LedgerOverflow
from sim.scenario.document import MAX_DEPTH, MAX_FILE_BYTES, MAX_TEXT_CHARS, MAX_VALUES
from tests.inprocess import Outcome, run_cli

ROOT = Path(__file__).resolve().parents[1]
BASE_TEXT = (ROOT / "scenarios" / "baseline_microtask_market.yaml").read_text(encoding="utf-8")
BASE = "baseline_microtask_market"


def assert_refused(outcome: Outcome, *fragments: str) -> str:
    """Exit 2, one line on stderr saying all ``fragments``, nothing else, no traceback."""
    assert outcome.code == 2, outcome
    lines = outcome.stderr.strip().splitlines()
    assert len(lines) == 1, outcome.stderr
    assert "Traceback" not in outcome.stderr + outcome.stdout
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def write(tmp_path: Path, text: str | bytes, name: str = "hostile.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def with_line(text: str, old: str, new: str) -> str:
    assert old in text, f"test setup: {old!r} not in the scenario"
    return text.replace(old, new, 1)


# ---------------------------------------------------------------------- files, both commands
HUNDRED_GROUPS = (
    BASE_TEXT.split("workers:\n")[0]
    + "workers:\n"
    + "".join(
        f"  - {{id: g{i}, count: 10000000, region: africa, recruiter: microtask_broker}}\n"
        for i in range(100)
    )
    + "campaigns:\n"
    + BASE_TEXT.split("campaigns:\n")[1]
)

HOURLY_FOR_TEN_YEARS = with_line(
    with_line(BASE_TEXT, "days: 14", "days: 3650"),
    "campaigns:\n",
    "campaigns:\n"
    + "".join(
        f"  - {{id: c{i}, client: c, recruiter: microtask_broker, audience_region: africa, "
        f"actions: {{like: 1}}, repeat: {{every_hours: 1}}}}\n"
        for i in range(12)
    ),
)

FILE_CASES = {
    # issue 8, 1: 100 groups of 10M workers were accepted as "1,000,000,100 workers"
    "a billion workers": (HUNDRED_GROUPS, ("workers:", "1,000,000,000 workers in all")),
    "too many orders": (
        HOURLY_FOR_TEN_YEARS,
        ("campaigns.", "orders over 3650 days; expected at most 1,000,000"),
    ),
    # issue 8, 2: a long list was refused only after minutes and gigabytes
    "too many values": (
        "title: t\nsources: [" + "x, " * (MAX_VALUES + 10) + "]\n",
        (f"more than {MAX_VALUES:,} values",),
    ),
    "a file over the byte limit": (
        "title: t\ndescription: |\n" + "  words words words\n" * (MAX_FILE_BYTES // 18),
        (f"larger than {MAX_FILE_BYTES:,} bytes",),
    ),
    # issue 8, 2: a 50 MB title was accepted and copied into every output
    "a huge text value": (
        with_line(BASE_TEXT, "title: Baseline micro-task market", "title: " + "x" * 20_000),
        (":1:", f"at most {MAX_TEXT_CHARS:,} characters"),
    ),
    "a long title": (
        with_line(BASE_TEXT, "title: Baseline micro-task market", "title: " + "x" * 300),
        (":1: title:", "at most 200 characters"),
    ),
    # issue 8, 3: ~600 levels gave a RecursionError traceback
    "deeply nested lists": (
        "title: t\nsources: " + "[" * 600 + "]" * 600 + "\n",
        (f"nested more than {MAX_DEPTH} deep",),
    ),
    "deeply nested mappings": (
        "title: t\nplatform: " + "{a: " * 600 + "1" + "}" * 600 + "\n",
        (f"nested more than {MAX_DEPTH} deep",),
    ),
    "deep block nesting": (
        "title: t\nsources:\n" + "".join("  " * i + "-\n" for i in range(1, 80)),
        (f"nested more than {MAX_DEPTH} deep",),
    ),
    "alias bomb": (
        "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
        "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
        "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
        "f: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n",
        ("YAML aliases",),
    ),
    "python object tag": (
        "title: !!python/object/apply:os.system [echo hi]\n",
        ("YAML tag '!!python/object/apply:os.system' is not allowed",),
    ),
    # issue 8, 5: loose types
    "quoted count": (
        with_line(BASE_TEXT, "count: 600", 'count: "600"'),
        ("workers.na_workers.count:", "expected a whole number, got '600'"),
    ),
    "boolean count": (
        with_line(BASE_TEXT, "count: 600", "count: true"),
        ("workers.na_workers.count:", "expected a whole number, got true"),
    ),
    "quoted money": (
        with_line(BASE_TEXT, "like: 0.02, follow: 0.02", 'like: "0.02", follow: 0.02'),
        ("recruiters.microtask_broker.pays.like:", "expected a number, got '0.02'"),
    ),
    "boolean money": (
        with_line(BASE_TEXT, "reservation_wage_per_hour: 2.35", "reservation_wage_per_hour: yes"),
        ("regions.north_america.reservation_wage_per_hour:", "expected a number, got true"),
    ),
    "quoted days": (
        with_line(BASE_TEXT, "days: 14", 'days: "14"'),
        ("days:", "expected a number, got '14'"),
    ),
    "boolean as text": (
        with_line(BASE_TEXT, "client: Consumer brand", "client: false"),
        ("campaigns.brand_page_growth.client:", "expected text, got false"),
    ),
    # issue 8, 9: typed days of 1e-320 were accepted
    "subnormal days": (
        with_line(BASE_TEXT, "days: 14", "days: 1.0e-320"),
        ("days:", "expected a number >= 0.041"),
    ),
    "days below one hour": (
        with_line(BASE_TEXT, "days: 14", "days: 0.01"),
        ("days:", "expected a number >= 0.041"),
    ),
    "negative count": (
        with_line(BASE_TEXT, "count: 600", "count: -1"),
        ("workers.na_workers.count:", "expected a number >= 0"),
    ),
    "zero-minute action": (
        BASE_TEXT + "actions: {like: {minutes: 1.0e-300, reach: 1}}\n",
        ("actions.like.minutes:", "expected a number >= 0.01"),
    ),
    "not-a-number days": (
        with_line(BASE_TEXT, "days: 14", "days: .nan"),
        ("days:", "expected a finite number, got nan"),
    ),
    "infinite money": (
        with_line(BASE_TEXT, "reservation_wage_per_hour: 2.35", "reservation_wage_per_hour: 1e400"),
        ("regions.north_america.reservation_wage_per_hour:", "finite number"),
    ),
    "a count beyond int64": (
        with_line(BASE_TEXT, "count: 600", "count: 99999999999999999999999999"),
        ("workers.na_workers.count:", "expected a number <= 10000000"),
    ),
    "a NUL byte": ("title: a\x00b\n", ("malformed YAML",)),
    "not UTF-8": (b"title: \xff\xfe\n", ("expected UTF-8 text",)),
    "binary junk": (bytes(range(256)) * 4, ("",)),
    "a list at the top": ("- a\n- b\n", ("expected a mapping",)),
    "an unknown kind": ("kind: movie\ntitle: t\n", (":1: kind:", "'movie'")),
}


@pytest.mark.parametrize("case", list(FILE_CASES))
def test_hostile_file_is_refused_by_validate_and_run(case, tmp_path, capsys, monkeypatch):
    text, says = FILE_CASES[case]
    path = write(tmp_path, text)
    line = assert_refused(run_cli(capsys, monkeypatch, "validate", path), *says)
    assert str(path) in line
    out = tmp_path / "out"
    assert_refused(run_cli(capsys, monkeypatch, "run", path, "--out", out, "-q"), *says)
    assert not out.exists(), "a refused run must not leave an output folder"
    assert [p.name for p in tmp_path.iterdir()] == [path.name], "nothing else written"


# ---------------------------------------------------------------------- overrides and sizes
RUN_CASES = {
    # issue 8, 4: money wrapped to -4e18 with ledger_balanced still true
    "platform ad profit wraps int64": (
        [
            "--set",
            "currency.minor_units=1000000000",
            "--set",
            "platform.users=1000",
            "--set",
            "platform.ad_profit_per_user_per_quarter=1000000000",
            "--days",
            "3",
        ],
        ("platform.ad_profit_per_user_per_quarter:", "ledger units", "64-bit"),
    ),
    "order price wraps int64": (
        [
            "--set",
            "currency.minor_units=1000000000",
            "--set",
            "campaigns.brand_page_growth.actions.like=1000000000",
            "--set",
            "campaigns.brand_page_growth.price_per_action.like=1000000",
        ],
        ("campaigns.brand_page_growth:", "ledger units", "64-bit"),
    ),
    "moderator wages wrap int64": (
        [
            "--set",
            "currency.minor_units=1000000000",
            "--set",
            "platform.moderation.moderators=100000",
            "--set",
            "platform.moderation.wage_per_hour=1000000000",
        ],
        ("platform.moderation.wage_per_hour:", "64-bit"),
    ),
    # issue 8, 1: one group of 10M workers passed validation and died with MemoryError
    "ten million workers over --max-memory": (
        ["--set", "workers.na_workers.count=9000000", "--max-memory", "2G"],
        ("workers:", "needs about", "more than the --max-memory limit (2.0 GiB)"),
    ),
    "quoted --set count": (
        ["--set", 'workers.na_workers.count="100"'],
        ("--set", "expected a whole number, got '100'"),
    ),
    "--set with a deep value": (
        ["--set", "sources=" + "[" * 100 + "]" * 100],
        (f"nested more than {MAX_DEPTH} deep",),
    ),
    "--set with a tag": (
        ["--set", "title=!!python/name:os.system"],
        ("is not allowed",),
    ),
    "--set into a plain value": (
        ["--set", "title.x.y=1"],
        ("title is a single value",),
    ),
    "--set a very long key": (
        ["--set", ".".join(["a"] * 5000) + "=1"],
        ("unknown field 'a'",),
    ),
    "--days below one hour": (["--days", "1e-320"], ("--days must be between 1/24",)),
    "bad --max-memory": (["--max-memory", "lots"], ("--max-memory 'lots'",)),
}


@pytest.mark.parametrize("case", list(RUN_CASES))
def test_hostile_run_options_are_refused(case, tmp_path, capsys, monkeypatch):
    args, says = RUN_CASES[case]
    out = tmp_path / "out"
    assert_refused(run_cli(capsys, monkeypatch, "run", BASE, *args, "--out", out, "-q"), *says)
    assert not out.exists()


def test_devices_pipes_and_folders_are_not_read(tmp_path, capsys, monkeypatch):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)  # opening it for reading would wait for a writer
    for target, says in (
        ("/dev/zero", "not a regular file"),
        (fifo, "not a regular file"),
        (tmp_path, "this is a folder"),
    ):
        assert_refused(run_cli(capsys, monkeypatch, "validate", target), says)
        out = tmp_path / "out"
        assert_refused(run_cli(capsys, monkeypatch, "run", target, "--out", out, "-q"), says)
        assert not out.exists()


def test_extends_cannot_reach_a_device(tmp_path, capsys, monkeypatch):
    (tmp_path / "zero.yaml").symlink_to("/dev/zero")
    child = write(tmp_path, "extends: zero.yaml\n", "child.yaml")
    assert_refused(run_cli(capsys, monkeypatch, "validate", child), ":1: extends:", "not found")


def test_a_long_set_value_is_refused(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    args = ("run", BASE, "--set", "title=" + "x" * 20_000, "--out", out)
    assert_refused(run_cli(capsys, monkeypatch, *args), "--set title=", "at most 10,000 characters")
    assert not out.exists()


def test_hostile_sweep_file_is_refused(tmp_path, capsys, monkeypatch):
    path = write(
        tmp_path,
        "scenario: fillon2017_points\nseed: 1\ndesign: grid\nparameters:\n"
        "  days: {values: " + "[" * 50 + "]" * 50 + "}\n",
    )
    assert_refused(run_cli(capsys, monkeypatch, "validate", path), "nested more than")


# ---------------------------------------------------------------------- the ledger itself
def test_ledger_refuses_to_wrap_a_balance():
    ledger = Ledger()
    a, b = ledger.open_block("workers", 2)
    big = 2**62
    ledger.transfer("money", 0, int(a), big, "pay")
    with pytest.raises(LedgerOverflow, match="outside the ledger's 64-bit range"):
        ledger.transfer("money", 0, int(a), big, "pay")  # a would reach 2**63
    with pytest.raises(LedgerOverflow):
        ledger.pay_many("money", 0, ledger.open_block("workers", 3), [big, big, big], "pay")
    assert ledger.balances["money"][a] == big, "a refused transfer changes nothing"
    ledger.check_balanced()


def test_ledger_sums_a_large_batch_exactly():
    """A batch whose int64 sum would wrap is summed exactly, and refused for the payer."""
    ledger = Ledger()
    payees = ledger.open_block("workers", 4)
    amounts = [2**62, 2**62, 2**62, 2**62]  # sums to 2**64: wraps to 0 in int64
    with pytest.raises(LedgerOverflow, match="-18,446,744,073,709,551,616"):
        ledger.pay_many("money", 0, payees, amounts, "pay")
    assert not ledger.balances["money"].any()


# ---------------------------------------------------------------------- real processes
def clickfarm(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sim", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )


def test_a_real_terminal_sees_one_line_for_dev_zero_deep_nesting_and_money(tmp_path):
    deep = write(tmp_path, FILE_CASES["deeply nested lists"][0])
    for args, says in (
        (("validate", "/dev/zero"), "not a regular file"),
        (("run", deep, "--out", tmp_path / "o", "-q"), "nested more than"),
        (
            ("run", BASE, *RUN_CASES["platform ad profit wraps int64"][0], "--out", tmp_path / "o"),
            "64-bit",
        ),
    ):
        proc = clickfarm(*args)
        assert proc.returncode == 2, proc
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert says in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "o").exists()
