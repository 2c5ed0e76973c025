"""Calibration files: the YAML schema, and loading it with ``file:line: field:`` errors.

A calibration file names a scenario, the free parameters (dotted scenario keys with
bounds), the targets (published figures and how to compute each from a run), the
method's budget and a master seed. Loading checks everything that can be checked before
the first run: the schema, that every parameter is a numeric field of the scenario and
both ends of its range give a valid scenario, and that each target refers to groups,
campaigns and fields that exist. See docs/calibration.md for the format.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from sim.scenario.document import SourcedDoc, apply_overrides, load_document, read_yaml_file
from sim.scenario.errors import ScenarioError
from sim.scenario.fields import field_kind
from sim.scenario.load import load_scenario, resolved_dict
from sim.scenario.messages import validation_error
from sim.scenario.schema import Scenario
from sim.sweeps.identity import yaml_value
from sim.sweeps.spec import format_value, relocate

Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,59}$")]
Finite = Annotated[float, Field(allow_inf_nan=False)]
CAMPAIGN_FIELDS = (
    "cost_per_1000_surviving",
    "delivered",
    "surviving",
    "removed",
    "spend",
    "delivered_share",
    "workers_share",
)
"""A campaign's figures: those of ``summary.campaigns`` and two ratios of them."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ParameterSpec(_Strict):
    """A free parameter: a uniform prior between ``low`` and ``high`` (or on log10)."""

    low: Finite
    high: Finite
    scale: Literal["linear", "log"] = "linear"
    also: Annotated[list[str], Field(min_length=1, max_length=20)] | None = None
    """More scenario keys that always take the same value (e.g. every worker group)."""


class HoursBand(_Strict):
    """A band of hours online per week: ``at_least`` <= hours < ``below``."""

    at_least: Annotated[float, Field(ge=0, le=168)] = 0.0
    below: Annotated[float, Field(gt=0, le=1e6)] = 1e6


class TargetSpec(_Strict):
    """One published figure and how to compute the model's counterpart from a run."""

    name: Name
    measure: Literal["headline", "campaign", "hourly_pay", "share_of_workers", "income_per_year"]
    field: str | None = None
    campaign: str | None = None
    groups: Annotated[list[str], Field(min_length=1)] | None = None
    hours: Literal["online", "paid"] = "online"
    statistic: Literal["pooled", "mean", "median"] = "pooled"
    online_hours_per_week: HoursBand | None = None
    value: Finite
    tolerance: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    """How far from ``value`` still counts as a match (the figure's uncertainty)."""
    source: Annotated[str, Field(min_length=1)]
    fit: bool = True
    """False holds the target out: it is predicted and reported, never fitted."""


class MethodSpec(_Strict):
    """ABC-SMC settings: population per generation, generations and the budget."""

    kind: Literal["abc_smc"] = "abc_smc"
    population: Annotated[int, Field(ge=5, le=10_000)]
    generations: Annotated[int, Field(ge=1, le=50)]
    replicates: Annotated[int, Field(ge=1, le=100)] = 1
    """Runs (seeds) per parameter point; the targets are their mean."""
    max_evaluations: Annotated[int, Field(ge=1, le=10_000_000)] = 100_000
    """Stop once this many parameter points have been evaluated (each = replicates runs)."""
    check_replicates: Annotated[int, Field(ge=1, le=100)] = 5
    """Runs of the best fit for the report's intervals."""


class CalibrationSpec(_Strict):
    """The calibration file as written (schema only; cross-checks come after)."""

    kind: Literal["calibration"] | None = Field(default=None, exclude=True)
    name: Name | None = None
    description: str = ""
    scenario: Annotated[str, Field(min_length=1)]
    set: dict[str, Any] = {}
    days: Annotated[float, Field(gt=0, le=3650)] | None = None
    parameters: Annotated[dict[str, ParameterSpec], Field(min_length=1, max_length=10)]
    targets: Annotated[list[TargetSpec], Field(min_length=1, max_length=50)]
    method: MethodSpec
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)]


@dataclass(frozen=True)
class FreeParameter:
    """A checked free parameter: the keys it sets, its kind and its prior range."""

    key: str
    kind: str  # int, float or money
    low: float
    high: float
    scale: str
    also: tuple[str, ...] = ()
    minor_units: int = 1

    @property
    def keys(self) -> tuple[str, ...]:
        """Every scenario key this parameter sets."""
        return (self.key, *self.also)

    def to_value(self, x: float) -> float | int:
        """A sampled number made into a value the field accepts (whole, or whole units)."""
        x = min(max(float(x), self.low), self.high)
        if self.kind == "int":
            return int(min(max(math.floor(x + 0.5), math.ceil(self.low)), math.floor(self.high)))
        if self.kind == "money":
            return round(x * self.minor_units) / self.minor_units
        return x

    def assignments(self, x: float) -> list[str]:
        """The ``dotted.key=value`` overrides that give this parameter the value ``x``."""
        text = format_value(self.to_value(x), self.kind)
        return [f"{key}={text}" for key in self.keys]


