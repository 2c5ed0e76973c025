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
    """Base of every scenario section: strict, frozen and closed.

    Unknown keys are refused, a loaded scenario cannot be changed, every value must have its
    declared type exactly, infinities and NaN are refused, and each field's docstring becomes
    its description in the JSON Schema.
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=True,
        allow_inf_nan=False,
        use_attribute_docstrings=True,
    )


class Currency(Strict):
    """The scenario's currency: its three-letter code and the ledger units in one major unit."""

    code: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "USD"
    minor_units: Annotated[int, Field(ge=1, le=10**9)] = 1_000_000
    """Ledger units per major unit; 1,000,000 lets 0.006 US cents (60 units) be exact."""


class ActionSpec(Strict):
    """How long one action of a type takes a worker and how much reach it buys."""

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
    """A place where workers live or an audience is targeted: its reservation wage and time zone."""

    reservation_wage_per_hour: Money = Decimal(0)
    """Money per hour below which a purely money-motivated worker stays offline (only
    matters for regions that have workers; an audience-only region can leave it out)."""
    utc_offset: Annotated[int, Field(ge=-12, le=14)] = 0


class Spread(Strict):
    """A positive quantity that varies between individuals (log-normal around ``mean``)."""

    mean: Annotated[float, Field(gt=0, le=1e6)]
    cv: Annotated[float, Field(ge=0, le=5)] = 0.0


class Motivation(Strict):
    """What a group's workers value in a task, and how much.

    The three weights scale the pay, the points (each worth ``point_value``, more near a
    badge or on the leaderboard) and the conviction value of an hour of tasks; a human
    worker takes the best work on offer when its value per hour reaches their reservation
    wage.
    """

    money: Fraction = 1.0
    points: Fraction = 0.0
    conviction: Fraction = 0.0
    point_value: Money = Decimal(0)
    """Money-equivalent a worker attaches to one point (before status effects)."""
    conviction_value_per_hour: Money = Decimal(0)
    """Money-equivalent per hour of acting for a cause the worker believes in."""


class Accounts(Strict):
    """The platform accounts each worker holds: how many, how old, how trusted.

    A worker whose accounts are all banned opens a fresh one (young, little trusted) with
    probability ``reopen_probability_per_day`` each day.
    """

    per_worker: Spread = Spread(mean=1.0)
    age_days: Spread = Spread(mean=365.0, cv=1.0)
    trust: Fraction = 0.8
    reopen_probability_per_day: Fraction = 0.5


class Turnover(Strict):
    """Workers joining and leaving a group, from a preallocated pool of potential workers.

    The group has ``count`` workers at the start and ``reserve`` more people who could join.
    Every worker remembers what an hour offered to the work earned them, with a memory
    that halves every ``memory_half_life_days``. Once a day, people outside join with a
    chance that rises with how far the earnings the group's workers remember beat their own
    outside option; workers whose remembered earnings stayed below their outside option for
    about ``patience_days`` days in a row leave (and may come back later). Defaults are
    assumptions (docs/scenarios.md, "worker turnover").
    """

    reserve: Annotated[int, Field(ge=0, le=10_000_000)] = 0
    """People outside the group at the start who may join it (their rows are preallocated)."""
    outside_option_per_hour: Money | None = None
    """Mean money per hour a person could earn elsewhere; omitted = the region's
    reservation wage. Each person's own outside option is log-normal around it."""
    outside_option_cv: Annotated[float, Field(ge=0, le=5)] = 0.3
    """Spread of the outside option between people (coefficient of variation)."""
    memory_half_life_days: Annotated[float, Field(ge=1 / 24, le=365)] = 7.0
    """How fast remembered earnings fade: an hour's weight halves after this many days."""
    entry_rate_per_day: Fraction = 0.02
    """Most of the people outside who join in a day, when expected earnings far exceed
    their outside option."""
    entry_sensitivity: Annotated[float, Field(ge=0, le=100)] = 2.0
    """How fast the chance of joining rises with the relative gain over the outside option."""
    patience_days: Annotated[float, Field(ge=1, le=365)] = 7.0
    """Mean days in a row of remembered earnings below the outside option after which a
    worker leaves (each person's own patience is log-normal around it, whole days, at
    least one)."""
    patience_cv: Annotated[float, Field(ge=0, le=5)] = 0.5
    """Spread of patience between people (coefficient of variation)."""


