"""The parameters a visitor can change, with their units, valid ranges and origins.

Each :class:`Control` is one scenario field addressed by a dotted key, the same key
``clickfarm run --set`` takes, so whatever the controls do can be replayed from the
command line. Valid ranges come from the bounds declared in ``sim/scenario/schema.py``; the
slider range is a practical window inside them (the number box accepts the full range).
"""

from __future__ import annotations

import math
import types
import typing
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import annotated_types
import pydantic

from sim.scenario.schema import ACTION_TYPES, Scenario
from sim.ui.session import MAX_OTHER_AGENTS, Setup, max_workers

ACTION_PLURAL = {
    "like": "likes",
    "share": "shares",
    "post": "posts",
    "comment": "comments",
    "follow": "follows",
    "fake_profile": "fake profiles",
    "article": "articles",
}
ACTION_SINGULAR = {a: a.replace("_", " ") for a in ACTION_TYPES}

SECTIONS = (
    "Run",
    "Platform and moderation",
    "Recruiters and pay",
    "Workers",
    "Campaigns",
    "Gamification",
)


@dataclass(frozen=True)
class Control:
    """One parameter control of the Explore tab: what it sets, its value and its limits.

    Attributes:
        key: The dotted scenario key the control sets.
        label: The control's name on the page.
        section: Which fold of the parameter panel it sits in (one of ``SECTIONS``).
        kind: ``"int"``, ``"float"``, ``"money"``, ``"fraction"`` or ``"bool"``.
        value: The value in use in the current set-up.
        default: The value in the scenario before any change.
        unit: The unit shown after the label (empty for none).
        help: A sentence on what the parameter does.
        lo: The lowest valid value, or None for no lower bound.
        hi: The highest valid value, or None for no upper bound.
        lo_open: Whether ``lo`` itself is excluded.
        hi_open: Whether ``hi`` itself is excluded.
        slider_lo: The slider's left end.
        slider_hi: The slider's right end.
        step: The slider's step.
        origin: Where the default comes from: a file and line, or the package.
    """

    key: str
    label: str
    section: str
    kind: str  # "int", "float", "money", "fraction" or "bool"
    value: Any
    default: Any
    unit: str = ""
    help: str = ""
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    slider_lo: float = 0.0
    slider_hi: float = 1.0
    step: float = 1.0
    origin: str = ""
    digits: int = 9
    """Decimal places a money value keeps (the ledger's precision)."""
    targets: tuple[str, ...] = ()
    """Every field the control sets, when it sets several at once (else just ``key``)."""

    @property
    def keys(self) -> tuple[str, ...]:
        """Every scenario key the control sets."""
        return self.targets or (self.key,)

    def applied(self, setup: Setup, value: Any) -> Setup:
        """``setup`` with this control at ``value`` (a default drops the change)."""
        if self.targets:
            return setup.with_changes([(k, value) for k in self.targets])
        if value == self.default:
            return setup.without(self.key)
        return setup.change(self.key, value)

    @property
    def changed(self) -> bool:
        """Whether the value in use differs from the scenario's."""
        return self.value != self.default

    def range_text(self) -> str:
        """The valid range in words, such as ``≥ 0 and ≤ 1`` or ``any number``."""
        if self.kind == "bool":
            return "yes or no"
        lo = "" if self.lo is None else f"{'>' if self.lo_open else '≥'} {fmt_number(self.lo)}"
        hi = "" if self.hi is None else f"{'<' if self.hi_open else '≤'} {fmt_number(self.hi)}"
        return " and ".join(p for p in (lo, hi) if p) or "any number"

    def coerce(self, raw: Any) -> Any:
        """A value typed or slid by the visitor, in the type the scenario expects."""
        if self.kind == "bool":
            return bool(raw)
        number = float(raw)
        if not math.isfinite(number):
            raise ValueError("expected a finite number")
        if self.kind == "int" and number != int(number):
            raise ValueError(f"expected a whole number, got {fmt_number(number)}")
        self.check_range(number)
        if self.kind == "int":
            return int(number)
        if self.kind == "money":
            # money must be a whole number of ledger units: round to the ledger's precision
            return round(number, self.digits)
        return number

    def check_range(self, number: float) -> None:
        """Refuse ``number`` outside the valid range, saying what the range is."""
        too_low = self.lo is not None and (number <= self.lo if self.lo_open else number < self.lo)
        too_high = self.hi is not None and (number >= self.hi if self.hi_open else number > self.hi)
        if too_low or too_high:
            raise ValueError(f"expected a value {self.range_text()}, got {fmt_number(number)}")


