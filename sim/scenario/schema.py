"""The scenario format: typed, bounded fields validated when a scenario is loaded.

Money amounts are written in major units (``0.00006`` USD) and must be exactly
representable in the scenario's minor unit (``currency.minor_units`` per major unit):
the ledger only ever holds integers. Action types are a fixed vocabulary.

Every value must have its declared type exactly (``strict``): a count is a whole number,
never ``"100"`` or ``true``; a number is never quoted text. Text fields have a length
limit, and every quantity has a lower and an upper bound.
"""

from __future__ import annotations

import types
import typing
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

ACTION_TYPES = ("like", "share", "post", "comment", "follow", "fake_profile", "article")
ActionType = Literal["like", "share", "post", "comment", "follow", "fake_profile", "article"]


def _plain_number(value: Any) -> Any:
    """Money is written as a number: quoted text and true/false are refused, not converted."""
    if isinstance(value, bool | str):
        raise PydanticCustomError("decimal_type", "expected a number")
    return value


# Money is validated in lax mode (YAML gives floats, the field holds an exact Decimal made
# from their text), after _plain_number has refused every input that is not a number.
Money = Annotated[
    Decimal,
    BeforeValidator(_plain_number),
    Field(ge=0, le=Decimal("1e9"), allow_inf_nan=False, strict=False),
]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Name = Annotated[str, Field(max_length=200)]
"""A short label: a title, a client's or a recruiter's name."""
Note = Annotated[str, Field(max_length=2_000)]
"""One source or assumption."""
MAX_TOTAL_WORKERS = 10_000_000
"""Most workers (and bots) in one scenario, all groups together: one group's own limit."""
MAX_PLACEMENTS = 1_000_000
"""Most orders the campaigns of one run may place (repeats included)."""


