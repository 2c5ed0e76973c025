"""Run a scenario to the end and turn the model into tables, a summary and a manifest.

This layer sits between the model core and the front ends (CLI, notebooks, sweeps): it
never draws figures itself and never prints.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.core.metrics import FALSE_POSITIVES
from sim.core.model import ClickFarmModel
from sim.core.records import AccountHour
from sim.core.rules import TIERS
from sim.run.headline import HEADLINE
from sim.scenario.load import ScenarioSource, load_scenario, resolved_dict, source_file
from sim.scenario.schema import ACTION_TYPES
from sim.version import MODEL_VERSION

DEPENDENCIES = ("mesa", "numpy", "pandas", "pyarrow", "pydantic", "matplotlib", "pyyaml")


@dataclass
class RunResult:
    """Everything one finished run produced, as returned by :func:`run_scenario`.

    Attributes:
        model: The model after its last step, for inspecting agents and the ledger.
        timeseries: One row per simulated hour, with the model reporters as columns.
        agents: Final state of every agent, one row each.
        flows: Every money and points transfer, summed by payer, payee and purpose.
        summary: The headline outcomes (what ``summary.json`` holds).
        manifest: Provenance: scenario, seed, overrides, model and package versions.
    """

    model: ClickFarmModel
    timeseries: pd.DataFrame
    agents: pd.DataFrame
    flows: pd.DataFrame
    summary: dict[str, Any]
    manifest: dict[str, Any]

    @property
    def rates(self) -> pd.DataFrame:
        """Every recruiter's posted pay and price per action over the run."""
        return rates_frame(self.model)

    @property
    def detector(self) -> pd.DataFrame:
        """The detector's bias and weights at the end of every hour."""
        return detector_frame(self.model)

    @property
    def accounts(self) -> pd.DataFrame:
        """The account market hour by hour (no rows when the scenario has none)."""
        return accounts_frame(self.model)


def build_model(
    scenario: ScenarioSource,
    *,
    seed: int | None = None,
    days: float | None = None,
    steps: int | None = None,
    overrides: list[str] | None = None,
) -> ClickFarmModel:
    """Load a scenario, apply overrides and the run length, and build its model (not run).

    Args:
        scenario: Any scenario source ``load_scenario`` takes: a shipped name, a path,
            YAML text, a mapping or a validated scenario.
        seed: Random seed; default the scenario's own.
        days: Simulated days, overriding the scenario's.
        steps: Simulated hours, an alternative to ``days``.
        overrides: ``dotted.key=value`` assignments, as with ``clickfarm run --set``.

    Returns:
        A model ready to step.

    Raises:
        ScenarioError: The scenario or an override is invalid (one line with file and field).
    """
    assignments = list(overrides or [])
    if days is not None:
        assignments.append(f"days={days}")
    if steps is not None:
        assignments.append(f"days={steps / 24!r}")
    return ClickFarmModel(load_scenario(scenario, assignments), rng=seed)


def run_scenario(
    scenario: ScenarioSource,
    *,
    seed: int | None = None,
    days: float | None = None,
    steps: int | None = None,
    overrides: list[str] | None = None,
    on_step: Callable[[int, int], None] | None = None,
) -> RunResult:
    """Run a scenario to its end and return its tables (the Python twin of ``clickfarm run``).

    >>> result = run_scenario("bots_vs_click_workers", days=1)
    >>> result.timeseries["total_delivered"].iloc[-1] > 0
    True
    """
    started = time.perf_counter()
    model = build_model(scenario, seed=seed, days=days, steps=steps, overrides=overrides)
    while model.running:
        model.step()
        if on_step is not None:
            on_step(model.steps, model.max_steps)
    wall = time.perf_counter() - started
    timeseries = timeseries_frame(model)
    summary = summarise(model, timeseries)
    source = source_file(scenario)
    manifest = build_manifest(model, source, overrides or [], wall)
    return RunResult(
        model=model,
        timeseries=timeseries,
        agents=agents_frame(model),
        flows=pd.DataFrame(model.ledger.flows_table()),
        summary=summary,
        manifest=manifest,
    )


def timeseries_frame(model: ClickFarmModel) -> pd.DataFrame:
    """The model reporters as a table: one row per step, with ``step`` and ``seed`` in front."""
    df = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    df.insert(0, "step", np.arange(len(df), dtype=np.int64))  # row 0: the initial state
    df.insert(1, "seed", model.seed if model.seed is not None else -1)
    for col in ("hour", "day"):
        df[col] = df[col].astype(np.int64)
    return df


