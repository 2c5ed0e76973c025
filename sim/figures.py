"""Figures for a finished run (matplotlib, headless). Only the CLI and UI import this."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

if TYPE_CHECKING:
    from sim.runner import RunResult

FIGURES = ("timeseries.png", "money_flows.png", "wage_distribution.png")


def save_figures(result: RunResult, folder: Path) -> list[Path]:
    paths = []
    for name, draw in (("timeseries.png", plot_timeseries), ("money_flows.png", plot_money_flows),
                       ("wage_distribution.png", plot_wage_distribution)):
        fig = draw(result)
        path = Path(folder) / name
        fig.savefig(path, dpi=110, metadata={"Software": None})
        plt.close(fig)
        paths.append(path)
    return paths


def plot_timeseries(result: RunResult) -> plt.Figure:
    ts, cur = result.timeseries, result.summary["currency"]
    days = ts["step"] / 24
    fig, axes = plt.subplots(2, 2, figsize=(11, 7), constrained_layout=True)
    ax = axes[0, 0]
    ax.plot(days, ts["total_delivered"], label="delivered")
    ax.plot(days, ts["total_surviving"], label="surviving moderation")
    ax.plot(days, ts["total_removed"], label="removed")
    ax.set_title("Actions (cumulative)")
    ax.legend(frameon=False)
    ax = axes[0, 1]
    ax.plot(days, ts["active_workers"], lw=0.8, color="tab:purple")
    ax.set_title("Workers active each hour")
    ax = axes[1, 0]
    ax.plot(days, ts["total_client_spend"], label="client spend")
    ax.plot(days, ts["total_worker_income"], label="worker income")
    ax.plot(days, ts["points_cost_saved"], label="points work at market price", ls="--")
    ax.set_title(f"Money (cumulative, {cur})")
    ax.legend(frameon=False)
    ax = axes[1, 1]
    ax.plot(days, ts["total_unpaid_hours"], color="tab:red")
    ax.set_title("Unpaid labour hours (cumulative)")
    for a in axes.flat:
        a.set_xlabel("day")
        a.grid(alpha=0.3)
    fig.suptitle(result.summary["scenario"], fontsize=11)
    return fig


def plot_money_flows(result: RunResult) -> plt.Figure:
    """One bar per unit of client money, split by where it ended up."""
    dest = result.summary["money_destinations"]
    cur = result.summary["currency"]
    fig, ax = plt.subplots(figsize=(10, 3.2), constrained_layout=True)
    total = sum(dest.values())
    if total <= 0:
        ax.text(0.5, 0.5, "No money changed hands: the work was paid in points or conviction.\n"
                f"Unpaid hours: {result.summary['headline']['total_unpaid_hours']:.0f}; "
                f"value at market prices: {result.summary['headline']['points_cost_saved']:.2f} {cur}",
                ha="center", va="center", fontsize=11)
        ax.set_axis_off()
        return fig
    left = 0.0
    colours = plt.get_cmap("tab10")
    for i, (name, value) in enumerate(sorted(dest.items(), key=lambda kv: -kv[1])):
        share = value / total
        ax.barh(0, share, left=left, color=colours(i), label=f"{name}: {value:,.2f} {cur} ({share:.1%})")
        if share > 0.06:
            ax.text(left + share / 2, 0, f"{share:.0%}", ha="center", va="center", color="white",
                    fontweight="bold")
        left += share
    ax.set_xlim(0, 1)
    ax.set_yticks([])
    ax.set_xlabel(f"share of the clients' {total:,.2f} {cur}")
    ax.set_title("Where the money went")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.35), ncol=2, frameon=False)
    return fig


def plot_wage_distribution(result: RunResult) -> plt.Figure:
    agents = result.agents
    cur = result.summary["currency"]
    workers = agents[(agents["kind"] == "micro_worker") & (agents["hours_online"] > 0)]
    fig, ax = plt.subplots(figsize=(8, 4.5), constrained_layout=True)
    pay = workers["effective_hourly_pay"].to_numpy()
    if pay.size == 0 or not np.any(pay > 0):
        hours = workers["hours_unpaid"].to_numpy()
        ax.hist(hours, bins=40, color="tab:red")
        ax.set_xlabel("unpaid hours per worker")
        ax.set_title(f"No money paid: unpaid hours of {len(workers):,} workers")
    else:
        ax.hist(pay, bins=40, color="tab:blue")
        med = float(np.median(pay))
        ax.axvline(med, color="black", ls="--", label=f"median {med:.4g} {cur}/h")
        ref = result.manifest["scenario"]["market_reference"]["wage_per_hour"]
        ax.axvline(ref, color="tab:green", ls=":", label=f"reference wage {ref} {cur}/h")
        ax.set_xlabel(f"effective hourly pay including unpaid search time ({cur}/h)")
        ax.set_title(f"Effective hourly pay of {len(workers):,} workers")
        ax.legend(frameon=False)
    ax.set_ylabel("workers")
    ax.grid(alpha=0.3)
    return fig
