"""The calibration kind of input file, for ``clickfarm validate`` and ``clickfarm schema``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.scenario.kinds import Checked, FileKind, model_schema, register


def _check(path: Path) -> Checked:
    from sim.calibrate.spec import load_calibration

    cal = load_calibration(path)
    fitted = sum(t.fit for t in cal.targets)
    held = len(cal.targets) - fitted
    names = ", ".join(p.key for p in cal.parameters)
    summary = (
        f"{cal.name}: {len(cal.parameters)} free parameter(s) ({names}), "
        f"{fitted} fitted and {held} held-out target(s)"
    )
    return Checked(kind="calibration", summary=summary, notes=[f"scenario: {cal.scenario_path}"])


def _schema() -> dict[str, Any]:
    from sim.calibrate.spec import CalibrationSpec

    return model_schema(CalibrationSpec, "clickfarm calibration")


register(
    FileKind(
        name="calibration",
        marks=frozenset({"targets", "method"}),
        check=_check,
        schema=_schema,
    )
)