def detector_frame(model: ClickFarmModel) -> pd.DataFrame:
    """The detector hour by hour: ``hour`` (hours simulated), ``bias`` and each weight.

    Retraining and ``detector`` events move it; written as ``detector.csv`` when the
    scenario retrains its detector.
    """
    rows = [{"hour": h + 1, "bias": b, **w} for h, b, w in model.moderation.history]
    return pd.DataFrame(rows, columns=["hour", "bias", *model.moderation.weights])


def rates_frame(model: ClickFarmModel) -> pd.DataFrame:
    """Rate cards over time: one row per change of a recruiter's pay or price."""
    s, money = model.spec, model.money
    rows = [
        {
            "hour": c.hour,
            "recruiter": s.recruiters[c.recruiter].id,
            "pricing": s.recruiters[c.recruiter].pricing.rule,
            "action": ACTION_TYPES[c.action],
            "worker_pay": money(c.worker_pay),
            "influencer_pay": money(c.influencer_pay),
            "price_quoted": money(c.price),
            "survival_estimate": round(c.survival, 9),
        }
        for c in model.market.rate_history
    ]
    columns = ["hour", "recruiter", "pricing", "action", "worker_pay", "influencer_pay"]
    return pd.DataFrame(rows, columns=[*columns, "price_quoted", "survival_estimate"])


ACCOUNT_RENAMED = {"created": "made", "stock": "for_sale"}
"""``AccountHour`` fields under the names ``accounts.csv`` gives them."""
ACCOUNT_MONEY = ("sales", "profile_sales", "buybacks", "creation_cost", "price_new", "price_mean")


def accounts_frame(model: ClickFarmModel) -> pd.DataFrame:
    """The account market over time (``accounts.csv``): one row per hour, money in major units.

    The columns are the fields of ``AccountHour``: ``price_new`` is the listed price of a
    new account, ``price_mean`` the mean listed price of the stock (``for_sale``); ``sold``
    counts sales to farms, ``profiles`` fake profiles that a campaign bought and that
    became accounts. No rows when the scenario has no account market.
    """
    names = [f.name for f in dataclasses.fields(AccountHour)]
    am = model.account_market
    rows = [(hour, *dataclasses.astuple(r)) for hour, r in am.history] if am else []
    frame = pd.DataFrame(rows, columns=["hour", *names])
    for name in ACCOUNT_MONEY:
        frame[name] = (frame[name] / model.scale).round(9)
    frame["scarcity"] = frame["scarcity"].round(9)
    return frame.rename(columns=ACCOUNT_RENAMED)


def account_summary(model: ClickFarmModel) -> dict[str, Any]:
    """The account market's outcomes for ``summary.json`` (lifetimes, resales, prices)."""
    am = model.account_market
    t, money = am.total, model.money

    def spread(hours: np.ndarray) -> dict[str, Any]:
        if not hours.size:
            return {"banned": 0, "mean": None, "p10": None, "median": None, "p90": None}
        p10, median, p90 = np.percentile(hours, [10, 50, 90])
        return {
            "banned": int(hours.size),
            "mean": round(float(hours.mean()), 6),
            "p10": round(float(p10), 6),
            "median": round(float(median), 6),
            "p90": round(float(p90), 6),
        }

    sold = am.registry.sold
    times = np.bincount(sold) if sold.size else np.zeros(0, dtype=np.int64)
    prices = [r.price_new for _, r in am.history]
    return {
        "made": t.created,
        "started": t.started,
        "sold_to_farms": t.sold,
        "sold_aged": t.sold_aged,
        "bought_back": t.bought_back,
        "profiles_from_campaigns": t.profiles,
        "for_sale_at_end": int(am.stock_ident.size),
        "times_sold": {str(k): int(v) for k, v in enumerate(times) if v},
        "lifetime_hours": spread(am.lifetimes()),
        "lifetime_hours_made_in_run": spread(am.lifetimes(made_in_run=True)),
        "sales": money(t.sales),
        "profile_sales": money(t.profile_sales),
        "buybacks": money(t.buybacks),
        "creation_cost": money(t.creation_cost),
        "price_new_first": money(prices[0]) if prices else None,
        "price_new_max": money(max(prices)) if prices else None,
        "price_new_last": money(prices[-1]) if prices else None,
    }


