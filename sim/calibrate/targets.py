"""The model's counterpart of each target, computed from a finished run's outputs.

Only the run's public tables are read (``RunResult.agents`` and ``RunResult.summary``),
so a target keeps its meaning when the model's internals change. Worker measures use the
human workers (``kind == "micro_worker"``), optionally only some groups.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.calibrate.spec import TargetSpec

HOURS_PER_WEEK = 168.0
DAYS_PER_YEAR = 365.0


def hourly_pay(money: np.ndarray, hours: np.ndarray, statistic: str) -> float:
    """Pay per hour of workers who worked: pooled (total over total), mean or median."""
    worked = hours > 0
    if not worked.any():
        return math.nan
    if statistic == "pooled":
        return float(money[worked].sum() / hours[worked].sum())
    rates = money[worked] / hours[worked]
    return float(np.mean(rates) if statistic == "mean" else np.median(rates))


def share_in_band(hours_per_week: np.ndarray, at_least: float, below: float) -> float:
    """Share of workers whose hours online per week lie in ``[at_least, below)``."""
    if hours_per_week.size == 0:
        return math.nan
    inside = (hours_per_week >= at_least) & (hours_per_week < below)
    return float(inside.mean())


def income_per_year(money: np.ndarray, days: float) -> float:
    """Mean earnings per worker, scaled from the run's length to a year."""
    if money.size == 0 or days <= 0:
        return math.nan
    return float(money.mean() * DAYS_PER_YEAR / days)


def campaign_figure(campaign: dict, name: str) -> float:
    """One figure of a campaign's summary, by name.

    ``delivered_share`` is delivered / ordered and ``workers_share`` the part of its
    spend that reached the workers; both are NaN when the denominator is zero.
    """
    if name == "delivered_share":
        ordered = campaign["ordered"]
        return campaign["delivered"] / ordered if ordered else math.nan
    if name == "workers_share":
        spend = campaign["spend"]
        return campaign["money_destinations"].get("workers", 0.0) / spend if spend else math.nan
    value = campaign[name]
    return math.nan if value is None else float(value)


def _workers(agents: pd.DataFrame, groups: list[str] | None) -> pd.DataFrame:
    humans = agents[agents["kind"] == "micro_worker"]
    return humans[humans["group"].isin(groups)] if groups else humans


def compute_target(target: TargetSpec, agents: pd.DataFrame, summary: dict) -> float:
    """The run's value of one target (NaN when the run has nothing to measure)."""
    if target.measure == "headline":
        value = summary["headline"][target.field]
        return math.nan if value is None else float(value)
    if target.measure == "campaign":
        return campaign_figure(summary["campaigns"][target.campaign], target.field)
    workers = _workers(agents, target.groups)
    money = workers["money_earned"].to_numpy(dtype=float)
    online = workers["hours_online"].to_numpy(dtype=float)
    if target.measure == "hourly_pay":
        # surveys ask people who work: those who did at least one task (as the summary's
        # hourly pay); people who only looked and found nothing are left out
        did = workers["tasks_done"].to_numpy() > 0
        unpaid = workers["hours_unpaid"].to_numpy()
        hours = online if target.hours == "online" else online - unpaid
        return hourly_pay(money[did], hours[did], target.statistic)
    days = float(summary["days"])
    if target.measure == "share_of_workers":
        band = target.online_hours_per_week
        return share_in_band(online * 7 / days, band.at_least, band.below)
    if target.measure == "income_per_year":
        return income_per_year(money, days)
    raise ValueError(f"unknown measure {target.measure!r}")  # the schema allows no other


def compute_targets(
    targets: list[TargetSpec], agents: pd.DataFrame, summary: dict
) -> dict[str, float]:
    """Every target's value for one run (``RunResult.agents`` and ``.summary``), by name."""
    return {t.name: compute_target(t, agents, summary) for t in targets}


def distance(simulated: dict[str, float], targets: list[TargetSpec]) -> float:
    """Root mean square of (simulated - value) / tolerance over the given targets.

    A target the run could not measure (NaN) makes the distance infinite: such a point
    is never accepted.
    """
    total = 0.0
    for t in targets:
        x = simulated[t.name]
        if not math.isfinite(x):
            return math.inf
        total += ((x - t.value) / t.tolerance) ** 2
    return math.sqrt(total / len(targets))


def matched(value: float, target: TargetSpec) -> bool:
    """Whether a simulated value lies within the target's tolerance."""
    return math.isfinite(value) and abs(value - target.value) <= target.tolerance
