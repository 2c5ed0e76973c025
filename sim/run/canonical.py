"""Regenerate the committed canonical results: ``python -m sim.run.canonical`` (``make results``).

Each shipped scenario is run with its own seed and length; its summary, manifest and
figures go to ``results/<scenario>/``. ``tests/test_canonical.py`` fails when the code
no longer reproduces the committed summaries.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sim.run.outputs import run_scenario, write_results
from sim.scenario.load import shipped_scenarios

RESULTS_DIR = Path(__file__).resolve().parents[2] / "results"
KEEP = (  # the bulky tables are left out of the repository
    "summary.json",
    "manifest.json",
    "timeseries.png",
    "money_flows.png",
    "wage_distribution.png",
)


def regenerate(names: list[str] | None = None, base: Path = RESULTS_DIR) -> list[Path]:
    written = []
    for name, path in shipped_scenarios().items():
        if names and name not in names:
            continue
        result = run_scenario(path)
        # committed provenance must not change when nothing else does: keep the scenario,
        # seed and versions, drop the machine- and moment-specific fields
        result.manifest["scenario_file"] = f"scenarios/{path.name}"
        for volatile in ("wall_seconds", "created_utc", "command", "git"):
            result.manifest.pop(volatile, None)
        folder = write_results(result, base / name)
        for extra in folder.iterdir():  # the bulky tables are not committed
            if extra.name not in KEEP:
                extra.unlink()
        written.append(folder)
        print(f"{name}: {folder}")
    return written


if __name__ == "__main__":
    regenerate(sys.argv[1:] or None)
