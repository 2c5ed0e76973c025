"""Run a scenario to the end and turn the model into tables, a summary and a manifest.

This layer sits between the model core and the front ends (CLI, notebooks, sweeps): it
never draws figures itself and never prints.
"""

from __future__ import annotations

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

from sim.core.model import ClickFarmModel
from sim.run.headline import HEADLINE
from sim.scenario.load import ScenarioSource, load_scenario, resolved_dict, source_file
from sim.scenario.schema import ACTION_TYPES

DEPENDENCIES = ("mesa", "numpy", "pandas", "pyarrow", "pydantic", "matplotlib", "pyyaml")


@dataclass
class RunResult:
    model: ClickFarmModel
    timeseries: pd.DataFrame
    agents: pd.DataFrame
    flows: pd.DataFrame
    summary: dict[str, Any]
    manifest: dict[str, Any]


def build_model(
    scenario: ScenarioSource,
    *,
    seed: int | None = None,
    days: float | None = None,
    steps: int | None = None,
    overrides: list[str] | None = None,
) -> ClickFarmModel:
    """The model of any scenario source (see ``load_scenario``), with run-length overrides."""
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
    df = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    df.insert(0, "step", np.arange(1, len(df) + 1, dtype=np.int64))
    df.insert(1, "seed", model.seed if model.seed is not None else -1)
    for col in ("hour", "day"):
        df[col] = df[col].astype(np.int64)
    return df


def agents_frame(model: ClickFarmModel) -> pd.DataFrame:
    """Final per-agent state: one row per worker or bot, then the other agent kinds."""
    w, acc, s = model.workers, model.accounts, model.scenario
    earned = model.ledger.balances["money"][model.worker_accounts] / model.scale
    banned = np.bincount(acc.owner[acc.banned], minlength=w.size) if w.size else np.zeros(0)
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
    """Outcomes per campaign (all its placements together)."""
    out: dict[str, dict[str, Any]] = {}
    for ci, c in enumerate(model.scenario.campaigns):
        orders = [o for o in model.orders if o.campaign == ci and o.status != "pending"]
        ordered = sum(int(o.quantities.sum()) for o in orders)
        delivered = sum(int(p.delivered.sum()) for o in orders for p in o.pools)
        removed = sum(int(p.removed.sum()) for o in orders for p in o.pools)
        spent = sum(o.spent for o in orders)
        surviving = delivered - removed
        out[c.id] = {
            "client": c.client,
            "placements": len(orders),
            "ordered": ordered,
            "delivered": delivered,
            "removed": removed,
            "surviving": surviving,
            "spend": model.money(spent),
            "cost_per_1000_surviving": round(model.money(spent) * 1000 / surviving, 6)
            if surviving
            else None,
            "objectives_reached": sum(o.objective_reached for o in orders) if c.objective else None,
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
}


def money_destinations(model: ClickFarmModel, campaign: str | None = None) -> dict[str, float]:
    """Where the clients' money ended up: what each tier kept of the order payments.

    With ``campaign``, only that campaign's money. The values add up exactly to the spend.
    """
    net: dict[str, int] = {}
    for (tag, unit, src, dst, purpose), amount in model.ledger.tagged_flows.items():
        if unit != "money" or purpose not in SPENDING_PURPOSES:
            continue
        if campaign is not None and tag != campaign:
            continue
        if src != "clients":
            net[src] = net.get(src, 0) - amount
        net[dst] = net.get(dst, 0) + amount
    return {DESTINATION_LABELS.get(k, k): model.money(v) for k, v in net.items() if v}


DESTINATION_LABELS = {
    "recruiters": "recruiters (margins)",
    "influencers": "influencers",
    "workers": "workers",
    "platform": "platform (promotion)",
    "world": "outside suppliers (software)",
}


def summarise(model: ClickFarmModel, timeseries: pd.DataFrame) -> dict[str, Any]:
    headline = {k: _plain(timeseries[k].iloc[-1]) for k in HEADLINE}
    tiers = model.ledger.tier_net("money", model.ledger.total_flows)
    return {
        "scenario": model.scenario.title,
        "seed": model.seed,
        "steps": int(model.steps),
        "days": model.steps / 24,
        "currency": model.scenario.currency.code,
        "headline": headline,
        "campaigns": campaign_table(model),
        "money_destinations": money_destinations(model),
        "net_income_by_tier": {k: model.money(v) for k, v in sorted(tiers.items())},
        "points_issued": int(
            sum(a for (u, *_r), a in model.ledger.total_flows.items() if u == "points")
        ),
        "ledger_balanced": bool(all(int(b.sum()) == 0 for b in model.ledger.balances.values())),
        "actions": list(ACTION_TYPES),
    }


def _plain(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return round(float(value), 9)
    return value


def build_manifest(
    model: ClickFarmModel, source: str | None, overrides: list[str], wall_seconds: float
) -> dict[str, Any]:
    versions = {"python": platform.python_version()}
    for name in ("clickfarm", *_declared_dependencies()):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "scenario_file": source,
        "overrides": overrides,
        "seed": model.seed,
        "steps": int(model.steps),
        "scenario": resolved_dict(model.scenario),
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
        "summary.json",
        "manifest.json",
        "timeseries.png",
        "money_flows.png",
        "wage_distribution.png",
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
