"""The standard sweep figures, drawn with matplotlib's object API (no pyplot state).

Only :mod:`sim.sweeps.analyze` imports this module, and only when plots are wanted.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.sweeps.analyze import BINS, MAX_DISCRETE, mean_interval

DPI = 90
MAX_HUES = 8


def _is_numeric(p: dict[str, Any]) -> bool:
    return p["kind"] in ("int", "float", "money")


def _binned(x: pd.Series, bins: int = BINS) -> tuple[pd.Series, list[float]]:
    """Quantile bins of a continuous column: the bin of each row and each bin's median x."""
    codes = pd.qcut(x, q=bins, labels=False, duplicates="drop")
    centres = [float(x[codes == c].median()) for c in sorted(codes.dropna().unique())]
    return codes, centres


def _band(
    ax,
    xs,
    groups,
    confidence: float,
    label: str | None = None,
    categories: bool = False,
    shift: float = 0.0,
) -> None:
    """Means with their intervals.

    Along a numeric axis, a line and a band; for categories (levels, text, true/false),
    where a line would suggest an order, dots with error bars.
    """
    stats = [mean_interval(g, confidence) for g in groups]
    mean = np.array([s["mean"] for s in stats])
    low = np.array([s["ci_low"] for s in stats])
    high = np.array([s["ci_high"] for s in stats])
    if categories:
        xs = np.asarray(xs, dtype=float) + shift
        err = np.vstack([mean - low, high - mean])
        ok = np.isfinite(err).all(axis=0)
        err[:, ~ok] = 0.0
        ax.errorbar(xs, mean, yerr=err, fmt="o", ms=4, capsize=3, lw=1.2, label=label)
        return
    (line,) = ax.plot(xs, mean, marker="o", ms=3, lw=1.5, label=label)
    if np.isfinite(low).any():
        ax.fill_between(xs, low, high, color=line.get_color(), alpha=0.2, lw=0)


def metric_panels(
    rows: pd.DataFrame,
    params: list[dict[str, Any]],
    metric: str,
    confidence: float,
    out: Path,
    hues: list[str] | None = None,
) -> Path:
    """The metric against each parameter: mean and confidence band (pooled over the rest).

    With ``hues`` (two parameters of a full grid), each panel draws one line per value of
    the other parameter of the pair, so interactions show as lines that are not parallel.
    """
    shown = params[:6]
    cols = min(3, len(shown))
    nrows = math.ceil(len(shown) / cols)
    fig = Figure(figsize=(4.2 * cols, 3.2 * nrows), dpi=DPI, layout="constrained")
    axes = fig.subplots(nrows, cols, squeeze=False).ravel()
    for ax in axes[len(shown) :]:
        ax.set_visible(False)
    by_name = {p["name"]: p for p in params}
    for ax, p in zip(axes, shown, strict=False):
        name = p["name"]
        x = rows[name]
        ax.set_title(name, fontsize=9)
        ax.set_ylabel(metric, fontsize=8)
        ax.tick_params(labelsize=7)
        discrete = x.nunique() <= MAX_DISCRETE
        if discrete:
            values = (
                sorted(x.unique())
                if _is_numeric(p)
                else list(dict.fromkeys(p.get("values") or x.unique()))
            )
            positions = values if _is_numeric(p) else list(range(len(values)))
            hue = None
            if hues and len(hues) == 2:
                hue = hues[1] if name != hues[1] else hues[0]
            hue_p = by_name.get(hue) if hue else None
            hue_values = sorted(rows[hue].unique()) if hue_p is not None else []
            categories = not _is_numeric(p)
            if hue_p is not None and 1 < len(hue_values) <= MAX_HUES:
                for k, hv in enumerate(hue_values):
                    sub = rows[rows[hue] == hv]
                    groups = [sub.loc[sub[name] == v, metric] for v in values]
                    shift = (k - (len(hue_values) - 1) / 2) * 0.08 if categories else 0.0
                    _band(
                        ax,
                        positions,
                        groups,
                        confidence,
                        label=f"{hue}={_fmt(hv)}",
                        categories=categories,
                        shift=shift,
                    )
                ax.legend(fontsize=6, frameon=False)
            else:
                groups = [rows.loc[x == v, metric] for v in values]
                _band(ax, positions, groups, confidence, categories=categories)
            if categories:
                ax.set_xticks(
                    positions, [str(v) for v in values], rotation=20, ha="right", fontsize=7
                )
                ax.set_xlim(-0.5, len(values) - 0.5)
        else:
            ax.scatter(x, rows[metric], s=4, alpha=0.25, color="grey", lw=0)
            codes, centres = _binned(x)
            groups = [rows.loc[codes == c, metric] for c in sorted(codes.dropna().unique())]
            _band(ax, centres, groups, confidence)
        if p.get("scale") == "log":
            ax.set_xscale("log")
    fig.suptitle(f"{metric}: mean and {confidence:.0%} interval", fontsize=10)
    path = out / f"{metric}.png"
    fig.savefig(path, pil_kwargs={"optimize": True})
    return path


def _axis(
    rows: pd.DataFrame, p: dict[str, Any], max_levels: int
) -> tuple[pd.Series, list[Any], list[str]]:
    """Positions of rows along one heatmap axis, with tick labels.

    The positions are the values themselves when there are at most ``max_levels`` of
    them, else quantile bins (labelled by their median).
    """
    x = rows[p["name"]]
    if x.nunique() <= max_levels or not _is_numeric(p):
        values = sorted(x.unique()) if _is_numeric(p) else list(dict.fromkeys(x))
        index = {v: i for i, v in enumerate(values)}
        return x.map(index), values, [_fmt(v) for v in values]
    codes, centres = _binned(x, max_levels)
    return codes, centres, [f"~{_fmt(c)}" for c in centres]


def heatmap(
    rows: pd.DataFrame, params: list[dict[str, Any]], metric: str, pair: list[str], out: Path
) -> Path:
    """Mean of the metric over two parameters (averaged over replicates and the others)."""
    by_name = {p["name"]: p for p in params}
    px, py = by_name[pair[0]], by_name[pair[1]]
    points = rows["point"].nunique() if "point" in rows else len(rows)
    sampled = rows[px["name"]].nunique() > MAX_DISCRETE or rows[py["name"]].nunique() > MAX_DISCRETE
    # a grid shows every value; a sampled design gets about six points per cell
    levels = MAX_DISCRETE if not sampled else int(min(8, max(3, math.sqrt(points / 6))))
    cx, _, xlabels = _axis(rows, px, levels)
    cy, _, ylabels = _axis(rows, py, levels)
    grid = np.full((len(ylabels), len(xlabels)), np.nan)
    frame = pd.DataFrame({"x": cx, "y": cy, "v": rows[metric]}).dropna()
    for (i, j), v in frame.groupby(["y", "x"])["v"].mean().items():
        grid[int(i), int(j)] = v
    fig = Figure(
        figsize=(1.2 + 0.55 * max(5, len(xlabels)), 1.2 + 0.42 * max(5, len(ylabels))),
        dpi=DPI,
        layout="constrained",
    )
    ax = fig.subplots()
    image = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(len(xlabels)), xlabels, rotation=30, fontsize=7)
    ax.set_yticks(range(len(ylabels)), ylabels, fontsize=7)
    ax.set_xlabel(pair[0], fontsize=8)
    ax.set_ylabel(pair[1], fontsize=8)
    if grid.size <= 100:
        finite = grid[np.isfinite(grid)]
        middle = (finite.min() + finite.max()) / 2 if finite.size else 0
        for (i, j), v in np.ndenumerate(grid):
            if np.isfinite(v):
                ax.text(
                    j,
                    i,
                    f"{v:.3g}",
                    ha="center",
                    va="center",
                    fontsize=6,
                    color="black" if v > middle else "white",
                )
    bar = fig.colorbar(image, ax=ax)
    bar.ax.tick_params(labelsize=7)
    ax.set_title(f"mean {metric}", fontsize=9)
    path = out / f"heatmap_{metric}.png"
    fig.savefig(path, pil_kwargs={"optimize": True})
    return path


def sensitivity(table: pd.DataFrame, method: str, out: Path) -> Path:
    """Bars of the indices per metric, with their confidence half-widths."""
    metrics = list(dict.fromkeys(table["metric"]))
    shown = ("S1", "ST") if method == "sobol" else ("mu_star", "sigma")
    cols = min(3, len(metrics))
    nrows = math.ceil(len(metrics) / cols)
    fig = Figure(figsize=(4.2 * cols, 2.8 * nrows), dpi=DPI, layout="constrained")
    axes = fig.subplots(nrows, cols, squeeze=False).ravel()
    for ax in axes[len(metrics) :]:
        ax.set_visible(False)
    for ax, metric in zip(axes, metrics, strict=False):
        part = table[(table["metric"] == metric) & table["index"].isin(shown)]
        names = list(dict.fromkeys(part["parameter"]))
        ypos = np.arange(len(names))
        height = 0.8 / len(shown)
        for k, index in enumerate(shown):
            sub = part[part["index"] == index].set_index("parameter").reindex(names)
            err = sub["conf"].to_numpy(dtype=float)
            ax.barh(
                ypos + k * height,
                sub["value"],
                height=height,
                label=index,
                xerr=None if np.isnan(err).all() else err,
                error_kw={"lw": 0.8},
            )
        ax.set_yticks(ypos + height * (len(shown) - 1) / 2, names, fontsize=7)
        ax.tick_params(labelsize=7)
        ax.set_title(metric, fontsize=9)
        ax.axvline(0, color="black", lw=0.5)
        ax.legend(fontsize=6, frameon=False)
    fig.suptitle(f"{'Sobol' if method == 'sobol' else 'Morris'} sensitivity", fontsize=10)
    path = out / "sensitivity.png"
    fig.savefig(path, pil_kwargs={"optimize": True})
    return path


def _fmt(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{value:.3g}"
    return str(value)
