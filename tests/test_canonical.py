"""The committed results/ summaries are what the code produces today."""

import json
import math

import pytest

import sim
from sim.run.outputs import run_scenario

from .conftest import ROOT, SCENARIOS


def _close(a, b, path="summary"):
    if isinstance(a, dict):
        assert set(a) == set(b), f"{path}: keys differ"
        for key in a:
            _close(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _close(x, y, f"{path}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), f"{path}: {a} != {b}"
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


@pytest.mark.parametrize("name", SCENARIOS)
def test_committed_summary_matches_the_code(name):
    committed = ROOT / "results" / name / "summary.json"
    assert committed.exists(), f"no committed results for {name}; run `make results`"
    fresh = run_scenario(ROOT / "scenarios" / f"{name}.yaml").summary
    _close(json.loads(json.dumps(fresh)), json.loads(committed.read_text()))
    for figure in ("timeseries.png", "money_flows.png", "wage_distribution.png", "campaigns.png"):
        assert (committed.parent / figure).stat().st_size > 10_000


def test_model_version_record_matches_the_committed_summaries():
    from sim.run.canonical import committed_hashes, read_record, version_problems

    assert version_problems(read_record(), committed_hashes()) == []


def test_a_summary_that_changes_without_a_model_version_bump_is_caught(tmp_path):
    import shutil

    from sim.run.canonical import committed_hashes, read_record, update_record, version_problems

    base = tmp_path / "results"
    shutil.copytree(ROOT / "results", base, ignore=shutil.ignore_patterns("*.png", "sweeps"))
    version = read_record(base).model_version
    path = base / SCENARIOS[0] / "summary.json"
    summary = json.loads(path.read_text())
    summary["headline"]["total_delivered"] += 1  # what a behaviour change would do
    path.write_text(json.dumps(summary, indent=2))

    problems = version_problems(read_record(base), committed_hashes(base), version)
    assert len(problems) == 1 and SCENARIOS[0] in problems[0] and "bump" in problems[0]
    assert update_record(base, version) == problems, "make results must refuse to record it"
    assert version_problems(read_record(base), committed_hashes(base), version) == problems


def test_a_new_scenario_is_recorded_without_a_bump_but_an_unrecorded_one_is_caught(tmp_path):
    import shutil

    from sim.run.canonical import committed_hashes, read_record, update_record, version_problems

    base = tmp_path / "results"
    shutil.copytree(ROOT / "results", base, ignore=shutil.ignore_patterns("*.png", "sweeps"))
    version = read_record(base).model_version
    shutil.copytree(base / SCENARIOS[0], base / "a_new_scenario")
    problems = version_problems(read_record(base), committed_hashes(base), version)
    assert len(problems) == 1 and "a_new_scenario" in problems[0]
    assert update_record(base, version) == []  # a new scenario changes no earlier result
    assert "a_new_scenario" in read_record(base).summaries
    assert version_problems(read_record(base), committed_hashes(base), version) == []

    bumped = version + ".1"
    assert (
        "record them again"
        in version_problems(read_record(base), committed_hashes(base), bumped)[0]
    )
    assert update_record(base, bumped) == []
    assert version_problems(read_record(base), committed_hashes(base), bumped) == []


def test_version_is_printed_and_recorded_in_every_manifest(python):
    import subprocess

    from sim.version import MODEL_VERSION

    shown = subprocess.run(
        [python, "-m", "sim", "--version"], capture_output=True, text=True, timeout=60
    )
    assert shown.returncode == 0
    assert shown.stdout.strip() == f"clickfarm {sim.__version__} (model {MODEL_VERSION})"
    manifest = run_scenario("bots_vs_click_workers", days=0.25).manifest
    assert manifest["model_version"] == MODEL_VERSION
    for name in SCENARIOS:
        committed = json.loads((ROOT / "results" / name / "manifest.json").read_text())
        assert committed["model_version"] == MODEL_VERSION