class Learning(Strict):
    """Experience makes a group's workers faster, up to a bound (a learning curve).

    A worker's speed is its drawn speed x (1 + ``max_speedup`` x (1 - exp(-tasks done /
    ``tasks_to_learn``))). Defaults are assumptions (docs/scenarios.md, "learning").
    """

    max_speedup: Annotated[float, Field(ge=0, le=10)] = 0.5
    """Most extra speed experience brings, as a share of the drawn speed."""
    tasks_to_learn: Annotated[float, Field(gt=0, le=1e9)] = 500.0
    """Tasks after which about 63 % of the extra speed is gained (the curve's scale)."""


class WorkerGroup(Strict):
    """A group of workers (people or bots) who share a region, recruiter and motivation.

    Each worker's speed, activity and accounts are drawn from the group's spreads.
    """

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
    also_works_for: list[Identifier] = []
    """Other bottom-level recruiters whose tasks these workers also see (multi-homing):
    their recruiters then compete for the same workers on posted pay."""
    turnover: Turnover | None = None
    """Workers join and leave by the earnings they remember (off when omitted)."""
    learning: Learning | None = None
    """Experience raises speed (off when omitted)."""
    accounts_from: Identifier | None = None
    """A campaign whose delivered fake profiles become this group's accounts: the group
    starts with none and acts from those profiles (needs an ``account_market:``)."""

    @property
    def rows(self) -> int:
        """Worker rows the group needs: its workers and, with turnover, its reserve."""
        return self.count + (self.turnover.reserve if self.turnover is not None else 0)


NetworkGenerator = Literal["barabasi_albert", "watts_strogatz", "erdos_renyi", "powerlaw_cluster"]
MAX_NETWORK_EDGES = 1_000_000
"""Most follower ties (expected) one network may have: networkx builds that in seconds."""