@dataclass
class Calibration:
    """A checked calibration file, ready to run."""

    file: Path
    name: str
    spec: CalibrationSpec
    scenario_path: Path
    base: SourcedDoc  # the scenario with the fixed overrides applied
    fixed: list[str]
    parameters: list[FreeParameter]
    text: str  # the file's text, recorded with the results

    @property
    def targets(self) -> list[TargetSpec]:
        """Every target, fitted and held out, in file order."""
        return list(self.spec.targets)

    @property
    def fitted(self) -> list[TargetSpec]:
        """The targets the fit uses."""
        return [t for t in self.spec.targets if t.fit]

    @property
    def method(self) -> MethodSpec:
        """The ABC-SMC settings."""
        return self.spec.method

    def scenario_at(self, values: dict[str, float]) -> Scenario:
        """The validated scenario with the free parameters at ``values`` (by key)."""
        assignments = [a for p in self.parameters for a in p.assignments(values[p.key])]
        return load_scenario(apply_overrides(self.base, assignments))


# ------------------------------------------------------------------------- loading
def load_calibration(path: str | Path) -> Calibration:
    """Read and check a calibration file; raise ScenarioError naming file, line and field."""
    path = Path(path)
    doc = read_yaml_file(path, "calibration")
    text = path.read_text(encoding="utf-8")
    try:
        spec = CalibrationSpec.model_validate(doc.data)
    except pydantic.ValidationError as exc:
        raise _translate(exc, doc) from None
    return _Checker(path, doc, spec, text).run()


def _translate(exc: pydantic.ValidationError, doc: SourcedDoc) -> ScenarioError:
    """The calibration file's one-line message (the allowed names for an unknown field)."""
    return validation_error(exc, doc, CalibrationSpec)


