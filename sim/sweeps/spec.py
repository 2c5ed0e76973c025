"""Sweep files: the YAML schema, and loading it with errors that name file, line and field.

A sweep file names a base scenario, the fields to vary and how to sample them. Loading
it checks everything that can be checked before a single run starts: the schema, that
each parameter addresses a real scalar field of the scenario, that the ends of every
range and every listed value give a valid scenario, and that the design suits the
parameters. Every problem is a :class:`~sim.scenario.errors.ScenarioError` whose one-line text is
``file:line: field: message``.

See ``docs/sweeps.md`` for the format with examples.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from sim.scenario.document import SourcedDoc, apply_overrides, load_document, parse_yaml, read_text
from sim.scenario.errors import ScenarioError
from sim.scenario.fields import FIELD_KINDS as _KINDS
from sim.scenario.fields import field_kind
from sim.scenario.load import load_scenario, resolve_path
from sim.scenario.messages import shown as _show
from sim.scenario.messages import validation_error
from sim.scenario.schema import Scenario
from sim.sweeps.identity import yaml_value

DEFAULT_METRICS = (
    "total_surviving",
    "cost_per_1000_surviving",
    "total_unpaid_hours",
    "worker_share_of_spend",
    "hourly_pay_median",
)
IDENTITY_COLUMNS = ("run_key", "replicate", "seed", "point")
EXTRA_COLUMNS = (
    "ledger_balanced",
    "points_issued",
    "wall_seconds",
    "worker",
    "code_version",
    "model_version",
    "overrides",
    "error",
    "detail",
)
MAX_RUNS = 1_000_000

Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,59}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ParameterSpec(_Strict):
    """One varied quantity: a field with ``values`` or a range, or a named factor."""

    values: Annotated[list[Any], Field(min_length=1, max_length=10_000)] | None = None
    low: Annotated[float, Field(allow_inf_nan=False)] | None = None
    high: Annotated[float, Field(allow_inf_nan=False)] | None = None
    num: Annotated[int, Field(ge=2, le=10_000)] | None = None
    scale: Literal["linear", "log"] = "linear"
    name: Name | None = None
    also: Annotated[list[str], Field(min_length=1)] | None = None
    levels: Annotated[dict[Name, dict[str, Any]], Field(min_length=1)] | None = None


class DesignSpec(_Strict):
    """The ``design:`` section of a sweep file: method and sample sizes."""

    method: Literal["grid", "random", "lhs", "sobol", "morris"]
    samples: Annotated[int, Field(ge=1, le=MAX_RUNS)] | None = None
    levels: Annotated[int, Field(ge=2, le=100)] | None = None
    second_order: bool | None = None


class AnalysisSpec(_Strict):
    """The ``analysis:`` section: metrics, confidence level and heatmap axes."""

    metrics: Annotated[list[str], Field(min_length=1)] | None = None
    confidence: Annotated[float, Field(gt=0, lt=1)] = 0.95
    heatmap: Annotated[list[str], Field(min_length=2, max_length=2)] | None = None


class SweepSpec(_Strict):
    """A sweep file as written, checked field by field (see docs/sweeps.md)."""

    kind: Literal["sweep"] | None = Field(default=None, exclude=True)
    name: Name | None = None
    description: str = ""
    scenario: Annotated[str, Field(min_length=1)]
    set: dict[str, Any] = {}
    days: Annotated[float, Field(gt=0, le=3650)] | None = None
    steps: Annotated[int, Field(ge=1, le=24 * 3650)] | None = None
    parameters: Annotated[dict[str, ParameterSpec], Field(min_length=1)]
    design: DesignSpec
    replicates: Annotated[int, Field(ge=1, le=10_000)] = 1
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)]
    seeds: Literal["independent", "common"] = "independent"
    outputs: Literal["summary", "timeseries", "both"] = "summary"
    analysis: AnalysisSpec = AnalysisSpec()


# ------------------------------------------------------------------- resolved sweep
@dataclass(frozen=True)
class Parameter:
    """A parameter after checking: what it sets and which values it may take."""

    name: str
    key: str | None  # the dotted scenario field; None for a factor with levels
    kind: str  # int, float, money, bool, text, factor
    values: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    num: int | None = None
    scale: str = "linear"
    levels: dict[str, tuple[str, ...]] | None = None
    minor_units: int = 1
    also: tuple[str, ...] = ()  # more fields that always take the same value

    @property
    def is_range(self) -> bool:
        """True for a parameter given by ``low`` and ``high``."""
        return self.low is not None

    def assignments(self, value: Any) -> list[str]:
        """The ``dotted.key=value`` overrides that give this parameter ``value``."""
        if self.levels is not None:
            return list(self.levels[value])
        text = format_value(value, self.kind)
        return [f"{key}={text}" for key in (self.key, *self.also)]

    def describe(self) -> dict[str, Any]:
        """The parameter as recorded in ``sweep.json``."""
        out: dict[str, Any] = {"name": self.name, "field": self.key, "kind": self.kind}
        if self.also:
            out["also"] = list(self.also)
        if self.values is not None:
            out["values"] = list(self.values)
        if self.is_range:
            out.update(low=self.low, high=self.high, scale=self.scale)
            if self.num:
                out["num"] = self.num
        if self.levels is not None:
            out["levels"] = {k: list(v) for k, v in self.levels.items()}
        return out


@dataclass
class Sweep:
    """A checked sweep file, ready to be turned into runs."""

    file: Path
    name: str
    spec: SweepSpec
    scenario_path: Path
    base: SourcedDoc  # the base scenario with the fixed overrides applied
    fixed: list[str]  # fixed overrides (``set:`` and the run length), in order
    parameters: list[Parameter]
    locator: dict[str, tuple[str, int | None, str]] = field(default_factory=dict)
    parameters_line: int | None = None

    @property
    def method(self) -> str:
        """The design method."""
        return self.spec.design.method

    @property
    def replicates(self) -> int:
        """Runs per design point, each with its own seed."""
        return self.spec.replicates

    @property
    def outputs(self) -> tuple[bool, bool]:
        """(keep the final summary, keep the per-step series)."""
        o = self.spec.outputs
        return o in ("summary", "both"), o in ("timeseries", "both")

    @property
    def metrics(self) -> list[str]:
        """The metrics to analyse (the file's, or the defaults)."""
        return list(self.spec.analysis.metrics or DEFAULT_METRICS)

    def point_scenario(self, assignments: list[str]) -> Scenario:
        """Validate the base scenario with one point's overrides (errors point at the sweep)."""
        with self.located():
            return load_scenario(self.base, assignments)

    @contextlib.contextmanager
    def located(self) -> Iterator[None]:
        """Re-raise scenario errors at the sweep-file line that caused them."""
        try:
            yield
        except ScenarioError as exc:
            raise relocate(exc, self.locator) from None


def format_value(value: Any, kind: str) -> str:
    """A value written as an override's right-hand side (money as exact decimals)."""
    if kind == "money":
        return format(Decimal(str(value)), "f")
    return yaml_value(value)


def relocate(exc: ScenarioError, locator: dict[str, tuple[str, int | None, str]]) -> ScenarioError:
    """An error raised by an override, moved to the sweep-file line that wrote it."""
    source = exc.file or ""
    for assignment in sorted(locator, key=len, reverse=True):
        if source == assignment or source.endswith(" " + assignment):
            file, line, where = locator[assignment]
            key = assignment.partition("=")[0]
            message = exc.message
            if exc.field and exc.field not in (key, where):
                message = f"{exc.field}: {message}"
            return ScenarioError(message, file=file, line=line, field=where)
    return exc


# ------------------------------------------------------------------------- loading
def load_sweep(path: str | Path) -> Sweep:
    """Read and check a sweep file; raise ScenarioError naming the file, line and field."""
    path = Path(path)
    doc = _normalise(parse_yaml(read_text(path, "sweep"), str(path)))
    try:
        spec = SweepSpec.model_validate(doc.data)
    except pydantic.ValidationError as exc:
        raise validation_error(exc, doc, SweepSpec) from None
    return _Checker(path, doc, spec).run()


def _normalise(doc: SourcedDoc) -> SourcedDoc:
    """Accept the short forms ``design: grid`` and ``field: [v1, v2]`` (values)."""
    data, origin = dict(doc.data), dict(doc.origin)
    if isinstance(data.get("design"), str):
        data["design"] = {"method": data["design"]}
        origin[("design", "method")] = origin.get(("design",), (doc.files[0], None))
    params = data.get("parameters")
    if isinstance(params, dict):
        params = dict(params)
        for key, value in params.items():
            if isinstance(value, list):
                params[key] = {"values": value}
                base = ("parameters", key)
                for path, where in list(origin.items()):
                    if path[:2] == base and len(path) > 2:
                        origin[base + ("values",) + path[2:]] = where
                origin[base + ("values",)] = origin.get(base, (doc.files[0], None))
        data["parameters"] = params
    return SourcedDoc(data=data, origin=origin, files=doc.files)


class _Checker:
    """The checks that need the base scenario: fields, bounds, design and parameters."""

    def __init__(self, path: Path, doc: SourcedDoc, spec: SweepSpec) -> None:
        self.path, self.doc, self.spec = path, doc, spec
        self.locator: dict[str, tuple[str, int | None, str]] = {}

    def fail(self, loc: tuple, message: str) -> ScenarioError:
        file, line = self.doc.locate(loc)
        return ScenarioError(message, file=file, line=line, field=".".join(map(str, loc)))

    def note(self, assignment: str, loc: tuple) -> str:
        file, line = self.doc.locate(loc)
        self.locator[assignment] = (file, line, ".".join(map(str, loc)))
        return assignment

    def run(self) -> Sweep:
        spec = self.spec
        self.check_design()
        scenario_path = self.find_scenario()
        base_doc = load_document(scenario_path)
        fixed = [self.note(f"{k}={yaml_value(v)}", ("set", k)) for k, v in spec.set.items()]
        for k in spec.set:
            if k == "seed" or k.startswith("seed."):
                raise self.fail(
                    ("set", k),
                    "the scenario's seed is replaced by each run's "
                    "own seed; expected the sweep's seed: field instead",
                )
        if spec.days is not None and spec.steps is not None:
            raise self.fail(("steps",), "give days or steps, not both")
        if spec.days is not None:
            fixed.append(self.note(f"days={yaml_value(float(spec.days))}", ("days",)))
        if spec.steps is not None:
            fixed.append(self.note(f"days={yaml_value(spec.steps / 24)}", ("steps",)))
        try:
            sweep_base = apply_overrides(base_doc, fixed)
            scenario = load_scenario(sweep_base)
        except ScenarioError as exc:
            raise relocate(exc, self.locator) from None
        self.base = sweep_base
        self.scale = scenario.currency.minor_units
        params = [self.parameter(key, p) for key, p in spec.parameters.items()]
        self.check_names(params)
        self.check_analysis(params)
        name = spec.name or _default_name(self.path)
        return Sweep(
            file=self.path,
            name=name,
            spec=spec,
            scenario_path=scenario_path,
            base=sweep_base,
            fixed=fixed,
            parameters=params,
            locator=self.locator,
            parameters_line=self.doc.locate(("parameters",))[1],
        )

    def find_scenario(self) -> Path:
        ref = self.spec.scenario
        beside = self.path.parent / ref
        if beside.is_file():
            return Path(os.path.normpath(beside))
        try:
            found = resolve_path(ref)
        except ScenarioError as exc:
            raise self.fail(
                ("scenario",),
                f"'{ref}' is neither a file next to the sweep "
                f"file nor a shipped scenario ({exc.message})",
            ) from None
        if not found.is_file():
            raise self.fail(
                ("scenario",),
                f"'{ref}' not found; expected a scenario file "
                f"relative to {self.path.parent} or a shipped scenario name",
            )
        return found

    def check_design(self) -> None:
        d = self.spec.design
        if d.method == "grid":
            if d.samples is not None:
                raise self.fail(
                    ("design", "samples"),
                    "a grid runs every combination of the "
                    "listed values; expected no samples: (or a sampled method)",
                )
        elif d.samples is None:
            raise self.fail(
                ("design",), f"the {d.method} design needs samples: (how many points to draw)"
            )
        if d.levels is not None and d.method != "morris":
            raise self.fail(
                ("design", "levels"),
                "levels: is the Morris grid size; expected it only with method: morris",
            )
        if d.second_order is not None and d.method != "sobol":
            raise self.fail(
                ("design", "second_order"),
                "second_order: applies to Sobol designs only; expected it only with method: sobol",
            )
        if d.method == "sobol" and d.samples and d.samples & (d.samples - 1):
            raise self.fail(
                ("design", "samples"),
                "Sobol sequences need a power of 2; "
                f"expected e.g. {1 << max(1, d.samples.bit_length() - 1)} or "
                f"{1 << d.samples.bit_length()}, got {d.samples}",
            )

    def parameter(self, key: str, p: ParameterSpec) -> Parameter:
        loc = ("parameters", key)
        method = self.spec.design.method
        if p.levels is not None:
            return self.factor(key, p)
        if key == "seed":
            raise self.fail(
                loc,
                "each run's seed comes from the sweep's master seed; "
                "expected another field (or replicates: for more seeds)",
            )
        if key == "days" and (self.spec.days is not None or self.spec.steps is not None):
            raise self.fail(loc, "days is both varied and fixed by days:/steps:; expected one")
        try:
            kind = field_kind(key, self.base.data)
        except ValueError as exc:
            raise self.fail(loc, str(exc)) from None
        also = tuple(p.also or ())
        for i, other in enumerate(also):
            try:
                other_kind = field_kind(other, self.base.data)
            except ValueError as exc:
                raise self.fail(loc + ("also", i), str(exc)) from None
            if other_kind != kind:
                raise self.fail(
                    loc + ("also", i),
                    f"{other} holds {_KINDS[other_kind]} but {key} holds {_KINDS[kind]}; "
                    "expected fields of one kind",
                )
            if other == key or other in also[:i]:
                raise self.fail(loc + ("also", i), f"{other} is listed twice")
        name = p.name or key.replace(".", "_")
        if len(name) > 60:
            raise self.fail(
                loc,
                "the column name made from this field is too long; expected a short name: for it",
            )
        has_range = p.low is not None or p.high is not None
        if p.values is not None and has_range:
            raise self.fail(loc, "expected either values: or low:/high:, not both")
        if p.values is None and not has_range:
            raise self.fail(loc, "expected values: [...] or a range with low: and high:")
        if p.values is not None:
            if p.num is not None or p.scale != "linear":
                raise self.fail(
                    loc + ("num" if p.num is not None else "scale",),
                    "num: and scale: describe a range; expected them with low:/high:",
                )
            if method in ("sobol", "morris"):
                raise self.fail(
                    loc + ("values",),
                    f"{method} designs need a continuous range; "
                    "expected low: and high: (values: lists work with grid, "
                    "random and lhs)",
                )
            values = tuple(self.cast(v, kind, loc + ("values", i)) for i, v in enumerate(p.values))
            seen: set = set()
            for i, v in enumerate(values):
                if (type(v), v) in seen:
                    raise self.fail(
                        loc + ("values", i), f"{_show(v)} is listed twice; expected each value once"
                    )
                seen.add((type(v), v))
                text = format_value(v, kind)
                self.validate_values([(f"{k}={text}", loc + ("values", i)) for k in (key, *also)])
            return Parameter(
                name=name, key=key, kind=kind, values=values, minor_units=self.scale, also=also
            )
        if p.low is None or p.high is None:
            missing = "high" if p.low is not None else "low"
            raise self.fail(loc, f"a range needs both low: and high:; {missing}: is missing")
        if kind not in ("int", "float", "money"):
            raise self.fail(
                loc,
                f"{key} is {'true/false' if kind == 'bool' else 'text'}, "
                "which has no range; expected values: [...]",
            )
        if not p.low < p.high:
            raise self.fail(
                loc + ("high",), f"expected high > low ({_num(p.low)}), got {_num(p.high)}"
            )
        if p.scale == "log" and p.low <= 0:
            raise self.fail(loc + ("low",), f"a log scale needs low > 0, got {_num(p.low)}")
        if p.num is not None and method != "grid":
            raise self.fail(
                loc + ("num",),
                f"num: sets the grid's points; the {method} "
                "design draws design.samples points instead",
            )
        if p.num is None and method == "grid":
            raise self.fail(
                loc,
                "a grid needs the points of each range; expected num: "
                "(how many evenly spaced values from low to high) or values:",
            )
        param = Parameter(
            name=name,
            key=key,
            kind=kind,
            low=float(p.low),
            high=float(p.high),
            num=p.num,
            scale=p.scale,
            minor_units=self.scale,
            also=also,
        )
        if kind == "int" and math.ceil(p.low) > math.floor(p.high):
            raise self.fail(
                loc,
                f"{key} takes whole numbers and none lies between {_num(p.low)} and {_num(p.high)}",
            )
        for v, end in ((p.low, "low"), (p.high, "high")):  # each end on its own
            text = format_value(to_kind(v, param), kind)
            self.validate_values([(f"{k}={text}", loc + (end,)) for k in (key, *also)])
        return param

    def factor(self, key: str, p: ParameterSpec) -> Parameter:
        loc = ("parameters", key)
        if self.spec.design.method in ("sobol", "morris"):
            raise self.fail(
                loc + ("levels",),
                f"{self.spec.design.method} designs need "
                "continuous ranges; expected low:/high: (levels work with grid, "
                "random and lhs)",
            )
        if "." in key or not key.replace("_", "a").isalnum() or not key[:1].islower():
            raise self.fail(
                loc,
                "a parameter with levels: sets several fields, so it is "
                "named by a plain name (lower-case letters, digits, '_'); "
                f"got '{key}'",
            )
        others = [
            f for f in ("values", "low", "high", "num", "name", "also") if getattr(p, f) is not None
        ]
        if others or p.scale != "linear":
            bad = others[0] if others else "scale"
            raise self.fail(loc + (bad,), f"{bad}: cannot be combined with levels:")
        levels: dict[str, tuple[str, ...]] = {}
        for label, settings in (p.levels or {}).items():
            if not settings:
                raise self.fail(loc + ("levels", label), "expected at least one field: value")
            pairs = []
            for field_key, value in settings.items():
                if field_key == "seed":
                    raise self.fail(
                        loc + ("levels", label, field_key),
                        "each run's seed comes from the sweep's master seed",
                    )
                try:
                    text = f"{field_key}={yaml_value(value)}"
                except ValueError as exc:
                    raise self.fail(loc + ("levels", label, field_key), str(exc)) from None
                pairs.append((text, loc + ("levels", label, field_key)))
            self.validate_values(pairs)
            levels[label] = tuple(text for text, _ in pairs)
        return Parameter(
            name=key,
            key=None,
            kind="factor",
            values=tuple(levels),
            levels=levels,
            minor_units=self.scale,
        )

    def cast(self, value: Any, kind: str, loc: tuple) -> Any:
        if isinstance(value, dict | list) or value is None:
            raise self.fail(
                loc,
                f"expected a single value, got {_show(value)}; to set "
                "several fields at once, use levels:",
            )
        if kind == "int":
            if isinstance(value, float) and value.is_integer():
                return int(value)
            if not isinstance(value, int) or isinstance(value, bool):
                raise self.fail(loc, f"expected a whole number, got {_show(value)}")
        if kind in ("float", "money"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise self.fail(loc, f"expected a number, got {_show(value)}")
            if not math.isfinite(value):
                raise self.fail(loc, f"expected a finite number, got {_show(value)}")
            return float(value)
        return value

    def validate_values(self, pairs: list[tuple[str, tuple]]) -> None:
        for assignment, loc in pairs:
            self.note(assignment, loc)
        try:
            load_scenario(self.base, [a for a, _ in pairs])
        except ScenarioError as exc:
            moved = relocate(exc, self.locator)
            if moved is exc:  # the failure is elsewhere in the scenario: say what caused it
                first = pairs[0][1]
                raise self.fail(
                    first, f"with {', '.join(a for a, _ in pairs)} the scenario is invalid: {exc}"
                ) from None
            raise moved from None

    def check_names(self, params: list[Parameter]) -> None:
        from sim.run.headline import HEADLINE

        reserved = set(IDENTITY_COLUMNS) | set(EXTRA_COLUMNS) | set(HEADLINE) | _series_names()
        seen: dict[str, str] = {}
        for key, p in zip(self.spec.parameters, params, strict=True):
            loc = ("parameters", key)
            if p.name in reserved:
                raise self.fail(
                    loc,
                    f"the column name '{p.name}' is already used by the "
                    "results; expected another name: for this parameter",
                )
            if p.name in seen:
                raise self.fail(
                    loc,
                    f"the column name '{p.name}' is also used by "
                    f"'{seen[p.name]}'; expected a distinct name:",
                )
            seen[p.name] = key

    def check_analysis(self, params: list[Parameter]) -> None:
        from sim.run.headline import HEADLINE
        from sim.sweeps.worker import CAMPAIGN_FIELDS, campaign_column

        a = self.spec.analysis
        campaigns = [c.get("id") for c in self.base.data.get("campaigns", [])]
        per_campaign = [campaign_column(c, f) for c in campaigns for f in CAMPAIGN_FIELDS]
        known = [*HEADLINE, *per_campaign]
        for i, metric in enumerate(a.metrics or []):
            if metric not in known:
                raise self.fail(
                    ("analysis", "metrics", i),
                    f"unknown metric '{metric}'; expected one of: {', '.join(HEADLINE)}, or "
                    f"campaign_<id>_<{'|'.join(CAMPAIGN_FIELDS)}> for campaigns "
                    f"{', '.join(map(str, campaigns))}",
                )
        names = [p.name for p in params]
        for i, name in enumerate(a.heatmap or []):
            if name not in names:
                raise self.fail(
                    ("analysis", "heatmap", i),
                    f"'{name}' is not a parameter; expected one of: {', '.join(names)}",
                )
        if a.heatmap and a.heatmap[0] == a.heatmap[1]:
            raise self.fail(("analysis", "heatmap"), "expected two different parameters")


def _series_names() -> set[str]:
    try:
        from sim.core.metrics import METRICS
    except ImportError:  # pragma: no cover - the metrics module moved
        return {"step", "hour", "day"}
    return set(METRICS) | {"step", "hour", "day"}


def _default_name(path: Path) -> str:
    stem = "".join(c if c.isalnum() else "_" for c in path.stem.lower()).strip("_")
    return stem if stem[:1].isalpha() else f"sweep_{stem}"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(x)


def to_kind(x: float, p: Parameter) -> Any:
    """A number from a range or a sample, made into a value the field accepts."""
    if p.kind == "int":
        lo, hi = math.ceil(p.low), math.floor(p.high)
        return int(min(max(math.floor(x + 0.5), lo), hi))
    if p.kind == "money":
        units = round(x * p.minor_units)
        return float(Decimal(units) / Decimal(p.minor_units))
    return float(x)
