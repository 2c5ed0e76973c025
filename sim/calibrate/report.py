"""A finished calibration's outputs: posterior, best-fit scenario, figures, report, manifest.

Everything is computed from pyabc's history and the evaluation log in the output folder,
plus a few runs of the best fit; nothing here changes the history, so a report can be
written again at any time.
"""

from __future__ import annotations

import json
import math
import platform
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import pyabc

from sim.calibrate.fit import (
    EVALUATIONS,
    Evaluator,
    history_of,
    natural_values,
    point_seeds,
)
from sim.calibrate.spec import Calibration
from sim.calibrate.targets import matched
from sim.scenario.document import apply_overrides
from sim.scenario.load import load_scenario, scenario_to_yaml

VERSIONS = ("clickfarm", "pyabc", "mesa", "numpy", "pandas", "scipy", "pyarrow", "matplotlib")
INTERVAL = (0.05, 0.95)
"""The report's intervals: 90%, as in the parameter-recovery test."""


@dataclass(frozen=True)
class TargetRow:
    """One line of the fitted-vs-held-out table."""

    name: str
    fit: bool
    value: float
    tolerance: float
    source: str
    best_fit_mean: float
    best_fit_low: float
    best_fit_high: float
    best_fit_yaml_run: float
    posterior_low: float
    posterior_high: float
    matched: bool
    closest_tried: float
    reachable: bool
    """Whether any evaluated point came within tolerance (False: a structural gap)."""


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The ``q`` quantile of ``values`` under normalised ``weights`` (NaNs dropped)."""
    keep = np.isfinite(values)
    values, weights = values[keep], weights[keep]
    if values.size == 0:
        return math.nan
    order = np.argsort(values)
    values, weights = values[order], weights[order]
    cumulative = (np.cumsum(weights) - 0.5 * weights) / weights.sum()
    return float(np.interp(q, cumulative, values))


def posterior_frame(calibration: Calibration, history: pyabc.History) -> pd.DataFrame:
    """Every generation's particles: generation, weight, distance, parameters, targets."""
    rows = []
    for t in range(history.max_t + 1):
        population = history.get_population(t=t)
        for particle in population.particles:
            values = natural_values(calibration, dict(particle.parameter))
            row = {"generation": t, "weight": particle.weight, "distance": particle.distance}
            row.update(values)
            row.update({k: float(v) for k, v in particle.sum_stat.items()})
            rows.append(row)
    frame = pd.DataFrame(rows)
    for t in frame["generation"].unique():  # weights sum to 1 within each generation
        mask = frame["generation"] == t
        frame.loc[mask, "weight"] /= frame.loc[mask, "weight"].sum()
    return frame


def final_generation(posterior: pd.DataFrame) -> pd.DataFrame:
    """The particles of the last generation in a posterior frame."""
    return posterior[posterior["generation"] == posterior["generation"].max()]