class _Checker:
    """The checks that need the scenario: parameter keys and ranges, target references."""

    def __init__(self, path: Path, doc: SourcedDoc, spec: CalibrationSpec, text: str) -> None:
        self.path, self.doc, self.spec, self.text = path, doc, spec, text
        self.locator: dict[str, tuple[str, int | None, str]] = {}

    def where(self, loc: tuple) -> tuple[str, int | None, str]:
        """File, line and dotted field of ``loc`` in the calibration file."""
        return (*self.doc.locate(loc), ".".join(map(str, loc)))

    def fail(self, loc: tuple, message: str) -> ScenarioError:
        """An error located at ``loc`` in the calibration file."""
        file, line, field = self.where(loc)
        return ScenarioError(message, file=file, line=line, field=field)

    def note(self, assignment: str, loc: tuple) -> str:
        """Remember where an override was written, so its errors can point there."""
        self.locator[assignment] = self.where(loc)
        return assignment

    def run(self) -> Calibration:
        """Every check; the checked calibration."""
        spec = self.spec
        scenario_path = self.find_scenario()
        base_doc = load_document(scenario_path)
        for key in spec.set:
            if key == "seed":
                raise self.fail(
                    ("set", key), "each run's seed comes from the calibration's seed: field"
                )
        fixed = [self.note(f"{k}={yaml_value(v)}", ("set", k)) for k, v in spec.set.items()]
        if spec.days is not None:
            fixed.append(self.note(f"days={yaml_value(float(spec.days))}", ("days",)))
        try:
            given = apply_overrides(base_doc, fixed)
            scenario = load_scenario(given)
        except ScenarioError as exc:
            raise relocate(exc, self.locator) from None
        # Every default written out, so a parameter may be a field the file leaves out
        # (activity.cv of a group that only gives activity.mean, say).
        self.base = SourcedDoc(data=resolved_dict(scenario), origin=given.origin, files=given.files)
        self.scale = scenario.currency.minor_units
        params = [self.parameter(key, p) for key, p in spec.parameters.items()]
        self.check_targets(scenario)
        return Calibration(
            file=self.path,
            name=spec.name or _default_name(self.path),
            spec=spec,
            scenario_path=scenario_path,
            base=self.base,
            fixed=fixed,
            parameters=params,
            text=self.text,
        )

    def find_scenario(self) -> Path:
        """The scenario file: beside the calibration file, or a shipped name."""
        from sim.scenario.load import resolve_path

        ref = self.spec.scenario
        beside = self.path.parent / ref
        if beside.is_file():
            return beside
        try:
            found = resolve_path(ref)
        except ScenarioError as exc:
            raise self.fail(
                ("scenario",),
                f"'{ref}' is neither a file next to the calibration file nor a shipped "
                f"scenario ({exc.message})",
            ) from None
        if not found.is_file():
            raise self.fail(
                ("scenario",),
                f"'{ref}' not found; expected a scenario file relative to "
                f"{self.path.parent} or a shipped scenario name",
            )
        return found

    def parameter(self, key: str, p: ParameterSpec) -> FreeParameter:
        """Check one free parameter: numeric fields of one kind, a range valid at both ends."""
        loc = ("parameters", key)
        if key in ("seed", "days"):
            raise self.fail(
                loc,
                f"{key} is not a behavioural parameter; expected a field such as "
                "workers.<id>.search_minutes_per_task",
            )
        keys = (key, *(p.also or ()))
        kinds = []
        for i, k in enumerate(keys):
            where = loc if i == 0 else loc + ("also", i - 1)
            try:
                kind = field_kind(k, self.base.data)
            except ValueError as exc:
                raise self.fail(where, str(exc)) from None
            if kind not in ("int", "float", "money"):
                raise self.fail(where, f"{k} is not a number; expected a numeric field")
            if k in keys[:i] or k in self.spec.set:
                raise self.fail(where, f"{k} is set twice; expected each field once")
            kinds.append(kind)
        if len(set(kinds)) > 1:
            raise self.fail(loc + ("also",), "expected fields of one kind (all numbers alike)")
        if not p.low < p.high:
            raise self.fail(loc + ("high",), f"expected high > low ({p.low:g}), got {p.high:g}")
        if p.scale == "log" and p.low <= 0:
            raise self.fail(loc + ("low",), f"a log scale needs low > 0, got {p.low:g}")
        param = FreeParameter(
            key=key,
            kind=kinds[0],
            low=float(p.low),
            high=float(p.high),
            scale=p.scale,
            also=tuple(p.also or ()),
            minor_units=self.scale,
        )
        for end, x in (("low", p.low), ("high", p.high)):
            assignments = param.assignments(x)
            try:
                load_scenario(apply_overrides(self.base, assignments))
            except ScenarioError as exc:
                raise self.fail(
                    loc + (end,),
                    f"with {', '.join(assignments)} the scenario is invalid: {exc.message}",
                ) from None
        return param

    def check_targets(self, scenario: Scenario) -> None:
        """Unique names, known fields, groups and campaigns, and at least one fitted."""
        from sim.run.outputs import HEADLINE

        groups = [g.id for g in scenario.workers if g.kind == "human"]
        campaigns = [c.id for c in scenario.campaigns]
        seen: set[str] = set()
        for i, t in enumerate(self.spec.targets):
            loc = ("targets", i)
            if t.name in seen:
                raise self.fail(loc + ("name",), f"'{t.name}' is used twice; expected unique names")
            seen.add(t.name)
            if t.measure == "headline":
                if t.field not in HEADLINE:
                    raise self.fail(
                        loc + ("field",),
                        f"expected a headline figure, one of: {', '.join(HEADLINE)}",
                    )
            elif t.measure == "campaign":
                if t.campaign not in campaigns:
                    raise self.fail(
                        loc + ("campaign",),
                        f"expected a campaign of the scenario, one of: {', '.join(campaigns)}",
                    )
                if t.field not in CAMPAIGN_FIELDS:
                    raise self.fail(
                        loc + ("field",),
                        f"expected a campaign figure, one of: {', '.join(CAMPAIGN_FIELDS)}",
                    )
            else:
                if t.field is not None or t.campaign is not None:
                    bad = "field" if t.field is not None else "campaign"
                    raise self.fail(
                        loc + (bad,), f"{bad}: applies to headline and campaign measures only"
                    )
                for j, g in enumerate(t.groups or ()):
                    if g not in groups:
                        raise self.fail(
                            loc + ("groups", j),
                            f"'{g}' is not a group of human workers; expected one of: "
                            f"{', '.join(groups)}",
                        )
            band = t.online_hours_per_week
            if (band is not None) != (t.measure == "share_of_workers"):
                raise self.fail(
                    loc + ("online_hours_per_week",),
                    "share_of_workers needs online_hours_per_week: {at_least, below}, and "
                    "only it takes one",
                )
            if band is not None and not band.at_least < band.below:
                raise self.fail(
                    loc + ("online_hours_per_week", "below"), "expected below > at_least"
                )
        if not any(t.fit for t in self.spec.targets):
            raise self.fail(("targets",), "every target is held out; expected at least one fit")


def _default_name(path: Path) -> str:
    stem = "".join(c if c.isalnum() else "_" for c in path.stem.lower()).strip("_")
    return stem if stem[:1].isalpha() else f"calibration_{stem}"
