"""``clickfarm validate`` recognises each kind of file, and ``clickfarm schema --kind``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.scenario import kinds as kinds_module
from sim.scenario.errors import ScenarioError
from sim.scenario.kinds import Checked, FileKind, check_file, kinds, register
from tests.inprocess import run_cli as run_in_process

ROOT = Path(__file__).resolve().parents[1]
SWEEPS = sorted((ROOT / "scenarios" / "sweeps").glob("*.yaml"))
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))


def run_cli(capsys, monkeypatch, *args) -> tuple[int, str, str]:
    outcome = run_in_process(capsys, monkeypatch, *args)
    return outcome.code, outcome.stdout, outcome.stderr


@pytest.mark.parametrize("path", SWEEPS, ids=[p.stem for p in SWEEPS])
def test_shipped_sweep_files_validate_as_sweeps(path, capsys, monkeypatch):
    code, out, err = run_cli(capsys, monkeypatch, "validate", path)
    assert (code, err) == (0, ""), err
    first = out.splitlines()[0]
    assert (
        first.startswith("✓ sweep") and str(path.relative_to(ROOT)) in first or str(path) in first
    )
    assert "design over" in first
    assert "base scenario:" in out


def test_scenario_shows_its_kind_size_and_memory(capsys, monkeypatch):
    code, out, err = run_cli(capsys, monkeypatch, "validate", "fillon2017_points")
    assert (code, err) == (0, ""), err
    first, second = out.splitlines()[:2]
    assert first.startswith("✓ scenario fillon2017_points: ")
    assert "14 days, 2,000 workers, 3,000 accounts, 35 orders" in first
    assert "estimated peak memory of a run: about" in second and "MiB" in second


def test_memory_estimate_shown_grows_with_the_workforce(tmp_path, capsys, monkeypatch):
    small = (ROOT / "scenarios" / "baseline_microtask_market.yaml").read_text()
    big = small.replace("count: 600", "count: 3000000")
    paths = [tmp_path / "small.yaml", tmp_path / "big.yaml"]
    for path, text in zip(paths, (small, big), strict=True):
        path.write_text(text)
    code, out, _ = run_cli(capsys, monkeypatch, "validate", *paths)
    assert code == 0
    small_line, big_line = (line for line in out.splitlines() if "peak memory" in line)
    assert "MiB" in small_line and "GiB" in big_line


def test_a_file_of_no_kind_says_what_each_kind_found_wrong(tmp_path, capsys, monkeypatch):
    path = tmp_path / "notes.yaml"
    path.write_text("title: my notes\nowner: me\n")
    code, out, err = run_cli(capsys, monkeypatch, "validate", path)
    assert code == 2 and out == ""
    (line,) = err.strip().splitlines()
    assert line.startswith(f"✗ {path}: fits no kind of clickfarm file: it could be a scenario (")
    assert "or a sweep (" in line
    assert "description: required field is missing" in line
    assert "scenario: required field is missing" in line


def test_marks_decide_the_kind_so_errors_follow_that_kinds_rules(tmp_path, capsys, monkeypatch):
    sweep = tmp_path / "s.yaml"
    sweep.write_text("scenario: fillon2017_points\nseed: 1\ndesign: grid\nparameters: {}\n")
    code, _, err = run_cli(capsys, monkeypatch, "validate", sweep)
    assert code == 2
    assert "parameters: expected at least 1 item(s)" in err and "sweep" not in err.split(":")[0]


def test_an_explicit_kind_key_is_honoured(tmp_path):
    text = (ROOT / "scenarios" / "fillon2017_points.yaml").read_text()
    path = tmp_path / "x.yaml"
    path.write_text("kind: scenario\n" + text)
    assert check_file(path).kind == "scenario"
    path.write_text("kind: sweep\n" + text)  # declared a sweep: judged by the sweep's rules
    with pytest.raises(ScenarioError, match="scenario: required field is missing"):
        check_file(path)


def test_a_new_kind_is_added_by_registering_it(tmp_path, monkeypatch):
    monkeypatch.setattr(kinds_module, "_KINDS", dict(kinds()))
    seen = []

    def check(path: Path) -> Checked:
        seen.append(path)
        return Checked(kind="calibration", summary="3 targets")

    register(
        FileKind(
            name="calibration",
            marks=frozenset({"targets"}),
            check=check,
            schema=lambda: {"title": "clickfarm calibration"},
        )
    )
    path = tmp_path / "c.yaml"
    path.write_text("targets: [a, b, c]\n")
    assert check_file(path) == Checked(kind="calibration", summary="3 targets")
    assert seen == [path]
    assert "calibration" in kinds()


@pytest.mark.parametrize(
    ("kind", "title", "field"),
    [("scenario", "clickfarm scenario", "workers"), ("sweep", "clickfarm sweep", "parameters")],
)
def test_schema_prints_each_kinds_json_schema(kind, title, field, capsys, monkeypatch):
    code, out, _ = run_cli(capsys, monkeypatch, "schema", "--kind", kind)
    assert code == 0
    schema = json.loads(out)
    assert schema["title"] == title and field in schema["properties"]


def test_schema_defaults_to_scenarios_and_refuses_unknown_kinds(capsys, monkeypatch):
    code, out, _ = run_cli(capsys, monkeypatch, "schema")
    assert code == 0 and json.loads(out)["title"] == "clickfarm scenario"
    code, _, err = run_cli(capsys, monkeypatch, "schema", "--kind", "movie")
    assert code == 2 and "expected one of: scenario, sweep" in err


def test_all_shipped_files_at_once(capsys, monkeypatch):
    code, out, err = run_cli(capsys, monkeypatch, "validate", *SCENARIOS, *SWEEPS)
    assert (code, err) == (0, "")
    kinds_seen = [line.split()[1] for line in out.splitlines() if line.startswith("✓")]
    assert kinds_seen == ["scenario"] * len(SCENARIOS) + ["sweep"] * len(SWEEPS)
