"""The code that runs on a worker: one task in, one outcome out, never an exception.

Kept small on purpose: a Dask worker or a local worker process imports only this module
(and the model through :mod:`sim.run.outputs`). Workers never write files; the process that
planned the sweep stores every outcome, so a cluster needs no shared disk.
"""

from __future__ import annotations

import math
import os
import socket
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sim.scenario.schema import Scenario
from sim.sweeps.identity import code_version

LOADED_CODE = code_version()
"""The code version as this process imported it (a local worker inherits it from the
process it was forked from, so it describes the code actually loaded)."""


@dataclass(frozen=True)
class RunTask:
    """One run to execute, self-contained so that it can be sent to another process.

    Attributes:
        key: The run key (see :func:`sim.sweeps.identity.run_key`).
        scenario: The validated scenario, with every override applied.
        seed: The run's seed, derived from the sweep's master seed.
        replicate: The replicate number within its design point.
        params: The design point's parameter values.
        overrides: How to repeat it: ``clickfarm run <base> --seed S --set ...``.
        keep_summary: Whether the final metrics are stored.
        keep_series: Whether the per-step series is stored.
        code_version: What the planning machine runs; workers must match it.
    """

    key: str
    scenario: Scenario  # validated, with every override applied
    seed: int
    replicate: int
    params: dict[str, Any]
    overrides: tuple[str, ...]  # how to repeat it: clickfarm run <base> --seed S --set ...
    keep_summary: bool
    keep_series: bool
    code_version: str  # what the planning machine runs; workers must match it


@dataclass
class RunOutcome:
    """What became of one run.

    Attributes:
        key: The run key.
        ok: False when the run raised.
        metrics: Final metrics (headline, ledger check and per-campaign columns).
        series: The per-step table, when kept.
        error: One line describing the failure.
        detail: The traceback of the failure.
        wall_seconds: How long the run took.
        worker: ``host:pid`` of the process that ran it.
        code_version: The code version of that process.
    """

    key: str
    ok: bool
    metrics: dict[str, Any] = field(default_factory=dict)
    series: pd.DataFrame | None = None
    error: str | None = None
    detail: str | None = None
    wall_seconds: float = 0.0
    worker: str = ""
    code_version: str = ""


def worker_name() -> str:
    """``host:pid`` of this process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def execute_task(task: RunTask) -> RunOutcome:
    """Run one task. Any failure of the run itself comes back as ``ok=False``."""
    started = time.perf_counter()
    here = LOADED_CODE
    outcome = RunOutcome(key=task.key, ok=False, worker=worker_name(), code_version=here)
    if here != task.code_version:
        outcome.error = (
            f"this worker runs clickfarm {here}, the sweep was planned with "
            f"{task.code_version}; expected the same code on every worker"
        )
        return outcome
    try:
        from sim.run.outputs import run_scenario

        result = run_scenario(task.scenario, seed=task.seed)
        metrics = dict(result.summary["headline"])
        metrics["ledger_balanced"] = bool(result.summary.get("ledger_balanced", True))
        metrics["points_issued"] = int(result.summary.get("points_issued", 0))
        metrics.update(campaign_metrics(result.summary.get("campaigns", {})))
        outcome.metrics = metrics
        outcome.series = result.timeseries if task.keep_series else None
        outcome.ok = True
    except Exception as exc:  # a failing run is recorded, never fatal to the sweep
        outcome.error = f"{type(exc).__name__}: {exc}"
        outcome.detail = traceback.format_exc(limit=20)
    outcome.wall_seconds = time.perf_counter() - started
    return outcome


CAMPAIGN_FIELDS = {
    "delivered": int,
    "surviving": int,
    "spend": float,
    "cost_per_1000_surviving": float,
}
"""Per-campaign outcomes kept for every run, as ``campaign_<id>_<field>`` columns."""


def campaign_column(campaign: str, name: str) -> str:
    """The column name of one per-campaign outcome."""
    return f"campaign_{campaign}_{name}"


def campaign_metrics(campaigns: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Flat, fixed-type columns (a missing cost, when nothing survived, is NaN)."""
    out: dict[str, Any] = {}
    for cid, values in campaigns.items():
        for name, kind in CAMPAIGN_FIELDS.items():
            value = values.get(name)
            if value is None:
                out[campaign_column(cid, name)] = math.nan if kind is float else 0
            else:
                out[campaign_column(cid, name)] = kind(value)
    return out


def worker_code_version() -> str:
    """What a worker reports when asked (``Client.run``) before a sweep starts."""
    return LOADED_CODE
