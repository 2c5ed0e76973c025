"""From a sweep folder to tables, plots and sensitivity indices (``clickfarm analyze``).

What it writes (into ``<sweep folder>/analysis/`` unless told otherwise):

* ``summary.csv``: per design point and metric, the number of replicates that finished,
  their mean, standard deviation and a Student-t confidence interval for the mean;
* ``marginals.csv``: per parameter value and metric, the same over every other parameter
  (only for parameters with few distinct values);
* ``<metric>.png``: the metric against each parameter, mean with its interval as a band;
* ``heatmap_<metric>.png``: the mean metric over two parameters;
* ``sensitivity.csv`` and ``sensitivity.png`` for Sobol and Morris designs;
* ``failures.csv`` when runs failed, and ``analysis.md``, an index of all of it.

The confidence interval of a mean over ``n`` replicates is
``mean ± t(1 - (1 - confidence)/2, n - 1) × sd / sqrt(n)`` with the sample standard
deviation ``sd`` (``n - 1`` in the denominator); it is empty for ``n < 2``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.scenario.errors import ScenarioError
from sim.sweeps.design import SAMPLE_PREFIX
from sim.sweeps.identity import design_seed
from sim.sweeps.store import DESIGN_FILE, FAILURES, SERIES, SUMMARY, read_info, read_table

MAX_DISCRETE = 25
"""Parameters with more distinct values than this are treated as continuous (binned)."""
BINS = 8
FLOAT_FORMAT = "%.10g"


@dataclass
class Results:
    """A sweep's design joined with what its runs produced."""

    info: dict[str, Any]
    params: list[dict[str, Any]]  # the parameters as described in sweep.json
    rows: pd.DataFrame  # one row per (point, replicate), with metric columns (NaN if none)
    failures: pd.DataFrame
    missing: int  # design rows whose run has not finished yet

    @property
    def names(self) -> list[str]:
        """The parameter names, in the sweep file's order."""
        return [p["name"] for p in self.params]


@dataclass
class Analysis:
    """What :func:`analyze_sweep` wrote and found.

    Attributes:
        out: The folder the tables and figures went to.
        summary: Per design point and metric: n, mean, sd and the confidence interval.
        sensitivity: Sobol or Morris indices for those designs, else None.
        files: Every file written.
        notes: Things the user should know (unfinished runs, skipped indices).
    """

    out: Path
    summary: pd.DataFrame
    sensitivity: pd.DataFrame | None
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# -------------------------------------------------------------------- statistics
def mean_interval(values: Any, confidence: float = 0.95) -> dict[str, float]:
    """n, mean, sd, and the two ends of the t confidence interval of the mean (NaN-free)."""
    x = np.asarray(values, dtype=np.float64)
    x = x[~np.isnan(x)]
    n = int(x.size)
    out = {"n": n, "mean": math.nan, "sd": math.nan, "ci_low": math.nan, "ci_high": math.nan}
    if n == 0:
        return out
    mean = float(x.mean())
    out["mean"] = mean
    if n < 2:
        return out
    from scipy import stats

    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * sd / math.sqrt(n)
    out.update(sd=sd, ci_low=mean - half, ci_high=mean + half)
    return out


def summarise(
    rows: pd.DataFrame, by: list[str], metrics: list[str], confidence: float
) -> pd.DataFrame:
    """Long table: one row per group and metric with n, mean, sd, ci_low, ci_high."""
    records = []
    for keys, group in rows.groupby(by, sort=True, dropna=False):
        keys = keys if isinstance(keys, tuple) else (keys,)
        for metric in metrics:
            stats = mean_interval(group[metric], confidence)
            records.append({**dict(zip(by, keys, strict=True)), "metric": metric, **stats})
    return pd.DataFrame(records)