def agents_frame(model: ClickFarmModel) -> pd.DataFrame:
    """Final per-agent state: one row per worker or bot, then the other agent kinds."""
    w, acc, s = model.workers, model.accounts, model.spec
    earned = model.ledger.balances["money"][model.worker_accounts] / model.scale
    lost = acc.banned & ~acc.retired  # retired: sold back, not banned
    banned = np.bincount(acc.owner[lost], minlength=w.size) if w.size else np.zeros(0)
    owned = np.bincount(acc.owner, minlength=w.size) if w.size else np.zeros(0)
    hours = w.hours_online
    frame = pd.DataFrame(
        {
            "agent_id": [a.unique_id for a in model.worker_agents],
            "kind": np.where(w.is_bot, "bot", "micro_worker"),
            "group": [s.workers[g].id for g in w.group],
            "region": np.array(model.region_ids, dtype=object)[w.region] if w.size else [],
            "recruiter": [s.recruiters[model.leaves[m]].id for m in w.market],
            "influencer": w.community,
            "speed": w.speed,
            "activity": w.activity,
            "accounts": owned,
            "accounts_banned": banned,
            "tasks_done": w.tasks_done,
            "actions_removed": w.actions_removed,
            "money_earned": earned,
            "points": w.points,
            "hours_online": hours,
            "hours_unpaid": w.hours_unpaid,
            "effective_hourly_pay": np.divide(earned, hours, out=np.zeros(w.size), where=hours > 0),
            "fatigue": w.fatigue,
            "enrolled": w.enrolled,  # in the workforce at the end (turnover, ODD 7.27)
        }
    )
    others = []
    bal = model.ledger.balances["money"]
    for a in model.recruiter_agents:
        others.append(
            {
                "agent_id": a.unique_id,
                "kind": "recruiter",
                "group": a.recruiter_id,
                "money_earned": bal[model.recruiter_account[a.index]] / model.scale,
            }
        )
    for a in model.influencer_agents:
        others.append(
            {
                "agent_id": a.unique_id,
                "kind": "influencer",
                "group": a.network,
                "influencer": a.index,
                "tasks_done": int(model.influencer_relays[a.index]),
                "money_earned": bal[model.influencer_accounts[a.index]] / model.scale,
            }
        )
    for a in model.moderator_agents:
        others.append(
            {
                "agent_id": a.unique_id,
                "kind": "moderator",
                "group": "moderators",
                "tasks_done": a.reviews,
                "money_earned": bal[model.moderator_accounts[a.index]] / model.scale,
            }
        )
    if others:
        frame = pd.concat([frame, pd.DataFrame(others)], ignore_index=True)
    return frame


def campaign_table(model: ClickFarmModel) -> dict[str, dict[str, Any]]:
    """Outcomes per campaign (all its placements and re-orders together)."""
    out: dict[str, dict[str, Any]] = {}
    market = model.market
    for ci, c in enumerate(model.spec.campaigns):
        orders = [o for o in model.orders if o.campaign == ci]
        ordered = sum(int(o.quantities.sum()) for o in orders)
        delivered = sum(int(o.delivered.sum()) for o in orders)
        refilled = sum(int(p.refilled.sum()) for o in orders for p in o.pools)
        removed = sum(int(p.removed.sum()) for o in orders for p in o.pools)
        expired = sum(int(p.expired.sum()) for o in orders for p in o.pools)
        spent = sum(o.spent for o in orders)
        surviving = delivered + refilled - removed
        fill_hours = [
            o.completed_hour - o.start + 1 for o in orders if o.completed_hour is not None
        ]
        by_recruiter: dict[str, dict[str, int]] = {}
        for o in orders:
            row = by_recruiter.setdefault(
                model.spec.recruiters[o.recruiter].id,
                {"orders": 0, "ordered": 0, "delivered": 0, "removed": 0},
            )
            row["orders"] += 1
            row["ordered"] += int(o.quantities.sum())
            row["delivered"] += int(o.delivered.sum())
            row["removed"] += sum(int(p.removed.sum()) for p in o.pools)
        out[c.id] = {
            "client": c.client,
            "placements": len({o.placement for o in orders}),
            "reorders": sum(market.placements[i].reorders for i in {o.placement for o in orders}),
            "ordered": ordered,
            "delivered": delivered,
            "share_delivered": round(delivered / ordered, 9) if ordered else None,
            "expired": expired,
            "share_expired": round(expired / ordered, 9) if ordered else None,
            "refused": int(market.refused_by_campaign.get(ci, 0)),
            "orders_filled": len(fill_hours),
            "median_hours_to_fill": float(np.median(fill_hours)) if fill_hours else None,
            "refilled": refilled,
            "removed": removed,
            "surviving": surviving,
            "spend": model.money(spent),
            "cost_per_1000_surviving": round(model.money(spent) * 1000 / surviving, 6)
            if surviving > 0
            else None,
            "objectives_reached": sum(o.objective_reached for o in orders) if c.objective else None,
            "by_recruiter": by_recruiter,
            "money_destinations": money_destinations(model, c.id),
        }
    return out


