"""The committed results/ summaries are what the code produces today."""

import json
import math

import pytest

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
    for figure in ("timeseries.png", "money_flows.png", "wage_distribution.png"):
        assert (committed.parent / figure).stat().st_size > 10_000
