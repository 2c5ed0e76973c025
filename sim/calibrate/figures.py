"""The calibration report's figures: targets vs simulated, posterior, convergence."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sim.calibrate.report import final_generation  # noqa: E402

if TYPE_CHECKING:
    from sim.calibrate.report import Outcome
    from sim.calibrate.spec import Calibration

FITTED, HELD_OUT = "#1f77b4", "#d62728"


def targets_figure(outcome: Outcome, path: Path) -> None:
    """One panel per target: the published value ± tolerance against the simulated."""
    rows = outcome.rows
    fig, axes = plt.subplots(1, len(rows), figsize=(2.6 * len(rows) + 0.8, 3.4), squeeze=False)
    for ax, r in zip(axes[0], rows, strict=True):
        colour = FITTED if r.fit else HELD_OUT
        band = (r.value - r.tolerance, r.value + r.tolerance)
        ax.axhspan(*band, color="0.85", label="published ± tolerance")
        ax.axhline(r.value, color="0.3", lw=1)
        ax.errorbar(
            [0],
            [r.best_fit_mean],
            yerr=[[r.best_fit_mean - r.best_fit_low], [r.best_fit_high - r.best_fit_mean]],
            fmt="o",
            color=colour,
            capsize=4,
            label="best fit (runs 90%)",
        )
        ax.errorbar(
            [1],
            [(r.posterior_low + r.posterior_high) / 2],
            yerr=[[(r.posterior_high - r.posterior_low) / 2]],
            fmt="none",
            color=colour,
            capsize=4,
            lw=2,
            label="posterior 90%",
        )
        ax.set_xticks([0, 1], ["best fit", "posterior"])
        ax.set_xlim(-0.6, 1.6)
        status = "matched" if r.matched else "MISSED"
        ax.set_title(f"{r.name}\n{'fitted' if r.fit else 'held out'}: {status}", fontsize=9)
    axes[0][0].legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def posterior_figure(calibration: Calibration, outcome: Outcome, path: Path) -> None:
    """Marginals on the diagonal, weighted pairs below it (final generation)."""
    params = calibration.parameters
    last = final_generation(outcome.posterior)
    w = last["weight"].to_numpy()
    n = len(params)
    fig, axes = plt.subplots(n, n, figsize=(2.8 * n + 0.6, 2.6 * n + 0.4), squeeze=False)
    for i, pi in enumerate(params):
        for j, pj in enumerate(params):
            ax = axes[i][j]
            if j > i:
                ax.axis("off")
                continue
            xj = last[pj.key].to_numpy()
            if i == j:
                bins = (
                    np.geomspace(pi.low, pi.high, 21)
                    if pi.scale == "log"
                    else np.linspace(pi.low, pi.high, 21)
                )
                ax.hist(xj, bins=bins, weights=w, color=FITTED, alpha=0.8)
                ax.axvline(outcome.best[pi.key], color="k", lw=1, ls="--", label="best fit")
                ax.set_yticks([])
            else:
                ax.scatter(xj, last[pi.key], s=8 + 400 * w, alpha=0.5, color=FITTED)
                ax.scatter([outcome.best[pj.key]], [outcome.best[pi.key]], marker="x", color="k")
                ax.set_ylim(pi.low, pi.high)
                if pi.scale == "log":
                    ax.set_yscale("log")
            ax.set_xlim(pj.low, pj.high)
            if pj.scale == "log":
                ax.set_xscale("log")
            if i == n - 1:
                ax.set_xlabel(pj.key.split(".")[-1] if n > 1 else pj.key, fontsize=8)
            if j == 0 and i > 0:
                ax.set_ylabel(pi.key.split(".")[-1], fontsize=8)
    axes[0][0].legend(fontsize=7)
    fig.suptitle("Posterior (final generation)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def convergence_figure(outcome: Outcome, path: Path) -> None:
    """Epsilon and acceptance rate by generation."""
    table = outcome.generations[outcome.generations["t"] >= 0]
    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3.2))
    left.plot(table["t"], table["epsilon"], "o-", color=FITTED)
    left.set_xlabel("generation")
    left.set_ylabel("epsilon (RMS distance / tolerance)")
    left.set_yscale("log")
    right.plot(table["t"], table["particles"] / table["samples"], "o-", color=FITTED)
    right.set_xlabel("generation")
    right.set_ylabel("acceptance rate")
    right.set_ylim(0, 1.05)
    for ax in (left, right):
        ax.set_xticks(table["t"])
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def save_figures(calibration: Calibration, outcome: Outcome, folder: Path) -> None:
    """targets.png, posterior.png and convergence.png in ``folder``."""
    targets_figure(outcome, folder / "targets.png")
    posterior_figure(calibration, outcome, folder / "posterior.png")
    convergence_figure(outcome, folder / "convergence.png")