SPENDING_PURPOSES = {
    "order price",
    "sub-contract",
    "task pay",
    "influencer pay",
    "bot software",
    "promotion",
    "into escrow",
    "escrow release",
    "escrow refund",
    "pay held",
    "pay withheld",
    "tactic cost",
}


def money_destinations(model: ClickFarmModel, campaign: str | None = None) -> dict[str, float]:
    """Where the clients' money ended up: what each tier kept of the order payments.

    With ``campaign``, only that campaign's money. Refunds to clients reduce the total; the
    values add up exactly to the clients' net spend.
    """
    net: dict[str, int] = {}
    for (tag, unit, src, dst, purpose), amount in model.ledger.tagged_flows.items():
        if unit != "money" or purpose not in SPENDING_PURPOSES:
            continue
        if campaign is not None and tag != campaign:
            continue
        if src != "clients":
            net[src] = net.get(src, 0) - amount
        if dst != "clients":
            net[dst] = net.get(dst, 0) + amount
    return {DESTINATION_LABELS.get(k, k): model.money(v) for k, v in net.items() if v}


DESTINATION_LABELS = {
    "recruiters": "recruiters (margins)",
    "influencers": "influencers",
    "workers": "workers",
    "platform": "platform (promotion)",
    "world": "outside suppliers (software, accounts)",
    "escrow": "still in escrow",
    "held": "workers' pay still on hold",
    "account makers": "account makers",
}


def summarise(model: ClickFarmModel, timeseries: pd.DataFrame) -> dict[str, Any]:
    """The headline outcomes of a finished model, as plain JSON-ready values.

    Args:
        model: The model after its last step.
        timeseries: Its :func:`timeseries_frame`.

    Returns:
        The contents of ``summary.json``: scenario, seed, length, headline metrics,
        per-campaign outcomes, where the money went and whether the ledger balances.
    """
    headline = {k: _plain(timeseries[k].iloc[-1]) for k in HEADLINE}
    tiers = model.ledger.tier_net("money", model.ledger.total_flows)
    summary = {
        "scenario": model.spec.title,
        "seed": model.seed,
        "steps": int(model.steps),
        "days": model.steps / 24,
        "currency": model.spec.currency.code,
        "headline": headline,
        "campaigns": campaign_table(model),
        "money_destinations": money_destinations(model),
        "net_income_by_tier": {k: model.money(v) for k, v in sorted(tiers.items())},
        "points_issued": int(
            sum(a for (u, *_r), a in model.ledger.total_flows.items() if u == "points")
        ),
        "ledger_balanced": bool(all(int(b.sum()) == 0 for b in model.ledger.balances.values())),
        "events": [
            {"id": e.id, "hour": e.hour, "kind": e.kind, "effect": e.effect}
            for e in model.timeline.applied
        ],
        "tactics": [
            {
                "hour": c.hour,
                "recruiter": model.spec.recruiters[c.recruiter].id,
                "tactic": c.tactic,
                "removal_rate": round(float(c.removal_rate), 9),
            }
            for c in model.market.tactic_history
        ],
        "actions": list(ACTION_TYPES),
        **_learning_summary(model, timeseries),
        **workforce_summary(model, timeseries),
        **({"cascades": cascade_summary(model)} if model.influencers.cascade else {}),
    }
    if model.account_market is not None:  # only then: other scenarios' summaries are unchanged
        summary["accounts"] = account_summary(model)
        for name in ("total_accounts_sold", "total_account_sales", "account_sales_share_of_spend"):
            summary["headline"][name] = _plain(timeseries[name].iloc[-1])
    return summary


def cascades_frame(model: ClickFarmModel) -> pd.DataFrame | None:
    """One row per relay on a follower network: hour, influencer, followers reached, depth.

    ``reached`` counts the followers the cascade brought beyond the influencer's own
    community; ``depth`` is the hop of the farthest (0: the call went no further).
    None when the scenario has no follower network.
    """
    cascade = model.influencers.cascade
    if cascade is None:
        return None
    return pd.DataFrame(
        {k: cascade.log.column(k) for k in ("hour", "influencer", "reached", "depth")}
    )


