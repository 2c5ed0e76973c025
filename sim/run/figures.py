"""Figures for a finished run, drawn headless with matplotlib's object API (no pyplot).

Each figure is a plain ``Figure``: no global figure state to close, and no pyplot or GUI
backend to import, which keeps a short ``clickfarm run`` quick. Only the CLI and UI import this.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from sim.run.outputs import RunResult

# One colour per destination, the same in every figure (and in a fixed order).
TIER_COLOURS = {
    "workers": "tab:orange",
    "influencers": "tab:purple",
    "recruiters (margins)": "tab:blue",
    "platform (promotion)": "tab:green",
    "outside suppliers (software, accounts)": "tab:gray",
}

FIGURES = ("timeseries.png", "money_flows.png", "wage_distribution.png", "campaigns.png")


def save_figures(result: RunResult, folder: Path) -> list[Path]:
    """Draw the four standard figures of a run into ``folder``.

    Args:
        result: A finished run, as returned by :func:`sim.run.outputs.run_scenario`.
        folder: An existing folder; ``timeseries.png``, ``money_flows.png``,
            ``wage_distribution.png`` and ``campaigns.png`` are written there.

    Returns:
        The paths written, in that order.
    """
    paths = []
    for name, draw in (
        ("timeseries.png", plot_timeseries),
        ("money_flows.png", plot_money_flows),
        ("wage_distribution.png", plot_wage_distribution),
        ("campaigns.png", plot_campaigns),
    ):
        fig = draw(result)
        path = Path(folder) / name
        fig.savefig(path, dpi=110, metadata={"Software": None})
        paths.append(path)
    return paths


def plot_timeseries(result: RunResult) -> Figure:
    """Delivered, surviving and removed actions and the money spent, day by day.

    Args:
        result: A finished run.

    Returns:
        A new matplotlib figure (the caller closes it).
    """
    ts, cur = result.timeseries, result.summary["currency"]
    days = ts["step"] / 24
    fig = Figure(figsize=(11, 7), constrained_layout=True)
    axes = fig.subplots(2, 2)
    ax = axes[0, 0]
    ax.plot(days, ts["total_delivered"], label="delivered")
    ax.plot(days, ts["total_surviving"], label="surviving moderation")
    ax.plot(days, ts["total_removed"], label="removed")
    ax.set_title("Actions (cumulative)")
    ax.legend(frameon=False, loc="upper left")
    if ts["total_genuine_actions"].iloc[-1] > 0:  # genuine users: false positives, own scale
        right = ax.twinx()
        right.plot(days, ts["total_genuine_removed"], color="tab:red", ls="--")
        right.set_ylabel("genuine actions removed (false positives)", color="tab:red")
        right.tick_params(axis="y", colors="tab:red")
    ax = axes[0, 1]
    ax.plot(days, ts["active_workers"], lw=0.8, color="tab:purple")
    ax.set_title("Workers active each hour")
    ax = axes[1, 0]
    ax.plot(days, ts["total_client_spend"], label="client spend")
    ax.plot(days, ts["total_worker_income"], label="worker income")
    ax.plot(days, ts["points_cost_saved"], label="points work priced by the paid twin", ls="--")
    ax.set_title(f"Money (cumulative, {cur})")
    ax.legend(frameon=False)
    ax = axes[1, 1]
    ax.plot(days, ts["total_unpaid_hours"], color="tab:red")
    ax.set_title("Unpaid labour hours (cumulative)")
    for a in axes.flat:
        a.set_xlabel("day")
        a.grid(alpha=0.3)
        for e in result.summary.get("events", []):
            a.axvline(e["hour"] / 24, color="0.4", ls=":", lw=1)
    for e in result.summary.get("events", []):  # one label per event, on the first chart
        axes[0, 0].annotate(
            e["id"],
            (e["hour"] / 24, 1.0),
            xycoords=("data", "axes fraction"),
            rotation=90,
            va="top",
            ha="right",
            fontsize=8,
            color="0.3",
        )
    fig.suptitle(result.summary["scenario"], fontsize=11)
    return fig


def plot_money_flows(result: RunResult) -> Figure:
    """Where each unit of client money ended up: one bar per campaign, and all together."""
    cur = result.summary["currency"]
    bars = [("all campaigns", result.summary["money_destinations"])]
    bars += [
        (name, c["money_destinations"])
        for name, c in result.summary["campaigns"].items()
        if c["money_destinations"]
    ]
    fig = Figure(figsize=(11, 1.2 + 0.55 * len(bars)), constrained_layout=True)
    ax = fig.subplots()
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


def plot_wage_distribution(result: RunResult) -> Figure:
    """How the effective hourly pay of the workers is spread, per worker group.

    Args:
        result: A finished run.

    Returns:
        A new matplotlib figure (the caller closes it).
    """
    agents = result.agents
    cur = result.summary["currency"]
    people = agents[agents["kind"] == "micro_worker"]
    online = people[people["hours_online"] > 0]
    # pay is measured over those who did at least one task, as in the summary
    workers = online[online["tasks_done"] > 0]
    left_out = (
        f"{len(people) - len(online):,} never online and {len(online) - len(workers):,} "
        "who never found a task are left out"
    )
    fig = Figure(figsize=(8, 4.5), constrained_layout=True)
    ax = fig.subplots()
    pay = workers["effective_hourly_pay"].to_numpy()
    if pay.size == 0 or not np.any(pay > 0):
        hours = online["hours_unpaid"].to_numpy()
        ax.hist(hours, bins=40, color="tab:red")
        ax.set_xlabel("unpaid hours per person")
        ax.set_title(
            f"No money paid: unpaid hours of {len(online):,} people who were online\n"
            f"({len(people) - len(online):,} never online are left out)",
            loc="left",
        )
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
        med = float(result.summary["headline"]["hourly_pay_median"])
        ax.axvline(med, color="black", ls="--", label=f"median {med:.4g} {cur}/h")
        ref = result.manifest["scenario"]["market_reference"]["wage_per_hour"]
        ax.axvline(ref, color="tab:green", ls=":", label=f"reference wage {ref} {cur}/h")
        ax.set_xlabel(f"effective hourly pay including unpaid search time ({cur}/h)")
        ax.set_title(f"Effective hourly pay of {len(workers):,} workers\n({left_out})", loc="left")
        ax.legend(frameon=False)
    ax.set_ylabel("workers")
    ax.grid(alpha=0.3)
    return fig


def plot_campaigns(result: RunResult) -> Figure:
    """Per campaign: ordered, delivered and surviving actions, and their cost.

    The cost per 1,000 surviving actions sets buyers and sellers apart (bots and people).

    Args:
        result: A finished run.

    Returns:
        A new matplotlib figure (the caller closes it).
    """
    campaigns = result.summary["campaigns"]
    cur = result.summary["currency"]
    names = list(campaigns)
    rows = [campaigns[n] for n in names]
    fig = Figure(figsize=(10, 1.6 + 0.7 * len(names)), constrained_layout=True)
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    y = np.arange(len(names))
    ordered = np.array([r["ordered"] for r in rows], dtype=float)
    delivered = np.array([r["delivered"] + r["refilled"] for r in rows], dtype=float)
    surviving = np.array([max(r["surviving"], 0) for r in rows], dtype=float)
    left.barh(y - 0.27, ordered, 0.26, label="ordered", color="0.75")
    left.barh(y, delivered, 0.26, label="delivered (with refills)", color="tab:blue")
    left.barh(y + 0.27, surviving, 0.26, label="surviving moderation", color="tab:green")
    left.margins(x=0.15)
    for i, r in enumerate(rows):
        if r["delivered"]:
            share = surviving[i] / delivered[i] if delivered[i] else 0.0
            left.annotate(
                f"{share:.0%} survive",
                (surviving[i], i + 0.27),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
            )
    left.set_yticks(y, names)
    left.invert_yaxis()
    left.set_xlabel("actions")
    left.set_title("Ordered, delivered and surviving, per campaign", loc="left")
    fig.legend(
        *left.get_legend_handles_labels(),
        frameon=False,
        fontsize=8,
        loc="outside lower left",
        ncol=3,
    )
    cost = [r["cost_per_1000_surviving"] or 0.0 for r in rows]
    right.barh(y, cost, color="tab:red")
    for i, c in enumerate(cost):
        right.annotate(
            f"{c:,.2f}" if c else "n/a",
            (c, i),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    right.set_yticks(y, [""] * len(names))
    right.invert_yaxis()
    right.set_xlabel(f"{cur} per 1,000 surviving actions")
    right.set_title("Client's cost per 1,000 surviving", loc="left")
    if any(cost) and max(cost) / max(min(c for c in cost if c > 0), 1e-12) > 100:
        right.set_xscale("log")
    right.margins(x=0.3)  # room for the labels
    for ax in (left, right):
        ax.grid(alpha=0.3, axis="x")
    fig.suptitle(result.summary["scenario"], fontsize=11)
    return fig