# ------------------------------------------------------------------------ loading
def load_results(root: str | Path) -> Results:
    """A sweep's design joined with its verified runs.

    Args:
        root: A folder written by ``clickfarm sweep``.

    Returns:
        The design rows with a ``finished`` flag and one column per numeric metric.

    Raises:
        ScenarioError: The folder is not a sweep, or some stored run is damaged
            (:class:`sim.sweeps.store.DamagedRuns` names them).
    """
    root = Path(root)
    info = read_info(root)
    try:
        design = pd.read_parquet(root / DESIGN_FILE)
    except (OSError, ValueError) as exc:
        raise ScenarioError(
            f"cannot read the design: {exc}", file=str(root / DESIGN_FILE)
        ) from None
    finals = read_table(root, SUMMARY)
    if finals.empty and info.get("outputs", {}).get("timeseries"):
        finals = _finals_from_series(read_table(root, SERIES))
    failures = read_table(root, FAILURES)
    if not failures.empty:
        failures = failures[failures["run_key"].isin(design["run_key"])]
    metric_cols = [
        c
        for c in finals.columns
        if c not in design.columns and pd.api.types.is_numeric_dtype(finals[c])
    ]
    rows = design.merge(
        finals[["run_key", *metric_cols]]
        if len(finals)
        else pd.DataFrame({"run_key": pd.Series([], dtype=str)}),
        on="run_key",
        how="left",
        indicator=True,
    )
    finished = rows["_merge"] == "both"
    rows = rows.drop(columns="_merge")
    rows["finished"] = finished
    failed = rows["run_key"].isin(failures["run_key"] if len(failures) else [])
    missing = int((~finished & ~failed).sum())
    return Results(
        info=info, params=info["parameters"], rows=rows, failures=failures, missing=missing
    )


def _finals_from_series(series: pd.DataFrame) -> pd.DataFrame:
    if series.empty:
        return series
    last = series.sort_values(["run_key", "step"]).groupby("run_key", sort=False).tail(1)
    return last.reset_index(drop=True)


# ----------------------------------------------------------------------- analysis
def analyze_sweep(
    root: str | Path,
    out: str | Path | None = None,
    *,
    metrics: list[str] | None = None,
    confidence: float | None = None,
    heatmap: list[str] | None = None,
    plots: bool = True,
) -> Analysis:
    """Write the tables, plots and (for Sobol and Morris designs) sensitivity indices."""
    root = Path(root)
    res = load_results(root)
    info = res.info
    analysis = info.get("analysis", {})
    confidence = confidence or analysis.get("confidence", 0.95)
    if not 0 < confidence < 1:
        raise ScenarioError(
            f"--confidence must be between 0 and 1, got {confidence}", file="command line"
        )
    available = [c for c in res.rows.columns if c not in _design_columns(res)]
    if not res.rows["finished"].any():
        raise ScenarioError(
            "no run of this sweep has finished yet; expected at least one (run clickfarm "
            "sweep first)",
            file=str(root),
        )
    dropped: list[str] = []
    if metrics:  # asked for by name: each must exist
        for m in metrics:
            if m not in available:
                raise ScenarioError(
                    f"unknown metric '{m}'; expected one of: {', '.join(available)}",
                    file="command line",
                    field="--metric",
                )
        metrics = list(metrics)
    else:  # the sweep's defaults: keep those the stored outputs hold
        wanted = list(info.get("metrics") or [])
        metrics = [m for m in wanted if m in available]
        dropped = [m for m in wanted if m not in available]
        if not metrics:
            raise ScenarioError(
                f"none of the sweep's metrics ({', '.join(wanted)}) is in its results; "
                "expected --metric with one of: " + ", ".join(available),
                file=str(root),
            )
    out = Path(out) if out else root / "analysis"
    out.mkdir(parents=True, exist_ok=True)
    result = Analysis(out=out, summary=pd.DataFrame(), sensitivity=None)
    ok = res.rows[res.rows["finished"]]
    if dropped:
        result.notes.append(
            f"not in the stored outputs, so not analysed: {', '.join(dropped)} "
            "(per-campaign metrics are kept only with outputs: summary or both)"
        )
    if res.missing:
        result.notes.append(
            f"{res.missing} of {len(res.rows)} runs have not finished; "
            "the tables use the finished ones"
        )
    if len(res.failures):
        result.notes.append(f"{len(res.failures)} run(s) failed; see failures.csv")
        cols = [
            c
            for c in ("run_key", "replicate", "seed", *res.names, "error")
            if c in res.failures.columns
        ]
        _write_csv(res.failures[cols], out / "failures.csv", result)

    names = res.names
    summary = summarise(ok, ["point", *names], metrics, confidence)
    result.summary = summary
    _write_csv(summary, out / "summary.csv", result)
    discrete = [p["name"] for p in res.params if ok[p["name"]].nunique() <= MAX_DISCRETE]
    if discrete:
        parts = []
        for name in discrete:
            part = summarise(ok, [name], metrics, confidence)
            part.insert(0, "parameter", name)
            parts.append(part.rename(columns={name: "value"}))
        _write_csv(pd.concat(parts, ignore_index=True), out / "marginals.csv", result)

    method = info.get("design", {}).get("method")
    if method in ("sobol", "morris"):
        result.sensitivity = sensitivity(res, metrics, confidence, result.notes)
        if result.sensitivity is not None:
            _write_csv(result.sensitivity, out / "sensitivity.csv", result)

    if plots:
        from sim.sweeps import plots as figures

        pair = heatmap or analysis.get("heatmap") or names[:2]
        for metric in metrics:
            result.files.append(
                figures.metric_panels(
                    ok, res.params, metric, confidence, out, hues=pair if method == "grid" else None
                )
            )
            if len(names) >= 2:
                result.files.append(figures.heatmap(ok, res.params, metric, pair, out))
        if result.sensitivity is not None and len(result.sensitivity):
            result.files.append(figures.sensitivity(result.sensitivity, method, out))
    if out.resolve() != (root / "analysis").resolve():  # keep the provenance with the tables
        copy = out / "sweep.json"
        copy.write_text((root / "sweep.json").read_text())
        result.files.append(copy)
    report = out / "analysis.md"
    report.write_text(_report(res, result, metrics, confidence, method))
    result.files.append(report)
    return result