def evaluations_frame(folder: Path) -> pd.DataFrame:
    """Every logged evaluation (accepted or not): parameter values and target values."""
    records = []
    for path in sorted((folder / EVALUATIONS).glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            records.append({**record["values"], **record["targets"]})
    return pd.DataFrame(records)


@dataclass
class Outcome:
    """What the report states: best fit, its runs, the target table and the verdicts."""

    best: dict[str, float]
    seeds: list[int]
    runs: list[dict[str, float]]
    rows: list[TargetRow]
    posterior: pd.DataFrame
    generations: pd.DataFrame

    @property
    def missed_fitted(self) -> list[TargetRow]:
        """Fitted targets the best fit does not match."""
        return [r for r in self.rows if r.fit and not r.matched]

    @property
    def missed_held_out(self) -> list[TargetRow]:
        """Held-out targets the best fit does not predict."""
        return [r for r in self.rows if not r.fit and not r.matched]

    @property
    def structural_gaps(self) -> list[TargetRow]:
        """Fitted targets no parameter point tried came within tolerance of."""
        return [r for r in self.rows if r.fit and not r.reachable]


def assess(calibration: Calibration, folder: Path) -> Outcome:
    """Pick the best fit, run it ``check_replicates`` times and judge every target."""
    history = history_of(folder)
    posterior = posterior_frame(calibration, history)
    last = final_generation(posterior)
    best_row = last.loc[last["distance"].idxmin()]
    best = {p.key: float(best_row[p.key]) for p in calibration.parameters}
    check = calibration.method.check_replicates
    runs = Evaluator(calibration).runs(best, check)
    seeds = point_seeds(calibration.spec.seed, best, check)
    tried = evaluations_frame(folder)
    if tried.empty:
        tried = posterior
    rows = []
    for t in calibration.targets:
        values = np.array([r[t.name] for r in runs])
        simulated = tried[t.name].to_numpy(dtype=float)
        gaps = np.abs(simulated - t.value)
        closest = float(simulated[np.nanargmin(gaps)]) if np.isfinite(gaps).any() else math.nan
        weights = last["weight"].to_numpy()
        mean = float(np.mean(values))
        rows.append(
            TargetRow(
                name=t.name,
                fit=t.fit,
                value=t.value,
                tolerance=t.tolerance,
                source=t.source,
                best_fit_mean=mean,
                best_fit_low=float(np.quantile(values, INTERVAL[0])),
                best_fit_high=float(np.quantile(values, INTERVAL[1])),
                best_fit_yaml_run=float(values[0]),
                posterior_low=weighted_quantile(last[t.name].to_numpy(), weights, INTERVAL[0]),
                posterior_high=weighted_quantile(last[t.name].to_numpy(), weights, INTERVAL[1]),
                matched=matched(mean, t),
                closest_tried=closest,
                reachable=matched(closest, t),
            )
        )
    return Outcome(
        best=best,
        seeds=seeds,
        runs=runs,
        rows=rows,
        posterior=posterior,
        generations=history.get_all_populations(),
    )


def best_fit_yaml(calibration: Calibration, best: dict[str, float], seed: int) -> str:
    """The scenario at the best fit, fully resolved, with the first check run's seed."""
    assignments = [a for p in calibration.parameters for a in p.assignments(best[p.key])]
    scenario = load_scenario(apply_overrides(calibration.base, [*assignments, f"seed={seed}"]))
    header = [
        f"# Best fit of calibration '{calibration.name}' ({shown_path(calibration.file)}).",
        "# Run it as it is: clickfarm run best_fit.yaml",
        *(f"# calibrated: {p.key} = {p.to_value(best[p.key])!r}" for p in calibration.parameters),
    ]
    return "\n".join(header) + "\n" + scenario_to_yaml(scenario)


def manifest(calibration: Calibration, history: pyabc.History, wall_seconds: float) -> dict:
    """Seed, versions, commit and budget: what is needed to reproduce the calibration."""
    from sim.run.outputs import git_state

    versions = {"python": platform.python_version()}
    for name in VERSIONS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "calibration": calibration.name,
        "calibration_file": shown_path(calibration.file),
        "scenario_file": shown_path(calibration.scenario_path),
        "seed": calibration.spec.seed,
        "generations": int(history.max_t) + 1,
        "evaluations": int(history.total_nr_simulations),
        "runs_per_evaluation": calibration.method.replicates,
        "versions": versions,
        "git": git_state(),
        "wall_seconds": round(wall_seconds, 1),
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": sys.argv,
    }


def write_outputs(calibration: Calibration, folder: Path, wall_seconds: float) -> Outcome:
    """Write posterior.parquet, targets.csv, best_fit.yaml, figures, report.md, manifest."""
    from sim.calibrate.figures import save_figures

    outcome = assess(calibration, folder)
    history = history_of(folder)
    outcome.posterior.to_parquet(folder / "posterior.parquet", index=False)
    pd.DataFrame([asdict(r) for r in outcome.rows]).to_csv(folder / "targets.csv", index=False)
    (folder / "best_fit.yaml").write_text(
        best_fit_yaml(calibration, outcome.best, outcome.seeds[0]), encoding="utf-8"
    )
    (folder / "best_fit.json").write_text(
        json.dumps(
            {"values": outcome.best, "seeds": outcome.seeds, "yaml_run": outcome.runs[0]},
            indent=2,
        )
        + "\n"
    )
    save_figures(calibration, outcome, folder)
    info = manifest(calibration, history, wall_seconds)
    (folder / "manifest.json").write_text(json.dumps(info, indent=2, default=str) + "\n")
    (folder / "report.md").write_text(report_text(calibration, outcome, info), encoding="utf-8")
    return outcome