def cascade_summary(model: ClickFarmModel) -> dict[str, Any]:
    """Cascade sizes and depths over the run, and the share of engagement they brought.

    Sizes are binned by powers of two (``"0"``, ``"1"``, ``"2-3"``, ``"4-7"``, ...): the
    distribution is heavy-tailed on preferential-attachment networks.
    """
    cascade = model.influencers.cascade
    sizes, depth = cascade.log.column("reached"), cascade.log.column("depth")
    st = model.metric_state
    bins: dict[str, int] = {}
    if sizes.size:
        bins["0"] = int((sizes == 0).sum())
        top = int(sizes.max()).bit_length()
        for b in range(top):
            lo, hi = 2**b, 2 ** (b + 1) - 1
            bins[str(lo) if lo == hi else f"{lo}-{hi}"] = int(((sizes >= lo) & (sizes <= hi)).sum())
    quantiles = np.percentile(sizes, [50, 90, 99]) if sizes.size else np.zeros(3)
    return {
        "follower_ties": cascade.ties,
        "relays": int(sizes.size),
        "followers_reached": int(sizes.sum()),
        "size_mean": round(float(sizes.mean()), 9) if sizes.size else 0.0,
        "size_median": round(float(quantiles[0]), 9),
        "size_p90": round(float(quantiles[1]), 9),
        "size_p99": round(float(quantiles[2]), 9),
        "size_max": int(sizes.max()) if sizes.size else 0,
        "size_histogram": bins,
        "depth_counts": {
            str(d): int((depth == d).sum()) for d in range(int(depth.max(initial=0)) + 1)
        },
        "actions_from_cascades": int(st.cascade_actions),
        "share_of_engagement": round(st.cascade_actions / max(st.delivered, 1), 9),
    }


def uses_turnover(model: ClickFarmModel) -> bool:
    """Whether the scenario has turnover, learning or qualifications (docs/ODD.md 7.27)."""
    s = model.spec
    return any(g.turnover is not None or g.learning is not None for g in s.workers) or any(
        c.min_experience_tasks > 0 for c in s.campaigns
    )


def workforce_summary(model: ClickFarmModel, timeseries: pd.DataFrame) -> dict[str, Any]:
    """The ``workforce`` block of a summary: churn, tiers, speed and qualified work.

    Empty (no block) for a scenario without turnover, learning or qualifications, so their
    summaries are as before.
    """
    if not uses_turnover(model):
        return {}
    days = model.steps / 24
    last = timeseries.iloc[-1]
    tiers = {
        name: {"workers": int(n), "share": _plain(last[f"share_{name}"])}
        for name, n in zip(TIERS, model.turnover.tier_counts, strict=True)
    }
    return {
        "workforce": {
            "enrolled_start": int(timeseries["workers_enrolled"].iloc[0]),
            "enrolled_end": int(last["workers_enrolled"]),
            "joined": int(last["total_joined"]),
            "left": int(last["total_left"]),
            "joined_per_day": round(float(last["total_joined"]) / days, 9),
            "left_per_day": round(float(last["total_left"]) / days, 9),
            "tiers_last_7_days": tiers,
            "mean_speed_start": _plain(timeseries["mean_speed"].iloc[0]),
            "mean_speed_end": _plain(last["mean_speed"]),
            "share_qualified_tasks": _plain(last["share_qualified_tasks"]),
            "remembered_hourly_earnings": _plain(last["remembered_hourly_earnings"]),
        }
    }


def _learning_summary(model: ClickFarmModel, timeseries: pd.DataFrame) -> dict[str, Any]:
    """False positives (with genuine users) and the detector's refits (with retraining)."""
    out: dict[str, Any] = {}
    if model.organic is not None:
        last = timeseries.iloc[-1]
        out["false_positives"] = {k: _plain(last[k]) for k in FALSE_POSITIVES}
    if model.moderation.trainer is not None:
        out["detector"] = {
            "refits": model.moderation.trainer.refits,
            "final_weights": {k: round(v, 9) for k, v in model.moderation.weights.items()},
        }
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return round(float(value), 9)
    return value