def _design_columns(res: Results) -> set[str]:
    return {"point", "replicate", "run_key", "seed", "finished", *res.names} | {
        c for c in res.rows.columns if c.startswith(SAMPLE_PREFIX)
    }


def _write_csv(frame: pd.DataFrame, path: Path, result: Analysis) -> None:
    frame.to_csv(path, index=False, float_format=FLOAT_FORMAT)
    result.files.append(path)


def sensitivity(
    res: Results, metrics: list[str], confidence: float, notes: list[str]
) -> pd.DataFrame | None:
    """Sobol (S1, ST and S2 if designed) or Morris (mu, mu*, sigma) indices per metric.

    Each design point's output is the mean over its replicates; the indices need every
    point, so a metric with an unfinished or failed point is skipped with a note.
    """
    info = res.info
    method = info["design"]["method"]
    problem = info.get("problem")
    if not problem:
        notes.append("no sampling problem recorded in sweep.json; sensitivity skipped")
        return None
    problem = {**problem, "bounds": [list(b) for b in problem["bounds"]]}
    by_point = res.rows.groupby("point", sort=True)
    seed = design_seed(int(info.get("master_seed", 0)))
    records = []
    for metric in metrics:
        y = by_point[metric].mean().to_numpy(dtype=np.float64)
        if len(y) != info["points"] or np.isnan(y).any():
            notes.append(f"{metric}: some design points have no finished run; no indices")
            continue
        if np.ptp(y) == 0:
            notes.append(f"{metric}: the same value at every point; no indices")
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            if method == "sobol":
                from SALib.analyze import sobol

                second = bool(info["design"].get("second_order"))
                si = sobol.analyze(
                    problem, y, calc_second_order=second, conf_level=confidence, seed=seed
                )
                for i, name in enumerate(problem["names"]):
                    for index in ("S1", "ST"):
                        records.append(
                            {
                                "metric": metric,
                                "parameter": name,
                                "index": index,
                                "value": float(si[index][i]),
                                "conf": float(si[f"{index}_conf"][i]),
                            }
                        )
                if second:
                    d = len(problem["names"])
                    for i in range(d):
                        for j in range(i + 1, d):
                            records.append(
                                {
                                    "metric": metric,
                                    "parameter": f"{problem['names'][i]} x {problem['names'][j]}",
                                    "index": "S2",
                                    "value": float(si["S2"][i, j]),
                                    "conf": float(si["S2_conf"][i, j]),
                                }
                            )
            else:
                from SALib.analyze import morris

                cols = [SAMPLE_PREFIX + n for n in problem["names"]]
                x = by_point[cols].first().to_numpy(dtype=np.float64)
                si = morris.analyze(
                    problem,
                    x,
                    y,
                    conf_level=confidence,
                    num_levels=int(info["design"].get("levels", 4)),
                    seed=seed,
                )
                for i, name in enumerate(problem["names"]):
                    for index in ("mu", "mu_star", "sigma"):
                        conf = float(si["mu_star_conf"][i]) if index == "mu_star" else math.nan
                        records.append(
                            {
                                "metric": metric,
                                "parameter": name,
                                "index": index,
                                "value": float(si[index][i]),
                                "conf": conf,
                            }
                        )
    return pd.DataFrame(records, columns=["metric", "parameter", "index", "value", "conf"])


