"""Regenerate the committed canonical results: ``python -m sim.run.canonical`` (``make results``).

Each shipped scenario is run with its own seed and length; its summary, manifest and
figures go to ``results/<scenario>/``. ``tests/test_canonical.py`` fails when the code
no longer reproduces the committed summaries.

``results/MODEL_VERSION.json`` records the model version (:data:`sim.version.MODEL_VERSION`)
and a hash of each canonical summary. A summary may change only together with a new
model version: regenerating refuses to record changed summaries under the recorded
version, and the test suite checks the record against the committed files.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.run.outputs import run_scenario, write_results
from sim.scenario.load import shipped_scenarios
from sim.version import MODEL_VERSION

RESULTS_DIR = Path(__file__).resolve().parents[2] / "results"
RECORD_FILE = "MODEL_VERSION.json"
KEEP = (  # the bulky tables are left out of the repository
    "summary.json",
    "manifest.json",
    "timeseries.png",
    "money_flows.png",
    "wage_distribution.png",
    "campaigns.png",
)


@dataclass(frozen=True)
class VersionRecord:
    """The model version under which the canonical summaries were made, and their hashes.

    Attributes:
        model_version: The model version recorded with the summaries.
        summaries: Scenario name to the hash of its ``summary.json`` (see
            :func:`summary_hash`).
    """

    model_version: str
    summaries: dict[str, str]

    def to_json(self) -> str:
        """The record as written to ``results/MODEL_VERSION.json``."""
        body = {
            "model_version": self.model_version,
            "summaries": dict(sorted(self.summaries.items())),
        }
        return json.dumps(body, indent=2) + "\n"


def summary_hash(summary: dict[str, Any]) -> str:
    """SHA-256 of a summary's content, independent of key order and white space."""
    text = json.dumps(summary, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def committed_hashes(base: Path = RESULTS_DIR) -> dict[str, str]:
    """The hash of every ``<base>/<scenario>/summary.json``."""
    return {
        path.parent.name: summary_hash(json.loads(path.read_text(encoding="utf-8")))
        for path in sorted(base.glob("*/summary.json"))
    }


def read_record(base: Path = RESULTS_DIR) -> VersionRecord | None:
    """The recorded model version and hashes, or None when there is no record yet."""
    path = base / RECORD_FILE
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return VersionRecord(str(data["model_version"]), dict(data["summaries"]))


def version_problems(
    record: VersionRecord | None,
    hashes: dict[str, str],
    model_version: str = MODEL_VERSION,
    allow_new: bool = False,
) -> list[str]:
    """Why the committed summaries and the record disagree (empty when they agree).

    Args:
        record: What ``results/MODEL_VERSION.json`` says.
        hashes: The hashes of the committed summaries now.
        model_version: The model version of the code.
        allow_new: A scenario the record does not know yet is no change (a new scenario
            changes no earlier result, so it needs no bump: ``make results`` records it).
    """
    if record is None:
        return [f"no {RECORD_FILE}; run `make results` to record the model version"]
    changed = sorted(
        name
        for name in set(hashes) | set(record.summaries)
        if hashes.get(name) != record.summaries.get(name)
        and not (allow_new and name not in record.summaries)
    )
    if record.model_version != model_version:
        return [
            f"the model version is {model_version} but the canonical results were recorded "
            f"under {record.model_version}; run `make results` to record them again"
        ]
    if changed:
        return [
            f"canonical summary of {name} changed under model version {model_version}; "
            "bump MODEL_VERSION in sim/version.py (see its docstring), run `make results` "
            "and add a CHANGELOG entry"
            for name in changed
        ]
    return []


def regenerate(names: list[str] | None = None, base: Path = RESULTS_DIR) -> list[Path]:
    """Run the shipped scenarios (or those named) and write their results under ``base``.

    Returns:
        The folders written.
    """
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


def update_record(base: Path = RESULTS_DIR, model_version: str = MODEL_VERSION) -> list[str]:
    """Record the model version and summary hashes, unless summaries changed without a bump.

    Returns:
        The problems that kept the record unchanged (empty when it was written).
    """
    record = read_record(base)
    hashes = committed_hashes(base)
    if record is not None and record.model_version == model_version:
        problems = version_problems(record, hashes, model_version, allow_new=True)
        if problems:
            return problems
    (base / RECORD_FILE).write_text(VersionRecord(model_version, hashes).to_json())
    return []


def main(argv: list[str]) -> int:
    """Regenerate, then update the version record; exit 1 if a change needs a bump."""
    regenerate(argv or None)
    problems = update_record()
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