def build_manifest(
    model: ClickFarmModel, source: str | None, overrides: list[str], wall_seconds: float
) -> dict[str, Any]:
    """Provenance of a run: what was run, with which seed, and on which versions.

    Args:
        model: The model after its last step.
        source: The scenario file, or None for a scenario built in memory.
        overrides: The ``--set`` assignments applied.
        wall_seconds: How long the run took.

    Returns:
        The contents of ``manifest.json``, including ``model_version``.
    """
    versions = {"python": platform.python_version()}
    for name in ("clickfarm", *_declared_dependencies()):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "model_version": MODEL_VERSION,
        "scenario_file": source,
        "overrides": overrides,
        "seed": model.seed,
        "steps": int(model.steps),
        "scenario": resolved_dict(model.spec),
        "versions": versions,
        "git": git_state(),
        "wall_seconds": round(wall_seconds, 3),
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": sys.argv,
    }


def _declared_dependencies() -> list[str]:
    """Every package clickfarm itself requires (from its installed metadata)."""
    import re

    try:
        requires = metadata.requires("clickfarm") or []
    except metadata.PackageNotFoundError:
        return list(DEPENDENCIES)
    names = [re.split(r"[\s;\[<>=!~(]", r, maxsplit=1)[0] for r in requires if "extra ==" not in r]
    return sorted(set(names) | set(DEPENDENCIES), key=str.lower)


def git_state() -> dict[str, Any] | None:
    """The commit the package's source came from, when it runs from a git checkout."""
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return None
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "sim"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "sim_modified": bool(dirty.strip())}


def default_out_dir(scenario_name: str, seed: int | None, base: Path = Path("runs")) -> Path:
    """A fresh folder per run: runs/<scenario>/<UTC time>-seed<seed>[-n]."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    candidate = base / scenario_name / f"{stamp}-seed{seed}"
    n = 1
    while candidate.exists():
        n += 1
        candidate = base / scenario_name / f"{stamp}-seed{seed}-{n}"
    return candidate


OUTPUT_FILES = frozenset(
    {
        "timeseries.parquet",
        "timeseries.csv",
        "agents.parquet",
        "flows.csv",
        "rates.csv",
        "detector.csv",
        "cascades.csv",
        "accounts.csv",
        "summary.json",
        "manifest.json",
        "timeseries.png",
        "money_flows.png",
        "wage_distribution.png",
        "campaigns.png",
    }
)


def check_out_dir(out_dir: Path) -> Path:
    """The resolved results folder, if writing there cannot destroy anything else.

    A run may replace an empty folder or an earlier clickfarm results folder (one holding
    nothing but our own output files); anything else is refused.
    """
    from sim.scenario.errors import ScenarioError

    target = Path(out_dir).expanduser().resolve()
    if target.exists():
        if not target.is_dir():
            raise ScenarioError(
                "exists and is not a folder; choose another --out", file=str(out_dir)
            )
        entries = {p.name for p in target.iterdir()}
        if entries and not ("manifest.json" in entries and entries <= OUTPUT_FILES):
            raise ScenarioError(
                "is not empty and is not an earlier clickfarm results folder; refusing to "
                "overwrite it: choose a new --out folder",
                file=str(out_dir),
            )
    if target.parent == target:
        raise ScenarioError("cannot write results to the root folder", file=str(out_dir))
    return target


def write_results(result: RunResult, out_dir: Path, figures: bool = True) -> Path:
    """Write every output into a temporary folder, then move it into place in one step.

    An existing target is replaced only when ``check_out_dir`` allows it (an empty folder
    or an earlier results folder), and only once the new results are complete.
    """
    out_dir = check_out_dir(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; results are ordinary files
    try:
        result.timeseries.to_parquet(tmp / "timeseries.parquet", index=False)
        result.timeseries.to_csv(tmp / "timeseries.csv", index=False)
        result.agents.to_parquet(tmp / "agents.parquet", index=False)
        result.flows.to_csv(tmp / "flows.csv", index=False)
        result.rates.to_csv(tmp / "rates.csv", index=False)
        if result.model.moderation.trainer is not None:
            result.detector.to_csv(tmp / "detector.csv", index=False)
        cascades = cascades_frame(result.model)
        if cascades is not None:
            cascades.to_csv(tmp / "cascades.csv", index=False)
        result.accounts.to_csv(tmp / "accounts.csv", index=False)
        (tmp / "summary.json").write_text(json.dumps(result.summary, indent=2) + "\n")
        (tmp / "manifest.json").write_text(
            json.dumps(result.manifest, indent=2, default=str) + "\n"
        )
        if figures:
            from sim.run.figures import save_figures  # plotting stays out of the core

            save_figures(result, tmp)
        old = None
        if out_dir.exists():
            check_out_dir(out_dir)  # still safe to replace, now that we are about to
            old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
            out_dir.rename(old)
        tmp.rename(out_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir
