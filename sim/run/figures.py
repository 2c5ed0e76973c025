"""Figures for a finished run (matplotlib, headless). Only the CLI and UI import this."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

if TYPE_CHECKING:
    from sim.run.outputs import RunResult

# One colour per destination, the same in every figure (and in a fixed order).
TIER_COLOURS = {
    "workers": "tab:orange",
    "influencers": "tab:purple",
    "recruiters (margins)": "tab:blue",
    "platform (promotion)": "tab:green",
    "outside suppliers (software)": "tab:gray",
}

FIGURES = ("timeseries.png", "money_flows.png", "wage_distribution.png")


def save_figures(result: RunResult, folder: Path) -> list[Path]:
    paths = []
    for name, draw in (
        ("timeseries.png", plot_timeseries),
        ("money_flows.png", plot_money_flows),
        ("wage_distribution.png", plot_wage_distribution),
    ):
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
    """Where each unit of client money ended up: one bar per campaign, and all together."""
    cur = result.summary["currency"]
    bars = [("all campaigns", result.summary["money_destinations"])]
    bars += [
        (name, c["money_destinations"])
        for name, c in result.summary["campaigns"].items()
        if c["money_destinations"]
    ]
    fig, ax = plt.subplots(figsize=(11, 1.2 + 0.55 * len(bars)), constrained_layout=True)
    if sum(bars[0][1].values()) <= 0:
        h = result.summary["headline"]
        ax.text(
            0.5,
            0.5,
            "No money changed hands: the work was paid in points or conviction.\n"
            f"Unpaid hours: {h['total_unpaid_hours']:,.0f}; the same actions at market "
            f"prices: {h['points_cost_saved']:,.2f} {cur}",
            ha="center",
            va="center",
            fontsize=11,
        )
        ax.set_axis_off()
        return fig
    present = {k for _, d in bars for k in d}
    tiers = [t for t in TIER_COLOURS if t in present] + sorted(present - set(TIER_COLOURS))
    colours = {t: TIER_COLOURS.get(t, "tab:gray") for t in tiers}
    for row, (_name, dest) in enumerate(bars):
        total = sum(dest.values())
        left = 0.0
        for tier in tiers:
            share = dest.get(tier, 0) / total
            if share <= 0:
                continue
            ax.barh(
                row,
                share,
                left=left,
                color=colours[tier],
                label=tier if row == 0 or tier not in bars[0][1] else None,
            )
            if share > 0.07:
                ax.text(
                    left + share / 2,
                    row,
                    f"{share:.0%}",
                    ha="center",
                    va="center",
                    color="white",
                    fontsize=9,
                    fontweight="bold",
                )
            left += share
    ax.set_yticks(
        range(len(bars)), [f"{n}\n({sum(d.values()):,.2f} {cur})" for n, d in bars], fontsize=8
    )
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of each unit the client spent")
    ax.set_title("Where the money went")
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))
    fig.legend(
        unique.values(), unique.keys(), loc="outside lower center", ncol=len(unique), frameon=False
    )
    return fig


def plot_wage_distribution(result: RunResult) -> plt.Figure:
    agents = result.agents
    cur = result.summary["currency"]
    humans = agents[agents["kind"] == "micro_worker"]
    workers = humans[humans["hours_online"] > 0]
    never = len(humans) - len(workers)
    counted = f"{len(workers):,} workers who were online" + (
        f" ({never:,} of {len(humans):,} never were and are left out)" if never else ""
    )
    fig, ax = plt.subplots(figsize=(8, 4.5), constrained_layout=True)
    pay = workers["effective_hourly_pay"].to_numpy()
    if pay.size == 0 or not np.any(pay > 0):
        hours = workers["hours_unpaid"].to_numpy()
        ax.hist(hours, bins=40, color="tab:red")
        ax.set_xlabel("unpaid hours per worker")
        ax.set_title(f"No money paid: unpaid hours of {counted}", fontsize=10)
    else:
        positive = pay[pay > 0]
        spread = np.percentile(positive, 99) / max(np.percentile(positive, 1), 1e-12)
        if spread > 100:  # pay spans orders of magnitude: a log axis shows every group
            bins = np.geomspace(positive.min(), positive.max() * 1.0001, 40)
            ax.set_xscale("log")
            zero = int((pay <= 0).sum())
            pay = positive
            if zero:
                ax.set_title(
                    f"({zero:,} workers earned nothing and are not shown)", fontsize=8, loc="right"
                )
        else:
            bins = 40
        ax.hist(pay, bins=bins, color="tab:blue")
        # the summary's median (every worker online, those who earned nothing included)
        med = float(result.summary["headline"]["hourly_pay_median"])
        ax.axvline(med, color="black", ls="--", label=f"median {med:.4g} {cur}/h")
        ref = result.manifest["scenario"]["market_reference"]["wage_per_hour"]
        ax.axvline(ref, color="tab:green", ls=":", label=f"reference wage {ref} {cur}/h")
        ax.set_xlabel(f"effective hourly pay including unpaid search time ({cur}/h)")
        ax.set_title(f"Effective hourly pay of {counted}", loc="left", fontsize=10)
        ax.legend(frameon=False)
    ax.set_ylabel("workers")
    ax.grid(alpha=0.3)
    return fig