def fmt_number(value: float) -> str:
    """A number with thousands separators if whole, else to six significant digits."""
    value = float(value)
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:.6g}"


# ------------------------------------------------------------------- schema helpers
def _strip(annotation: Any, metadata: list) -> Any:
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            args = typing.get_args(annotation)
            for extra in args[1:]:
                metadata.extend(getattr(extra, "metadata", [extra]))
            annotation = args[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def field_bounds(key: str) -> tuple[float | None, float | None, bool, bool]:
    """Lower and upper bound of the field at ``key`` (and whether each is strict)."""
    annotation: Any = Scenario
    metadata: list = []
    for part in key.split("."):
        metadata = []
        annotation = _strip(annotation, metadata)
        origin = typing.get_origin(annotation)
        if origin in (list, tuple):
            annotation = typing.get_args(annotation)[0]
            annotation = _strip(annotation, metadata)
            # a list item is addressed by its id: the next part names a field of the item
        if origin is dict:
            annotation = typing.get_args(annotation)[1]
            continue
        if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
            info = annotation.model_fields.get(part)
            if info is None:
                if origin in (list, tuple):
                    continue  # this part was the item's id
                raise KeyError(key)
            metadata = list(info.metadata)
            annotation = info.annotation
    _strip(annotation, metadata)
    lo = hi = None
    lo_open = hi_open = False
    for m in metadata:
        if isinstance(m, annotated_types.Ge):
            lo = float(m.ge)
        elif isinstance(m, annotated_types.Gt):
            lo, lo_open = float(m.gt), True
        elif isinstance(m, annotated_types.Le):
            hi = float(m.le)
        elif isinstance(m, annotated_types.Lt):
            hi, hi_open = float(m.lt), True
    return lo, hi, lo_open, hi_open


def get_value(scenario: Scenario, key: str) -> Any:
    """The value at a dotted ``key`` of ``scenario``; list items are named by their id.

    A key missing from a mapping reads as 0; decimals come back as floats.
    """
    node: Any = scenario
    for part in key.split("."):
        if isinstance(node, list):
            node = next(item for item in node if getattr(item, "id", None) == part)
        elif isinstance(node, dict):
            node = node.get(part, 0)
        else:
            node = getattr(node, part)
    if isinstance(node, Decimal):
        return float(node)
    return node


def doc_path(scenario: Scenario, key: str) -> tuple:
    """``workers.na_workers.count`` -> ``("workers", 0, "count")`` (file line lookup)."""
    out: list[Any] = []
    node: Any = scenario
    for part in key.split("."):
        if isinstance(node, list):
            index = next(i for i, item in enumerate(node) if getattr(item, "id", None) == part)
            out.append(index)
            node = node[index]
        elif isinstance(node, dict):
            out.append(part)
            node = node.get(part)
        else:
            out.append(part)
            node = getattr(node, part, None)
    return tuple(out)


# ------------------------------------------------------------------- the controls
def controls(setup: Setup) -> list[Control]:
    """Every control for the set-up's scenario, grouped by section, in a stable order."""
    base = setup.base()
    try:
        current = setup.scenario()
    except Exception:  # an invalid change: show the controls at their defaults
        current = base
    cur = base.currency.code
    minor = base.currency.minor_units
    money_step = 1 / minor
    digits = max(0, math.ceil(math.log10(minor))) if minor > 1 else 0
    specs: list[tuple[str, str, str, str, str, str]] = []

    def add(key: str, label: str, section: str, kind: str, unit: str = "", help: str = ""):
        specs.append((key, label, section, kind, unit, help))

    add(
        "days",
        "Simulated days",
        "Run",
        "float",
        "days",
        "How long the run lasts; one step of the model is one hour.",
    )
    add(
        "platform.moderation.moderators",
        "Moderators",
        "Platform and moderation",
        "int",
        "people",
        "Platform staff who review flagged actions.",
    )
    add(
        "platform.moderation.reviews_per_hour",
        "Reviews per moderator",
        "Platform and moderation",
        "float",
        "actions per hour",
        "How many flagged actions one moderator checks in an hour.",
    )
    add(
        "platform.moderation.accuracy",
        "Moderator accuracy",
        "Platform and moderation",
        "fraction",
        "probability",
        "Chance that a reviewed fake action is recognised and removed.",
    )
    add(
        "platform.moderation.wage_per_hour",
        "Moderator wage",
        "Platform and moderation",
        "money",
        f"{cur} per hour",
        "What the platform pays a moderator for each hour.",
    )
    add(
        "platform.moderation.review_window_hours",
        "Review window",
        "Platform and moderation",
        "int",
        "hours",
        "Flagged actions older than this are never reviewed.",
    )
    add(
        "platform.detection.bias",
        "Detector threshold",
        "Platform and moderation",
        "float",
        "log-odds",
        "Lower values flag fewer actions; higher values flag more.",
    )
    add(
        "platform.detection.strikes_to_ban",
        "Removals before a ban",
        "Platform and moderation",
        "int",
        "removed actions",
        "An account is banned once this many of its actions have been removed.",
    )

    for r in base.recruiters:
        who = r.name or r.id
        for a in r.pays:
            add(
                f"recruiters.{r.id}.pays.{a}",
                f"{who}: pay per {ACTION_SINGULAR[a]}",
                "Recruiters and pay",
                "money",
                f"{cur} per action",
                "Money the worker who does the action receives.",
            )
        for a in r.points:
            add(
                f"recruiters.{r.id}.points.{a}",
                f"{who}: points per {ACTION_SINGULAR[a]}",
                "Recruiters and pay",
                "int",
                "points per action",
                "Points awarded instead of (or as well as) money.",
            )
        for a in r.charges:
            add(
                f"recruiters.{r.id}.charges.{a}",
                f"{who}: charges per {ACTION_SINGULAR[a]}",
                "Recruiters and pay",
                "money",
                f"{cur} per action",
                "What this recruiter charges the recruiter above it.",
            )
        if r.kind == "bot_operator":
            add(
                f"recruiters.{r.id}.software_cost",
                f"{who}: bot software price",
                "Recruiters and pay",
                "money",
                cur,
                "One-off price paid to the bot's developer.",
            )
        if r.influencers is not None:
            add(
                f"recruiters.{r.id}.influencers.count",
                f"{who}: influencers",
                "Recruiters and pay",
                "int",
                "accounts",
                "Influencers relaying the network's calls.",
            )
            for a in r.influencers.pay_per_action:
                add(
                    f"recruiters.{r.id}.influencers.pay_per_action.{a}",
                    f"{who}: influencer pay per {ACTION_SINGULAR[a]}",
                    "Recruiters and pay",
                    "money",
                    f"{cur} per action",
                    "Paid to the influencer for each action its community delivers.",
                )
            add(
                f"recruiters.{r.id}.influencers.relay_probability_per_hour",
                f"{who}: relay chance",
                "Recruiters and pay",
                "fraction",
                "per hour",
                "Chance that an influencer relays a call to act in a given hour.",
            )

    for g in base.workers:
        add(
            f"workers.{g.id}.count",
            f"{g.id}: number",
            "Workers",
            "int",
            "bots" if g.kind == "bot" else "people",
            "How many workers this group has.",
        )
        if g.kind == "human":
            add(
                f"workers.{g.id}.activity.mean",
                f"{g.id}: activity",
                "Workers",
                "fraction",
                "probability",
                "Average chance of being online in a peak hour.",
            )
            add(
                f"workers.{g.id}.search_minutes_per_task",
                f"{g.id}: search time per task",
                "Workers",
                "float",
                "minutes (unpaid)",
                "Time spent finding each task, unpaid.",
            )
            if g.motivation.points > 0:
                add(
                    f"workers.{g.id}.motivation.point_value",
                    f"{g.id}: value of a point",
                    "Workers",
                    "money",
                    f"{cur} per point",
                    "What one point feels worth to these workers (nobody pays it).",
                )
            if g.motivation.conviction > 0:
                add(
                    f"workers.{g.id}.motivation.conviction_value_per_hour",
                    f"{g.id}: value of the cause",
                    "Workers",
                    "money",
                    f"{cur} per hour",
                    "What acting for a cause they believe in is worth to them, per hour.",
                )
        add(
            f"workers.{g.id}.accounts.per_worker.mean",
            f"{g.id}: accounts each",
            "Workers",
            "float",
            "accounts",
            "Average number of platform accounts one worker controls.",
        )
    humans = [g for g in base.workers if g.kind == "human"]
    if len(humans) > 1:
        add(
            ALL_GROUPS_SEARCH,
            "All groups: search time per task",
            "Workers",
            "float",
            "minutes (unpaid)",
            "Sets the search time of every human group at once.",
        )
    for region in base.regions:
        add(
            f"regions.{region}.reservation_wage_per_hour",
            f"{region}: reservation wage",
            "Workers",
            "money",
            f"{cur} per hour",
            "Below this hourly value, a money-motivated worker stays offline.",
        )

    for c in base.campaigns:
        for a in c.actions:
            add(
                f"campaigns.{c.id}.actions.{a}",
                f"{c.id}: {ACTION_PLURAL[a]} ordered",
                "Campaigns",
                "int",
                "actions per placement",
                "How many actions each placement orders.",
            )
        for a in c.price_per_action:
            add(
                f"campaigns.{c.id}.price_per_action.{a}",
                f"{c.id}: price per {ACTION_SINGULAR[a]}",
                "Campaigns",
                "money",
                f"{cur} per action",
                "What the client pays per action.",
            )
        add(
            f"campaigns.{c.id}.deadline_hours",
            f"{c.id}: deadline",
            "Campaigns",
            "int",
            "hours",
            "Hours each placement stays open.",
        )
        add(
            f"campaigns.{c.id}.urgency",
            f"{c.id}: urgency",
            "Campaigns",
            "int",
            "1 to 3",
            "Urgent work multiplies points and draws more attention.",
        )
        add(
            f"campaigns.{c.id}.promotion_per_day",
            f"{c.id}: paid promotion",
            "Campaigns",
            "money",
            f"{cur} per day",
            "Paid to the platform to promote the content.",
        )
        add(
            f"campaigns.{c.id}.drip_feed",
            f"{c.id}: drip-feed delivery",
            "Campaigns",
            "bool",
            "",
            "Spread delivery evenly up to the deadline (looks less bursty).",
        )

    g = base.gamification
    if g.badges or g.leaderboard_size or any(r.points for r in base.recruiters):
        add(
            "gamification.leaderboard_size",
            "Leaderboard size",
            "Gamification",
            "int",
            "places",
            "How many top point earners are shown on the leaderboard.",
        )
        add(
            "gamification.leaderboard_bonus",
            "Leaderboard bonus",
            "Gamification",
            "float",
            "multiplier",
            "Extra value of points for those on the leaderboard.",
        )
        add(
            "gamification.badge_gradient",
            "Badge pull",
            "Gamification",
            "float",
            "multiplier",
            "Extra value of points when the next badge is close.",
        )
        add(
            "gamification.objective_gradient",
            "Objective pull",
            "Gamification",
            "float",
            "multiplier",
            "Extra motivation as a collective objective nears completion.",
        )

    out = []
    for key, label, section, kind, unit, help_text in specs:
        targets: tuple[str, ...] = ()
        if key == ALL_GROUPS_SEARCH:
            targets = tuple(f"workers.{g.id}.search_minutes_per_task" for g in humans)
        # a control over several fields reads its bounds, default and value from the first
        first = targets[0] if targets else key
        lo, hi, lo_open, hi_open = app_bounds(first, *field_bounds(first))
        if kind == "fraction":
            lo, hi = (0.0 if lo is None else lo), (1.0 if hi is None else hi)
        default = get_value(base, first)
        value = get_value(current, first)
        slider_lo, slider_hi, step = _slider(key, kind, default, lo, hi, money_step)
        if lo_open and lo is not None and slider_lo <= lo:
            slider_lo = lo + step
        out.append(
            Control(
                key=key,
                label=label,
                section=section,
                kind=kind,
                value=value,
                default=default,
                unit=unit,
                help=help_text,
                lo=lo,
                hi=hi,
                lo_open=lo_open,
                hi_open=hi_open,
                slider_lo=slider_lo,
                slider_hi=slider_hi,
                step=step,
                origin=setup.value_origin(doc_path(base, first)),
                digits=digits,
                targets=targets,
            )
        )
    return out


ONE_HOUR_IN_DAYS = 1 / 24
ALL_GROUPS_SEARCH = "workers.*.search_minutes_per_task"
"""The key of the control that sets every human group's search time at once."""


def app_bounds(
    key: str, lo: float | None, hi: float | None, lo_open: bool, hi_open: bool
) -> tuple[float | None, float | None, bool, bool]:
    """The schema's bounds narrowed to what the browser app runs.

    The app refuses more workers, moderators or influencers than it can step interactively
    (see :func:`sim.ui.session.check_size`), so the control says so up front; and a run
    shorter than one hour (the model's step) is refused rather than rounded up.
    """
    cap = None
    if key.startswith("workers.") and key.endswith(".count"):
        cap = float(max_workers())
    elif key == "platform.moderation.moderators" or key.endswith(".influencers.count"):
        cap = float(MAX_OTHER_AGENTS)
    if cap is not None and (hi is None or cap < hi):
        hi, hi_open = cap, False
    if key == "days" and (lo is None or lo < ONE_HOUR_IN_DAYS):
        lo, lo_open = ONE_HOUR_IN_DAYS, False
    return lo, hi, lo_open, hi_open


def _slider(
    key: str, kind: str, default: Any, lo: float | None, hi: float | None, money_step: float
) -> tuple[float, float, float]:
    """A practical slider window around the default, inside the valid range."""
    if kind == "bool":
        return 0.0, 1.0, 1.0
    if kind == "fraction":
        return float(lo or 0.0), min(1.0, float(1.0 if hi is None else hi)), 0.01
    d = float(default)
    low = float(lo) if lo is not None else min(0.0, d)
    if key == "platform.detection.bias":
        return -15.0, 5.0, 0.1
    if key.endswith(".urgency"):
        return 1.0, 3.0, 1.0
    if key == "days":
        return 1.0, max(60.0, math.ceil(d)), 1.0
    top = max(4 * abs(d), 1.0)
    if kind == "money" and d > 0:
        top = 4 * d
    if key.startswith("workers.") and key.endswith(".count"):
        top = min(max(4 * d, 100.0), float(max_workers()))
    elif kind == "int":
        top = max(4 * d, 10.0)
    if hi is not None:
        top = min(top, float(hi))
    if kind == "int":
        return low, float(math.ceil(top)), 1.0
    if kind == "money":
        raw = (top - low) / 200
        step = max(money_step, 10 ** math.floor(math.log10(raw))) if raw > 0 else money_step
        return low, _round_up(top, step), step
    raw = (top - low) / 200
    step = 10 ** math.floor(math.log10(raw)) if raw > 0 else 0.01
    return low, _round_up(top, step), step


def _round_up(value: float, step: float) -> float:
    return round(math.ceil(value / step - 1e-9) * step, 12)


def by_section(items: list[Control]) -> dict[str, list[Control]]:
    """The controls grouped by section, in ``SECTIONS`` order, leaving out empty sections."""
    out: dict[str, list[Control]] = {s: [] for s in SECTIONS}
    for c in items:
        out[c.section].append(c)
    return {s: cs for s, cs in out.items() if cs}
