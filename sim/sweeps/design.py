"""From a checked sweep to points, and from points to runs.

A *design* is the list of parameter points: every combination of the listed values
(grid), or points drawn in the unit of each parameter (random, Latin hypercube, Sobol,
Morris, the last three with SALib). A *plan* turns every point into a validated scenario
and every (point, replicate) into a run with a derived seed and a content key.

Sampled designs draw in a "problem space" per parameter: ``[low, high]`` for a linear
range (widened by half a unit at each end for whole-number fields, so every integer is
equally likely after rounding), ``[log10 low, log10 high]`` for a log range, and
``[0, n)`` for a list of ``n`` values or levels (the value is picked by the integer
part). The raw draws are kept with the design because SALib's analyses need them.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.scenario.errors import ScenarioError
from sim.scenario.load import resolved_dict
from sim.sweeps.identity import behaviour, code_version, design_seed, digest, run_key, run_seed
from sim.sweeps.spec import MAX_RUNS, Parameter, Sweep, to_kind
from sim.sweeps.worker import RunTask

SAMPLE_PREFIX = "sample__"


@dataclass
class Design:
    """The points a sweep's design method chose.

    Attributes:
        method: ``grid``, ``random``, ``lhs``, ``sobol`` or ``morris``.
        parameters: The swept parameters.
        points: One mapping of parameter name to value per point.
        samples: The raw draws in problem space, one row per point (sampled designs).
        problem: The SALib problem (names and bounds), for the sensitivity analysis.
    """

    method: str
    parameters: list[Parameter]
    points: list[dict[str, Any]]
    samples: np.ndarray | None = None  # raw draws in problem space, one row per point
    problem: dict[str, Any] | None = None  # the SALib problem (names, bounds)

    @property
    def names(self) -> list[str]:
        """The parameter names, in the sweep file's order."""
        return [p.name for p in self.parameters]


@dataclass
class Plan:
    """Everything a sweep will run: the design table and one task per distinct run."""

    sweep: Sweep
    design: Design
    table: pd.DataFrame  # one row per (point, replicate)
    tasks: dict[str, RunTask]  # by run key; identical runs appear once
    code: str


def problem_bounds(p: Parameter) -> tuple[float, float]:
    """The range a sampler draws a parameter from.

    Levels and listed values become index ranges, log scales their base-10 logarithms,
    and integer ranges widen by half a unit so that each integer is equally likely.
    """
    if p.values is not None:
        return 0.0, float(len(p.values))
    if p.scale == "log":
        return math.log10(p.low), math.log10(p.high)
    if p.kind == "int":
        return math.ceil(p.low) - 0.5, math.floor(p.high) + 0.5
    return p.low, p.high


def from_sample(p: Parameter, x: float) -> Any:
    """The value a raw draw in problem space stands for."""
    if p.values is not None:
        return p.values[min(max(int(math.floor(x)), 0), len(p.values) - 1)]
    if p.scale == "log":
        x = 10.0**x
    return to_kind(x, p)


def salib_problem(params: list[Parameter]) -> dict[str, Any]:
    """The SALib problem description (names and bounds) of these parameters."""
    return {
        "num_vars": len(params),
        "names": [p.name for p in params],
        "bounds": [list(problem_bounds(p)) for p in params],
    }


def grid_values(p: Parameter) -> list[Any]:
    """The distinct values a grid takes along one parameter, in order."""
    if p.values is not None:
        return list(p.values)
    if p.scale == "log":
        raw = np.geomspace(p.low, p.high, p.num)
    else:
        raw = np.linspace(p.low, p.high, p.num)
    out: list[Any] = []
    for x in raw:
        v = to_kind(float(x), p)
        if v not in out:
            out.append(v)
    return out