# -------------------------------------------------------------------------- report
def shown_path(path: Path) -> str:
    """A path as the reader would type it: relative to the working folder when inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _num(x: float) -> str:
    if not math.isfinite(x):
        return "n/a"
    return f"{x:.4g}"


def verdicts(outcome: Outcome) -> list[str]:
    """The plain sentences at the top of the report."""
    lines = []
    fitted = [r for r in outcome.rows if r.fit]
    held = [r for r in outcome.rows if not r.fit]
    if not outcome.missed_fitted:
        lines.append(f"Every fitted target ({len(fitted)}) is matched within its tolerance.")
    for r in outcome.missed_fitted:
        why = (
            "no parameter point tried came within tolerance (closest "
            f"{_num(r.closest_tried)}): the model cannot reach it in these ranges"
            if not r.reachable
            else "some points tried reached it, but not together with the other targets"
        )
        lines.append(
            f"**Fitted target `{r.name}` is missed**: {_num(r.best_fit_mean)} against "
            f"{_num(r.value)} ± {_num(r.tolerance)}; {why}."
        )
    for r in outcome.missed_held_out:
        lines.append(
            f"**Held-out target `{r.name}` is missed**: the calibrated model predicts "
            f"{_num(r.best_fit_mean)} against {_num(r.value)} ± {_num(r.tolerance)}. "
            "The calibration does not validate on this figure."
        )
    if held and not outcome.missed_held_out:
        lines.append(f"Every held-out target ({len(held)}) is predicted within its tolerance.")
    if not held:
        lines.append("No target was held out, so this calibration is not validated.")
    return lines


def report_text(calibration: Calibration, outcome: Outcome, info: dict) -> str:
    """report.md: verdicts, parameters, the target table, figures and how to reproduce."""
    last = final_generation(outcome.posterior)
    w = last["weight"].to_numpy()
    lines = [
        f"# Calibration: {calibration.name}",
        "",
        calibration.spec.description.strip(),
        "",
        f"Scenario `{shown_path(calibration.scenario_path)}`"
        + (f" with {', '.join(f'`{a}`' for a in calibration.fixed)}" if calibration.fixed else "")
        + f". ABC-SMC (pyabc), {info['generations']} generations of "
        f"{calibration.method.population} particles, {info['evaluations']:,} parameter points "
        f"evaluated, {calibration.method.replicates} run(s) each; master seed "
        f"{calibration.spec.seed}.",
        "",
        "## Verdict",
        "",
        *(f"- {v}" for v in verdicts(outcome)),
        "",
        "## Parameters",
        "",
        "| parameter | prior | posterior median | 90% interval | best fit |",
        "|---|---|---|---|---|",
    ]
    for p in calibration.parameters:
        x = last[p.key].to_numpy()
        keys = "`" + "`, `".join(p.keys) + "`"
        prior = f"{'log-' if p.scale == 'log' else ''}uniform [{_num(p.low)}, {_num(p.high)}]"
        lines.append(
            f"| {keys} | {prior} | {_num(weighted_quantile(x, w, 0.5))} | "
            f"{_num(weighted_quantile(x, w, INTERVAL[0]))} – "
            f"{_num(weighted_quantile(x, w, INTERVAL[1]))} | "
            f"{_num(p.to_value(outcome.best[p.key]))} |"
        )
    lines += [
        "",
        "## Targets: fitted and held out",
        "",
        f"Best fit = the final generation's particle closest to the fitted targets, run "
        f"{calibration.method.check_replicates} times (seeds in best_fit.json); "
        "the interval is the 5–95% range of those runs. Posterior interval = the weighted "
        "5–95% range over the final generation.",
        "",
        "| target | role | published | best fit (mean) | best-fit runs 90% | posterior 90% "
        "| matched | source |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in outcome.rows:
        lines.append(
            f"| `{r.name}` | {'fitted' if r.fit else 'held out'} | {_num(r.value)} ± "
            f"{_num(r.tolerance)} | {_num(r.best_fit_mean)} | {_num(r.best_fit_low)} – "
            f"{_num(r.best_fit_high)} | {_num(r.posterior_low)} – {_num(r.posterior_high)} | "
            f"{'yes' if r.matched else '**no**'} | {r.source} |"
        )
    lines += [
        "",
        "## Figures",
        "",
        "![Each target against the simulated value](targets.png)",
        "",
        "![Posterior marginals and pairs](posterior.png)",
        "",
        "![Convergence: epsilon and acceptance by generation](convergence.png)",
        "",
        "## Reproduce",
        "",
        f"- Rerun: `clickfarm calibrate {shown_path(calibration.file)} --restart` (same "
        "seed, same result with any number of local workers: see docs/calibration.md).",
        "- `best_fit.yaml` runs as it is: `clickfarm run best_fit.yaml` gives the first "
        "best-fit run (column `best_fit_yaml_run` of targets.csv).",
        f"- Code: commit {(info.get('git') or {}).get('commit', 'unknown')}; versions in "
        "manifest.json.",
        "",
    ]
    return "\n".join(lines)