class FollowerNetwork(Strict):
    """Who follows whom among an influencer network's followers, and how calls cascade.

    The graph is built once by networkx with the named generator, seeded from the model's
    generator. When an influencer relays, its community gets the call (hop 0); each follower
    reached at hop ``h`` then passes it to each of its own followers not yet reached with
    probability ``relay_probability_per_hop * decay_per_hop ** h``, up to ``max_hops`` hops.
    """

    generator: NetworkGenerator
    """barabasi_albert (preferential attachment), watts_strogatz (small world),
    erdos_renyi (random ties) or powerlaw_cluster (preferential attachment with triangles)."""
    edges_per_node: Annotated[int, Field(ge=1, le=50)] = 3
    """barabasi_albert, powerlaw_cluster: ties each new follower makes to earlier ones."""
    neighbours: Annotated[int, Field(ge=2, le=100)] = 4
    """watts_strogatz: ties of each follower on the ring before rewiring."""
    rewire_probability: Fraction = 0.1
    """watts_strogatz: chance that each ring tie is rewired to a random follower."""
    mean_degree: Annotated[float, Field(gt=0, le=100)] = 6.0
    """erdos_renyi: expected ties per follower."""
    triangle_probability: Fraction = 0.1
    """powerlaw_cluster: chance of closing a triangle after each preferential tie."""
    relay_probability_per_hop: Fraction = 0.05
    """Chance that a follower who got the call passes it to one given follower of theirs."""
    decay_per_hop: Fraction = 1.0
    """Each further hop multiplies the relay probability by this (1 = no decay)."""
    max_hops: Annotated[int, Field(ge=0, le=20)] = 3
    """Hops a call may travel past the influencer's community (0 = no cascades)."""
    influencer_paid_for_cascades: bool = True
    """Whether the influencer whose call started a cascade is paid for the actions of the
    followers it reached (as for its own community's); the followers are never paid."""

    def expected_ties(self, followers: int) -> float:
        """Follower ties the generator is expected to build over ``followers`` nodes."""
        if self.generator == "watts_strogatz":
            return followers * (self.neighbours // 2)
        if self.generator == "erdos_renyi":
            return followers * self.mean_degree / 2
        return max(followers - self.edges_per_node, 0) * self.edges_per_node

    def smallest_graph(self) -> int:
        """Fewest followers the generator can build this graph over."""
        if self.generator == "watts_strogatz":
            return self.neighbours + 1
        if self.generator == "erdos_renyi":
            return 2
        return self.edges_per_node + 1


NETWORK_FIELDS = {
    "barabasi_albert": {"edges_per_node"},
    "watts_strogatz": {"neighbours", "rewire_probability"},
    "erdos_renyi": {"mean_degree"},
    "powerlaw_cluster": {"edges_per_node", "triangle_probability"},
}
"""The shape parameters each generator uses (the cascade fields apply to all)."""


class Influencers(Strict):
    """The influencers of an influencer network and what they are paid.

    Influencers relay calls to act to their communities (the network's workers) and are paid
    per action their community delivers.
    """

    count: Annotated[int, Field(ge=1, le=1_000_000)]
    pay_per_action: dict[ActionType, Money] = {}
    """What the leaf recruiter pays an influencer for each action its community delivers."""
    relay_probability_per_hour: Fraction = 0.2
    attention_hours: Annotated[int, Field(ge=1, le=168)] = 6
    """How long a relayed call to act stays in front of the community."""
    community_size_exponent: Annotated[float, Field(ge=0, le=3)] = 1.0
    """Zipf exponent of community sizes (0 = equal communities)."""
    pay_elasticity: Annotated[float, Field(ge=0, le=5)] = 0.0
    """How relaying responds to pay: the relay chance is multiplied by (current pay per
    action / typed pay) to this power (0 = conviction alone, pay does not matter)."""
    network: FollowerNetwork | None = None
    """A follower network over the network's workers on which calls cascade (off: none)."""


class Pricing(Strict):
    """How a recruiter sets the pay it posts to workers and the price it asks clients."""

    rule: Literal["fixed", "cost_plus", "adaptive"] = "fixed"
    """fixed: the typed rate cards (campaign prices, ``pays``); cost_plus: a markup over the
    expected cost per surviving action; adaptive: posted pay follows how fast tasks fill and
    the price follows costs and competitors."""
    markup: Annotated[float, Field(ge=0, le=100)] = 0.5
    """Margin over expected cost (cost_plus and adaptive): price = cost x (1 + markup)."""
    adjust_every_hours: Annotated[int, Field(ge=1, le=24 * 30)] = 24
    pay_step: Annotated[float, Field(ge=0, le=1)] = 0.1
    """Adaptive: relative change of posted pay at each adjustment."""
    pay_floor: Annotated[float, Field(ge=0, le=1)] = 0.25
    """Adaptive: posted pay never falls below this share of the typed pay."""
    pay_cap: Annotated[float, Field(ge=1, le=100)] = 4.0
    """Adaptive: posted pay never rises above this multiple of the typed pay."""
    competitor_weight: Fraction = 0.5
    """Adaptive: weight of competitors' mean price in the recruiter's own price."""
    fast_fill_share: Fraction = 0.5
    """Adaptive: orders filled within this share of their deadline count as filling fast."""


TacticName = Literal[
    "drip_feed", "older_accounts", "more_accounts", "buy_aged", "to_people", "to_bots"
]
ROUTING_TACTICS = ("to_people", "to_bots")
"""Tactics of a top-level recruiter: which of its sub-recruiters' workforces get its orders."""


class Tactics(Strict):
    """How a recruiter answers removals: tactics it adopts, in order, from its repertoire.

    drip_feed: deliver evenly up to each deadline; older_accounts: workers act from their
    oldest live account; more_accounts: workers rotate their live accounts hour by hour;
    buy_aged: the recruiter buys aged accounts on the account market for its workers whose
    account is young, and sells the young ones back (needs an ``account_market:``).
    Two tactics belong to a top-level recruiter with sub-recruiters instead: to_people
    hands its orders only to the people below it (its bot operators get none), to_bots
    only to its bots; the one adopted last applies.
    """

    repertoire: list[TacticName] = []
    removal_threshold: Fraction = 0.3
    """Adopt the next tactic when more than this share of its deliveries was removed."""
    window_hours: Annotated[int, Field(ge=1, le=24 * 30)] = 24
    """The recruiter looks at its removal rate over this window, once per window."""
    speed: Fraction = 1.0
    """Chance of adopting the next tactic at a check where removals are too high."""
    cost_per_action: dict[TacticName, Money] = {}
    """What each tactic costs the recruiter per action delivered (e.g. renting aged
    accounts), paid to outside suppliers."""


class Recruiter(Strict):
    """A seller of engagement: broker, farm, campaign platform, influencer network, bot operator.

    Recruiters form a tree: one without a parent takes clients' campaigns, each hands work
    down to its sub-recruiters, and those at the bottom have the workers who do the tasks.
    """

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
    pricing: Pricing = Pricing()
    refill_days: Annotated[int, Field(ge=0, le=365)] = 0
    """Refill guarantee: removed actions are replaced at the recruiter's cost within this
    many days of the order's deadline (0 = no guarantee)."""
    capital: Money = Decimal(0)
    """Money the recruiter holds at the start; it can never pay out more than it holds."""
    pay_hold_hours: Annotated[int, Field(ge=0, le=24 * 90)] = 0
    """Workers' pay is held this long and withheld if the account is banned meanwhile."""
    tactics: Tactics = Tactics()


class Repeat(Strict):
    """How often a campaign places its order again: every ``every_hours`` after the first."""

    every_hours: Annotated[int, Field(ge=1, le=24 * 365)]
    times: Annotated[int, Field(ge=1, le=100_000)] | None = None
    """How many placements in all; omitted = keep placing until the run ends."""


class Campaign(Strict):
    """A client's order for engagement, placed with a top-level recruiter.

    The targets per action type (capped by any budget) are due within ``deadline_hours`` of
    each placement.
    """

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
    competitors: list[Identifier] = []
    """Other top-level recruiters the client may also buy from; it splits each placement
    by price per expected surviving action, learned from the removals it saw."""
    price_sensitivity: Annotated[float, Field(ge=0, le=100)] = 4.0
    """How sharply the client moves its orders to the cheapest expected surviving action."""
    payment: Literal["at_delivery", "escrow"] = "at_delivery"
    """at_delivery: the recruiter is paid as actions are delivered, removals are the
    client's loss; escrow: the money is held and released per action that survives
    ``escrow_hold_hours``; removed actions are refunded."""
    escrow_hold_hours: Annotated[int, Field(ge=1, le=24 * 90)] = 72
    reorder: bool = False
    """The target is surviving engagement: the client re-orders what removals took, within
    its budget, until ``reorder_window_hours`` after the deadline."""
    reorder_window_hours: Annotated[int, Field(ge=0, le=24 * 90)] = 72
    max_reorders: Annotated[int, Field(ge=0, le=1000)] = 10
    min_experience_tasks: Annotated[int, Field(ge=0, le=10**9)] = 0
    """A qualification: only workers who have done at least this many tasks see the
    campaign's tasks (0 = open to all)."""


class AccountMarket(Strict):
    """The market for platform accounts (docs/ODD.md "Account market").

    Makers create accounts at a cost and a delay; accounts age in stock and sell at a price
    that rises with age and trust, times a scarcity level that rises while the stock would
    not cover ``cover_hours`` of demand. Farms buy them for their workers whose accounts
    were all banned (and, with the ``buy_aged`` tactic, to replace young ones, which they
    sell back).
    """

    creation_cost: Money = Decimal("0.005")
    """What making one account costs its maker (SIM card, phone time): an assumption,
    below the cheapest retail price of $0.01 per account (Thomas et al. 2013)."""
    creation_hours: Annotated[int, Field(ge=1, le=24 * 30)] = 24
    """Hours from starting an account to listing it (an assumption)."""
    makers_per_hour: Annotated[int, Field(ge=0, le=100_000)] = 20
    """Accounts the makers can start in an hour, all makers together (an assumption)."""
    target_stock: Annotated[int, Field(ge=0, le=10_000_000)] = 500
    """Makers start accounts while stock plus accounts in the making is below this (or
    below twice ``cover_hours`` of recent demand, when that is more)."""
    initial_stock: Annotated[int, Field(ge=0, le=10_000_000)] = 500
    """Accounts for sale at the start (an assumption)."""
    initial_age_days: Spread = Spread(mean=60.0, cv=1.0)
    """Ages of the accounts in the initial stock (an assumption)."""
    trust: Fraction = 0.3
    """Trust of a newly made account (as low as a worker's own re-opened account)."""
    base_price: Money = Decimal("0.02")
    """Price of a new account of trust 0 at scarcity 1: the low end of $10-200 per 1,000
    fake accounts (Thomas et al., USENIX Security 2013)."""
    age_premium: Annotated[float, Field(ge=0, le=100)] = 4.0
    """A fully matured account costs (1 + age_premium) times a new one (an assumption:
    $0.10-0.13 for an aged account, inside the Thomas et al. range)."""
    mature_days: Annotated[float, Field(ge=1, le=3650)] = 180.0
    """Age at which the age premium is complete (grows linearly until then; an assumption)."""
    trust_premium: Annotated[float, Field(ge=0, le=100)] = 1.0
    """Price multiplier (1 + trust_premium x trust) (an assumption)."""
    scarcity_step: Fraction = 0.05
    """Relative change of the scarcity level each hour: up while the stock would last less
    than ``cover_hours`` at the recent rate of demand, down otherwise (an assumption)."""
    cover_hours: Annotated[int, Field(ge=1, le=24 * 90)] = 72
    """Hours of demand sellers want in stock before they stop raising prices (an
    assumption)."""
    max_scarcity: Annotated[float, Field(ge=1, le=100)] = 5.0
    """The scarcity level stays between 1 and this (an assumption)."""
    buyback_share: Fraction = 0.5
    """Share of the listed price a reseller pays for an account a farm no longer needs."""
    aged_days: Annotated[float, Field(ge=0, le=3650)] = 30.0
    """buy_aged: a worker's account younger than this is replaced by a listing at least
    this old (30 days: the detector's default young-account scale)."""
    aged_per_hour: Annotated[int, Field(ge=0, le=1_000_000)] = 20
    """buy_aged: most accounts one recruiter replaces in an hour (an assumption)."""


class DetectionWeights(Strict):
    """Weight of each suspicious signal in the detector's log-odds of flagging an action."""

    burstiness: Annotated[float, Field(ge=-20, le=20)] = 2.0
    account_age: Annotated[float, Field(ge=-20, le=20)] = 2.0
    low_trust: Annotated[float, Field(ge=-20, le=20)] = 1.0
    multiple_accounts: Annotated[float, Field(ge=-20, le=20)] = 1.5
    centralisation: Annotated[float, Field(ge=-20, le=20)] = 1.0
    geography: Annotated[float, Field(ge=-20, le=20)] = 1.5
    automation: Annotated[float, Field(ge=-20, le=20)] = 4.0


class Retraining(Strict):
    """Detector retraining: the detector re-fits its weights to recent reviews.

    Every ``every_hours`` it fits the verdicts of the reviews of the last ``window_hours``,
    which it sees ``lag_hours`` late: one bounded gradient step of logistic regression per
    retraining (docs/ODD.md 7.25); the bias (the platform's flagging threshold) stays as
    it is. Defaults are assumptions.
    """

    every_hours: Annotated[int, Field(ge=1, le=24 * 365)] = 24
    window_hours: Annotated[int, Field(ge=1, le=24 * 365)] = 72
    lag_hours: Annotated[int, Field(ge=0, le=24 * 365)] = 24
    """Reviews become training data this many hours after they were made."""
    learning_rate: Annotated[float, Field(gt=0, le=100)] = 1.0
    """Step size of the gradient step on the mean log-likelihood of the verdicts."""
    max_step: Annotated[float, Field(gt=0, le=20)] = 0.2
    """Most a weight may change at one retraining."""


class Detection(Strict):
    """The platform's detector, and how many removals get an account banned.

    An action is flagged for review with probability sigmoid(``bias`` + the sum of each
    signal times its weight).
    """

    bias: Annotated[float, Field(ge=-30, le=30)] = -5.0
    """Log-odds of flagging an action that shows no suspicious signal."""
    weights: DetectionWeights = DetectionWeights()
    young_account_days: Annotated[float, Field(ge=1 / 24, le=3650)] = 30.0
    strikes_to_ban: Annotated[int, Field(ge=1, le=10_000)] = 10
    """Removed actions after which an account is banned."""
    retraining: Retraining | None = None
    """Re-fit the detector's weights to recent reviews (off when omitted)."""


class Moderation(Strict):
    """The platform's moderators: how many, how fast and how accurately they review, their pay."""

    moderators: Annotated[int, Field(ge=0, le=1_000_000)] = 10
    """Moderators at the start (the capacity policy may change it)."""
    policy: Literal["fixed", "proportional", "revenue"] = "fixed"
    """How many moderators the platform employs: fixed; proportional to the flagged
    volume; or as many as pay for themselves when each surviving fake action costs the
    platform ``reputation_cost_per_fake`` beyond the ad revenue it brings."""
    policy_every_hours: Annotated[int, Field(ge=1, le=24 * 30)] = 24
    max_moderators: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
    """Most moderators the platform will employ; required by the proportional and revenue
    policies (default: the most that the scenario and its events ask for)."""
    review_share: Annotated[float, Field(ge=0, le=10)] = 1.0
    """Proportional policy: capacity to review this share of the actions flagged."""
    reputation_cost_per_fake: Money = Decimal(0)
    """Revenue policy: the reputational or regulatory cost of one surviving fake action."""
    reviews_per_hour: Annotated[float, Field(ge=0, le=10_000)] = 60.0
    accuracy: Fraction = 0.9
    """Probability that a reviewed fake action is recognised and removed."""
    false_positive_rate: Fraction = 0.05
    """Probability that a reviewed genuine action is wrongly removed (only matters with
    ``platform.genuine_users``; ``accuracy`` is the true-positive side)."""
    wage_per_hour: Money = Decimal(2)
    review_window_hours: Annotated[int, Field(ge=1, le=24 * 365)] = 72
    """Flagged actions not reviewed within this many hours are never reviewed."""


EventKind = Literal[
    "purge",
    "moderation",
    "detector",
    "pay_shock",
    "price_shock",
    "shutdown",
    "enter",
    "student_worker",
    "worker_tasks",
    "broker_rates",
    "student_moderator",
    "moderator_verdicts",
    "client_order",
]

MAX_TASKS_PER_HOUR = 1_000
"""Most tasks one student-driven worker can be asked to do in one hour."""
MAX_VERDICTS_PER_HOUR = 1_000
"""Most review-queue items one student-driven moderator can judge in one hour."""
ItemId = Annotated[str, Field(pattern=r"^h[0-9]{1,6}-p[0-9]{1,9}-w[0-9]{1,8}$")]
"""A flagged item in the review queue: ``h<flag hour>-p<pool>-w<worker row>``."""


class Verdict(Strict):
    """A student moderator's judgement of one flagged item."""

    item: ItemId
    verdict: Literal["fake", "genuine"]


class Event(Strict):
    """A dated intervention: it takes effect at the start of ``hour``.

    purge: ban every live account whose trust is below ``trust_below``; moderation: set
    the platform's moderators to ``moderators``; detector: a new ``bias`` and/or
    ``weights``; pay_shock: multiply a recruiter's posted pay by ``factor``; price_shock:
    multiply the price a recruiter asks by ``factor``; shutdown: the recruiter stops (its
    open orders expire); enter: the recruiter only starts trading at this hour.
    """

    id: Identifier
    hour: Annotated[int, Field(ge=0, le=24 * 3650)]
    kind: EventKind
    trust_below: Fraction | None = None
    moderators: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
    bias: Annotated[float, Field(ge=-30, le=30)] | None = None
    weights: dict[
        Literal[
            "burstiness",
            "account_age",
            "low_trust",
            "multiple_accounts",
            "centralisation",
            "geography",
            "automation",
        ],
        Annotated[float, Field(ge=-20, le=20)],
    ] = {}
    recruiter: Identifier | None = None
    factor: Annotated[float, Field(gt=0, le=100)] | None = None
    worker: Annotated[int, Field(ge=0, le=MAX_TOTAL_WORKERS)] | None = None
    campaign: Identifier | None = None
    action: ActionType | None = None
    tasks: Annotated[int, Field(ge=0, le=MAX_TASKS_PER_HOUR)] | None = None
    pay: Money | None = None
    price: Money | None = None
    moderator: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
    verdicts: Annotated[list[Verdict], Field(max_length=MAX_VERDICTS_PER_HOUR)] = []
    quantity: Annotated[int, Field(ge=1, le=10**9)] | None = None
    budget: Money | None = None
    deadline_hours: Annotated[int, Field(ge=1, le=24 * 3650)] | None = None


EVENT_FIELDS = {
    "purge": {"trust_below"},
    "moderation": {"moderators"},
    "detector": {"bias", "weights"},
    "pay_shock": {"recruiter", "factor"},
    "price_shock": {"recruiter", "factor"},
    "shutdown": {"recruiter"},
    "enter": {"recruiter"},
    "student_worker": {"worker"},
    "worker_tasks": {"worker", "campaign", "action", "tasks"},
    "broker_rates": {"recruiter", "action", "pay", "price"},
    "student_moderator": {"moderator"},
    "moderator_verdicts": {"moderator", "verdicts"},
    "client_order": {"campaign", "recruiter", "action", "quantity", "budget", "deadline_hours"},
}
"""The fields each kind of event uses (a detector event needs at least one of its two)."""
OPTIONAL_EVENT_FIELDS = {"broker_rates": {"pay", "price"}, "client_order": {"budget"}}
"""Fields an event kind may leave out (a broker_rates event needs pay or price)."""


class GenuineUsers(Strict):
    """The organic audience: genuine accounts that act on the campaigns' targets.

    While an order is open, its target receives Poisson(``organic_actions_per_hour``)
    genuine actions an hour (the campaign's own figure), of the order's action types in
    the order's proportions, from accounts drawn in proportion to their activity. The
    detector scores them with the same signals as fake actions. Defaults are assumptions.
    """

    accounts: Annotated[int, Field(ge=1, le=1_000_000)] = 10_000
    """Genuine accounts in the audience of the targets (about 50 bytes each)."""
    age_days: Spread = Spread(mean=1500.0, cv=1.0)
    trust: Fraction = 0.9
    """Mean trust of a genuine account."""
    trust_sd: Annotated[float, Field(ge=0, le=0.5)] = 0.05
    """Spread of trust between genuine accounts (normal, clipped to [0, 1])."""
    activity: Spread = Spread(mean=1.0, cv=1.5)
    """Relative share of the genuine actions each account makes (heavy users do most)."""


class Platform(Strict):
    """The platform where engagement is bought: its users, advertising, detection, moderation."""

    name: Name = "platform"
    users: Annotated[int, Field(ge=0, le=10**10)] = 1_000_000
    ad_profit_per_user_per_quarter: Money = Decimal("4.75")
    revenue_per_1000_impressions: Money = Decimal("2")
    detection: Detection = Detection()
    moderation: Moderation = Moderation()
    genuine_users: GenuineUsers | None = None
    """An organic audience acting on the same targets (off when omitted)."""


class Gamification(Strict):
    """Gamification levers that make points and collective objectives more motivating.

    ``badges`` maps each badge's name to the points that earn it; being among the
    ``leaderboard_size`` workers with the most points adds ``leaderboard_bonus`` to the
    multiplier on the value of points.
    """

    badges: dict[Name, Annotated[int, Field(ge=1, le=10**9)]] = {}
    leaderboard_size: Annotated[int, Field(ge=0, le=100_000)] = 0
    leaderboard_bonus: Annotated[float, Field(ge=0, le=10)] = 0.0
    urgency_pull: Annotated[float, Field(ge=0, le=10)] = 0.5
    """Extra conviction value of an urgent task: x (1 + urgency_pull x (urgency - 1))."""
    badge_gradient: Annotated[float, Field(ge=0, le=10)] = 0.0
    """Extra value of points for a worker close to the next badge (goal-gradient)."""
    objective_gradient: Annotated[float, Field(ge=0, le=10)] = 0.0
    """Extra motivation as a collective objective nears completion."""


class MarketReference(Strict):
    """A market wage used only to value unpaid hours (never paid to anyone)."""

    wage_per_hour: Money = Decimal("3.31")


class PaidAlternative(Strict):
    """The paid market a points scenario is priced against.

    Its counterfactual twin runs the same campaigns, with the same seed, through this
    recruiter and workforce.
    """

    recruiter: Recruiter
    workers: WorkerGroup
    price_per_action: dict[ActionType, Money]
    """The client's price ceiling per action in the paid market (what a fixed-price
    recruiter charges)."""


def moderator_capacity(s: Scenario) -> int:
    """The most moderators a run can employ: ledger accounts are opened for this many."""
    mod = s.platform.moderation
    if mod.max_moderators is not None:
        return mod.max_moderators
    asked = [e.moderators for e in s.events if e.kind == "moderation"]
    return max([mod.moderators, *asked])


class Scenario(Strict):
    """A whole scenario: the economy to simulate, for how long and with which seed."""

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
    paid_alternative: PaidAlternative | None = None
    events: list[Event] = []
    """Dated interventions, applied in order of hour (then of the list); an event dated
    after the end of the run never takes effect."""
    account_market: AccountMarket | None = None
    """Accounts as goods, made, aged, sold and resold; without it a worker whose accounts
    are all banned opens a fresh one of its own for free."""

    @field_validator("actions")
    @classmethod
    def _all_actions_present(cls, value: dict) -> dict:
        merged = dict(_default_actions())
        merged.update(value)
        return merged

    @property
    def steps(self) -> int:
        """Hours the run simulates: ``days`` x 24, rounded, at least one."""
        return max(1, round(self.days * 24))