# ------------------------------------------------------------------------ report
def _report(
    res: Results, result: Analysis, metrics: list[str], confidence: float, method: str | None
) -> str:
    info = res.info
    lines = [f"# Sweep `{info['name']}`", ""]
    if info.get("description"):
        lines += [" ".join(str(info["description"]).split()), ""]
    ok = int(res.rows["finished"].sum())
    fixed = ", ".join(f"`{o}`" for o in info["fixed_overrides"])
    lines += [
        f"- scenario: `{info['scenario_file']}` with {fixed or 'no fixed overrides'}",
        f"- design: {method}, {info['points']} points × {info['replicates']} replicates = "
        f"{info['runs']} runs ({info['distinct_runs']} distinct); "
        f"master seed {info['master_seed']}",
        f"- finished: {ok} of {len(res.rows)}; failed: {len(res.failures)}; "
        f"code {info['code_version']}",
        f"- intervals: {confidence:.0%} Student-t intervals of the mean over replicates",
        "",
        "Parameters:",
        "",
    ]
    for p in res.params:
        if p.get("levels"):
            what = "; ".join(f"{k}: {', '.join(v)}" for k, v in p["levels"].items())
        elif "values" in p:
            what = ", ".join(map(str, p["values"]))
        else:
            what = f"{p['low']:g} to {p['high']:g} ({p.get('scale', 'linear')})"
        field_name = f" (`{p['field']}`)" if p.get("field") else ""
        lines.append(f"- `{p['name']}`{field_name}: {what}")
    lines.append("")
    for note in result.notes:
        lines.append(f"> {note}")
    if result.notes:
        lines.append("")
    summary = result.summary
    points = summary["point"].nunique() if len(summary) else 0
    if 0 < points <= 40:
        lines += [f"## Means and {confidence:.0%} intervals", ""]
        names = res.names
        header = [*names, *metrics]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
        for _, group in summary.groupby("point", sort=True):
            first = group.iloc[0]
            cells = [_cell(first[n]) for n in names]
            for m in metrics:
                row = group[group["metric"] == m].iloc[0]
                if row["n"] >= 2:
                    cells.append(f"{row['mean']:.4g} [{row['ci_low']:.4g}, {row['ci_high']:.4g}]")
                else:
                    cells.append(f"{row['mean']:.4g}")
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    if result.sensitivity is not None and len(result.sensitivity):
        lines += ["## Sensitivity indices", ""]
        if method == "sobol":
            lines.append(
                "S1: share of the output variance due to the parameter alone; "
                "ST: including all its interactions. ± is the half-width of the "
                "bootstrap interval."
            )
        else:
            lines.append(
                "mu*: mean absolute elementary effect (overall influence); sigma: "
                "spread of the effects (non-linearity or interactions)."
            )
        lines += ["", "| metric | parameter | index | value | ± |", "|---|---|---|---|---|"]
        for _, r in result.sensitivity.iterrows():
            conf = "" if math.isnan(r["conf"]) else f"{r['conf']:.3g}"
            lines.append(
                f"| {r['metric']} | {r['parameter']} | {r['index']} | {r['value']:.3g} | {conf} |"
            )
        lines.append("")
    figures = [f for f in result.files if f.suffix == ".png"]
    if figures:
        lines += ["## Figures", ""]
        lines += [f"![{f.stem}]({f.name})" for f in figures]
        lines.append("")
    tables = [f for f in result.files if f.suffix == ".csv"]
    lines += ["## Tables", ""] + [f"- [{f.name}]({f.name})" for f in tables] + [""]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{value:.4g}"
    return str(value)