def unwrap_annotation(annotation: Any) -> Any:
    """A field's plain type: ``Annotated[...]`` and ``| None`` wrappers removed."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


class Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=True,
        allow_inf_nan=False,
        use_attribute_docstrings=True,
    )


class Currency(Strict):
    code: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "USD"
    minor_units: Annotated[int, Field(ge=1, le=10**9)] = 1_000_000
    """Ledger units per major unit; 1,000,000 lets 0.006 US cents (60 units) be exact."""


class ActionSpec(Strict):
    minutes: Annotated[float, Field(ge=0.01, le=600)]
    """Working time one action takes a worker of speed 1 (unpaid search time excluded)."""
    reach: Annotated[float, Field(ge=0, le=1e6)]
    """Impressions one surviving action buys on the platform."""


def _default_actions() -> dict[str, ActionSpec]:
    # Assumptions, documented in docs/scenarios.md ("action timings and reach").
    return {
        "like": ActionSpec(minutes=0.25, reach=2),
        "share": ActionSpec(minutes=0.5, reach=40),
        "post": ActionSpec(minutes=3, reach=60),
        "comment": ActionSpec(minutes=1.5, reach=10),
        "follow": ActionSpec(minutes=0.25, reach=1),
        "fake_profile": ActionSpec(minutes=8, reach=0),
        "article": ActionSpec(minutes=30, reach=150),
    }


class Region(Strict):
    reservation_wage_per_hour: Money = Decimal(0)
    """Money per hour below which a purely money-motivated worker stays offline (only
    matters for regions that have workers; an audience-only region can leave it out)."""
    utc_offset: Annotated[int, Field(ge=-12, le=14)] = 0


class Spread(Strict):
    """A positive quantity that varies between individuals (log-normal around ``mean``)."""

    mean: Annotated[float, Field(gt=0, le=1e6)]
    cv: Annotated[float, Field(ge=0, le=5)] = 0.0


class Motivation(Strict):
    money: Fraction = 1.0
    points: Fraction = 0.0
    conviction: Fraction = 0.0
    point_value: Money = Decimal(0)
    """Money-equivalent a worker attaches to one point (before status effects)."""
    conviction_value_per_hour: Money = Decimal(0)
    """Money-equivalent per hour of acting for a cause the worker believes in."""


class Accounts(Strict):
    per_worker: Spread = Spread(mean=1.0)
    age_days: Spread = Spread(mean=365.0, cv=1.0)
    trust: Fraction = 0.8
    reopen_probability_per_day: Fraction = 0.5


class WorkerGroup(Strict):
    id: Identifier
    count: Annotated[int, Field(ge=0, le=10_000_000)]
    region: Identifier
    recruiter: Identifier
    """The leaf recruiter whose tasks this group sees (for communities: its influencers)."""
    kind: Literal["human", "bot"] = "human"
    speed: Spread = Spread(mean=1.0, cv=0.3)
    activity: Spread = Spread(mean=0.25, cv=1.0)
    """Base probability of being online in a peak hour; heavy spread makes a few do most."""
    search_minutes_per_task: Annotated[float, Field(ge=0, le=120)] = 1.0
    session_minutes: Annotated[float, Field(ge=1, le=60)] = 60.0
    """Minutes a worker gives to tasks in an hour they choose to work (casual users: few)."""
    motivation: Motivation = Motivation()
    accounts: Accounts = Accounts()
    fatigue_per_hour: Fraction = 0.15
    recovery_per_hour: Fraction = 0.1


class Influencers(Strict):
    count: Annotated[int, Field(ge=1, le=1_000_000)]
    pay_per_action: dict[ActionType, Money] = {}
    """What the leaf recruiter pays an influencer for each action its community delivers."""
    relay_probability_per_hour: Fraction = 0.2
    attention_hours: Annotated[int, Field(ge=1, le=168)] = 6
    """How long a relayed call to act stays in front of the community."""
    community_size_exponent: Annotated[float, Field(ge=0, le=3)] = 1.0
    """Zipf exponent of community sizes (0 = equal communities)."""


class Recruiter(Strict):
    id: Identifier
    name: Name = ""
    kind: Literal["broker", "farm", "campaign_platform", "influencer_network", "bot_operator"] = (
        "broker"
    )
    parent: Identifier | None = None
    charges: dict[ActionType, Money] = {}
    """Price per action this recruiter charges its parent recruiter."""
    pays: dict[ActionType, Money] = {}
    """Money per action paid to the worker who performs it."""
    points: dict[ActionType, Annotated[int, Field(ge=0, le=1000)]] = {}
    """Points per action awarded to the worker (before the urgency multiplier)."""
    influencers: Influencers | None = None
    software_cost: Money = Decimal(0)
    """One-off price of bot software, paid to its developer when an order first uses it."""


class Repeat(Strict):
    every_hours: Annotated[int, Field(ge=1, le=24 * 365)]
    times: Annotated[int, Field(ge=1, le=100_000)] | None = None
    """How many placements in all; omitted = keep placing until the run ends."""


class Campaign(Strict):
    id: Identifier
    client: Name
    recruiter: Identifier
    actions: dict[ActionType, Annotated[int, Field(ge=0, le=10**9)]]
    price_per_action: dict[ActionType, Money] = {}
    budget: Money | None = None
    """Caps the quantities bought; without it the client buys the full targets."""
    start_hour: Annotated[int, Field(ge=0, le=24 * 3650)] = 0
    deadline_hours: Annotated[int, Field(ge=1, le=24 * 3650)] = 24
    repeat: Repeat | None = None
    urgency: Annotated[int, Field(ge=1, le=3)] = 1
    """1 = routine; 2-3 = urgent: multiplies points and the share of attention it draws."""
    objective: bool = False
    """A collective objective: reached when every target is delivered before the deadline."""
    audience_region: Identifier
    organic_actions_per_hour: Annotated[float, Field(ge=0, le=1e9)] = 100.0
    """Genuine engagement on the target per hour, against which burstiness is judged."""
    drip_feed: bool = False
    """Deliver evenly up to the deadline instead of as fast as possible (less bursty)."""
    promotion_per_day: Money = Decimal(0)
    """Money per day paid to the platform to promote the content while the order runs."""


class DetectionWeights(Strict):
    burstiness: Annotated[float, Field(ge=-20, le=20)] = 2.0
    account_age: Annotated[float, Field(ge=-20, le=20)] = 2.0
    low_trust: Annotated[float, Field(ge=-20, le=20)] = 1.0
    multiple_accounts: Annotated[float, Field(ge=-20, le=20)] = 1.5
    centralisation: Annotated[float, Field(ge=-20, le=20)] = 1.0
    geography: Annotated[float, Field(ge=-20, le=20)] = 1.5
    automation: Annotated[float, Field(ge=-20, le=20)] = 4.0


class Detection(Strict):
    bias: Annotated[float, Field(ge=-30, le=30)] = -5.0
    weights: DetectionWeights = DetectionWeights()
    young_account_days: Annotated[float, Field(ge=1 / 24, le=3650)] = 30.0
    strikes_to_ban: Annotated[int, Field(ge=1, le=10_000)] = 10
    """Removed actions after which an account is banned."""


class Moderation(Strict):
    moderators: Annotated[int, Field(ge=0, le=1_000_000)] = 10
    reviews_per_hour: Annotated[float, Field(ge=0, le=10_000)] = 60.0
    accuracy: Fraction = 0.9
    """Probability that a reviewed fake action is recognised and removed."""
    wage_per_hour: Money = Decimal(2)
    review_window_hours: Annotated[int, Field(ge=1, le=24 * 365)] = 72
    """Flagged actions not reviewed within this many hours are never reviewed."""


class Platform(Strict):
    name: Name = "platform"
    users: Annotated[int, Field(ge=0, le=10**10)] = 1_000_000
    ad_profit_per_user_per_quarter: Money = Decimal("4.75")
    revenue_per_1000_impressions: Money = Decimal("2")
    detection: Detection = Detection()
    moderation: Moderation = Moderation()


class Gamification(Strict):
    badges: dict[Name, Annotated[int, Field(ge=1, le=10**9)]] = {}
    leaderboard_size: Annotated[int, Field(ge=0, le=100_000)] = 0
    leaderboard_bonus: Annotated[float, Field(ge=0, le=10)] = 0.0
    badge_gradient: Annotated[float, Field(ge=0, le=10)] = 0.0
    """Extra value of points for a worker close to the next badge (goal-gradient)."""
    objective_gradient: Annotated[float, Field(ge=0, le=10)] = 0.0
    """Extra motivation as a collective objective nears completion."""


class MarketReference(Strict):
    """Market rates used only to value unpaid work (never paid to anyone)."""

    wage_per_hour: Money = Decimal("3.31")
    price_per_action: dict[ActionType, Money] = {}


class Scenario(Strict):
    kind: Literal["scenario"] | None = Field(default=None, exclude=True)
    """Optional: says this file is a scenario (``clickfarm validate`` can tell anyway)."""
    title: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str, Field(min_length=1, max_length=10_000)]
    sources: Annotated[list[Note], Field(max_length=200)] = []
    assumptions: Annotated[list[Note], Field(max_length=200)] = []
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = 0
    days: Annotated[float, Field(ge=1 / 24, le=3650)] = 7
    """Length of the run; at least one hour (1/24 day), at most ten years."""
    currency: Currency = Currency()
    actions: dict[ActionType, ActionSpec] = Field(default_factory=_default_actions)
    regions: dict[Identifier, Region]
    recruiters: list[Recruiter]
    workers: list[WorkerGroup]
    campaigns: list[Campaign]
    platform: Platform = Platform()
    gamification: Gamification = Gamification()
    market_reference: MarketReference = MarketReference()

    @field_validator("actions")
    @classmethod
    def _all_actions_present(cls, value: dict) -> dict:
        merged = dict(_default_actions())
        merged.update(value)
        return merged

    @property
    def steps(self) -> int:
        return max(1, round(self.days * 24))