def make_design(sweep: Sweep) -> Design:
    """Choose the points of a sweep by its design method.

    Raises:
        ScenarioError: The design would have more runs than allowed.
    """
    params = sweep.parameters
    spec = sweep.spec.design
    method = spec.method
    if method == "grid":
        axes = [grid_values(p) for p in params]
        count = math.prod(len(a) for a in axes)
        _check_size(sweep, count)
        points = [
            dict(zip([p.name for p in params], combo, strict=True))
            for combo in itertools.product(*axes)
        ]
        return Design(method, params, points)
    seed = design_seed(sweep.spec.seed)
    problem = salib_problem(params)
    n = spec.samples or 0
    d = len(params)
    if method == "random":
        _check_size(sweep, n)
        unit = np.random.default_rng(seed).random((n, d))
        lows = np.array([b[0] for b in problem["bounds"]])
        highs = np.array([b[1] for b in problem["bounds"]])
        raw = lows + unit * (highs - lows)
    elif method == "lhs":
        _check_size(sweep, n)
        from SALib.sample import latin

        raw = latin.sample(problem, n, seed=seed)
    elif method == "sobol":
        second = bool(spec.second_order)
        _check_size(sweep, n * (2 * d + 2 if second else d + 2))
        from SALib.sample import sobol

        raw = sobol.sample(problem, n, calc_second_order=second, scramble=True, seed=seed)
    elif method == "morris":
        _check_size(sweep, n * (d + 1))
        from SALib.sample import morris

        raw = morris.sample(problem, n, num_levels=spec.levels or 4, seed=seed)
    else:  # pragma: no cover - the schema allows only the methods above
        raise ValueError(f"unknown design method {method!r}")
    raw = np.asarray(raw, dtype=np.float64)
    points = [
        {p.name: from_sample(p, float(x)) for p, x in zip(params, row, strict=True)} for row in raw
    ]
    return Design(method, params, points, samples=raw, problem=problem)


def _check_size(sweep: Sweep, points: int) -> None:
    runs = points * sweep.replicates
    if runs > MAX_RUNS:
        raise ScenarioError(
            f"the design has {points:,} points x {sweep.replicates} replicates = {runs:,} runs;"
            f" expected at most {MAX_RUNS:,} in one sweep",
            file=str(sweep.file),
            line=sweep.parameters_line,
            field="design",
        )


def plan_runs(sweep: Sweep, code: str | None = None) -> Plan:
    """Validate every point's scenario and derive every run's seed and key."""
    code = code or code_version()
    design = make_design(sweep)
    keep_summary, keep_series = sweep.outputs
    common = sweep.spec.seeds == "common"
    rows: list[dict[str, Any]] = []
    tasks: dict[str, RunTask] = {}
    checked: dict[tuple[str, ...], tuple[Any, str]] = {}
    for i, point in enumerate(design.points):
        assignments = [a for p in sweep.parameters for a in p.assignments(point[p.name])]
        cache_key = tuple(assignments)
        if cache_key not in checked:
            try:
                scenario = sweep.point_scenario(assignments)
            except ScenarioError as exc:
                values = ", ".join(f"{k}={v}" for k, v in point.items())
                raise ScenarioError(
                    f"design point {i} ({values}) gives an invalid scenario: {exc}",
                    file=str(sweep.file),
                    line=sweep.parameters_line,
                    field="parameters",
                ) from None
            checked[cache_key] = (scenario, digest(behaviour(resolved_dict(scenario))))
        scenario, behaviour_hash = checked[cache_key]
        for r in range(sweep.replicates):
            seed = run_seed(sweep.spec.seed, behaviour_hash, r, common)
            key = run_key(behaviour_hash, seed, code)
            row = {"point": i, "replicate": r, "run_key": key, "seed": seed, **point}
            if design.samples is not None:
                for p, x in zip(sweep.parameters, design.samples[i], strict=True):
                    row[SAMPLE_PREFIX + p.name] = float(x)
            rows.append(row)
            if key not in tasks:
                tasks[key] = RunTask(
                    key=key,
                    scenario=scenario,
                    seed=seed,
                    replicate=r,
                    params=dict(point),
                    overrides=tuple(sweep.fixed + assignments),
                    keep_summary=keep_summary,
                    keep_series=keep_series,
                    code_version=code,
                )
    table = pd.DataFrame(rows)
    for p in sweep.parameters:
        table[p.name] = column_values(table[p.name], p)
    return Plan(sweep=sweep, design=design, table=table, tasks=tasks, code=code)


def column_values(values: pd.Series, p: Parameter) -> pd.Series:
    """A parameter column with one fixed type (int64, float64, bool or text)."""
    if p.kind == "int":
        return values.astype("int64")
    if p.kind in ("float", "money"):
        return values.astype("float64")
    if p.kind == "bool":
        return values.astype(bool)
    return values.astype(str)
