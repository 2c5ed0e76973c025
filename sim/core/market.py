"""The market: orders, the recruiter tree, pricing, client choice, escrow and refills.

Clients place each campaign's placements when they fall due. A placement may be split
between competing recruiters by price per expected surviving action (a reputation learned
from removals). Each recruiter quotes a price by its pricing rule, refuses what it cannot
cover, and hands the work down its tree to the leaf markets whose workers deliver it.
Money moves only through the ledger; every rule applied is a pure function of
``sim/core/rules.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import attrgetter
from typing import Protocol

import numpy as np

from sim.core import rules
from sim.core.ledger import INT64_MIN, WORLD, Ledger
from sim.core.records import Delivery, K, MarketHour, zeros_k
from sim.core.students import RateOverrides
from sim.scenario.load import to_minor
from sim.scenario.schema import ACTION_TYPES, ROUTING_TACTICS, Campaign, Scenario

# Assumption (docs/ODD.md): before seeing removals, a client expects 80% of what it buys
# to survive, with the weight of 200 observed actions.
SURVIVAL_PRIOR = 0.8
SURVIVAL_PRIOR_WEIGHT = 200.0
_ORDER_INDEX = attrgetter("index")


def rate_card(mapping: dict, scale: int) -> np.ndarray:
    """A scenario's per-action amounts as ledger units, in ``ACTION_TYPES`` order."""
    return np.array([to_minor(mapping.get(a, 0), scale) for a in ACTION_TYPES], dtype=np.int64)


def _pay_for_delivery(d: Delivery, card: np.ndarray, kinds: list[int]) -> np.ndarray | None:
    """``rules.pay_for_counts(d.counts, card)`` with as few passes over the workers as can be.

    Each worker's pay is the sum over action types of count x rate. Only the types
    delivered count (the columns of ``d.counts`` sum to ``d.by_type``), and as the counts of
    a worker sum to ``d.done``, types paid one same rate ``base`` come to ``done x base``:
    pay = done x base + sum over the other types of count x (rate - base). Integer
    arithmetic is exact, so this is the same int64 as the matrix product, with one column
    read (or none) instead of seven.

    Args:
        d: The delivery.
        card: Amount per action, per action type.
        kinds: The action types delivered (those with a nonzero ``d.by_type``), ascending.

    Returns:
        Each worker's amount, or None when every amount is 0.
    """
    rates = card.tolist()
    paid = [rates[k] for k in kinds]
    if not any(paid):
        return None
    if len(kinds) == 1:  # one type delivered: its rate times each worker's actions
        out = np.asarray(d.done, dtype=np.int64) * np.int64(paid[0])
        return out if paid[0] > 0 or out.any() else None
    if min(paid) < 0:  # not a rate card the scenario can give: the plain sum of products
        out = sum(d.counts[:, k] * card[k] for k in kinds)
        return out if out.any() else None
    base = max(set(paid), key=paid.count)  # the rate most of the delivered types share
    if base:
        out = np.asarray(d.done, dtype=np.int64) * np.int64(base)
    else:
        out = np.zeros(len(d.done), dtype=np.int64)
    for k in kinds:
        if rates[k] != base:
            out += d.counts[:, k] * np.int64(rates[k] - base)
    # with no negative rate, someone who did a paid type earned something: no need to look
    return out if min(paid) > 0 or out.any() else None


@dataclass
class Pool:
    """The share of one order served by one leaf recruiter's workforce."""

    market: int  # leaf market index
    chain: list[int]  # recruiter indices from the order's recruiter down to the leaf
    chain_prices: list[np.ndarray]  # price per action paid to chain[i] by whoever is above
    pay: np.ndarray  # money per action to the worker (the leaf's posted pay at placement)
    influencer_pay: np.ndarray
    points: np.ndarray  # points per action, before urgency
    remaining: np.ndarray  # ordered actions not yet delivered
    pool_id: int = -1
    refill_owed: np.ndarray = field(default_factory=zeros_k)  # removed actions to replace
    delivered: np.ndarray = field(default_factory=zeros_k)  # including refills
    refilled: np.ndarray = field(default_factory=zeros_k)
    removed: np.ndarray = field(default_factory=zeros_k)
    expired: np.ndarray = field(default_factory=zeros_k)
    fill: float = 1.0  # share of the tasks workers wanted from it that they found (EWMA)

    @property
    def outflow(self) -> np.ndarray:
        """What the order's recruiter pays out per action delivered through this pool."""
        if len(self.chain) > 1:
            return self.chain_prices[1]
        return self.pay + self.influencer_pay

    def available(self) -> np.ndarray:
        """Actions open to workers now: what is ordered plus replacements owed."""
        return self.remaining + self.refill_owed


@dataclass
class Order:
    """What one client bought from one recruiter in one placement of a campaign."""

    name: str
    campaign: int
    placement: int
    recruiter: int
    start: int  # first hour it is open
    end: int  # deadline: undelivered actions expire here
    refill_until: int  # replacements are owed until this hour
    quantities: np.ndarray
    prices: np.ndarray
    urgency: int
    objective: bool
    audience_region: int
    organic_per_hour: float
    promotion_per_day: int
    drip_feed: bool
    client: str
    client_account: int
    escrow: bool
    escrow_hold_hours: int
    pools: list[Pool]
    status: str = "open"  # open -> refilling (guarantee running) -> closed
    funded: int = 0
    spent: int = 0  # paid to the recruiter (and the platform, for promotion)
    refunded: int = 0
    escrow_pending: int = 0  # delivery batches still held in escrow
    promotion_spent: int = 0  # of ``spent``, what went to the platform for promotion
    completed_hour: int | None = None
    index: int = 0
    refused: np.ndarray = field(default_factory=zeros_k)

    @property
    def objective_reached(self) -> bool:
        """Whether a collective objective was fully delivered before the deadline."""
        return self.objective and self.completed_hour is not None and self.completed_hour < self.end

    @property
    def tag(self) -> str:
        """The campaign id its money flows are booked under."""
        return self.name.split("#")[0]

    @property
    def delivered(self) -> np.ndarray:
        """Ordered actions delivered (replacements not counted)."""
        return sum((p.delivered - p.refilled for p in self.pools), zeros_k())

    @property
    def remaining_total(self) -> int:
        """Ordered actions not yet delivered."""
        # sums of short Python lists: exact, and much cheaper than numpy calls on 7 numbers
        pools = self.pools
        if len(pools) == 1:
            return sum(pools[0].remaining.tolist())
        return sum(sum(p.remaining.tolist()) for p in pools)

    @property
    def delivered_total(self) -> int:
        """Ordered actions delivered, all types together (replacements not counted)."""
        return sum(sum(p.delivered.tolist()) - sum(p.refilled.tolist()) for p in self.pools)

    def progress(self) -> float:
        """Share of the ordered actions delivered so far."""
        total = sum(self.quantities.tolist())
        return 0.0 if total == 0 else float(self.delivered_total) / total


@dataclass
class Placement:
    """One due date of a campaign: the orders it became and any re-orders."""

    campaign: int
    number: int
    target: np.ndarray
    budget: int | None
    reorder_until: int
    index: int = 0  # position among the run's placements
    orders: list[Order] = field(default_factory=list)
    reorders: int = 0  # re-orders actually placed
    exhausted: bool = False  # a re-order found nothing to buy: the client stops trying

    def committed(self) -> int:
        """Money the client has put into this placement's orders and not had back."""
        return sum(o.spent if o.status == "closed" else o.funded - o.refunded for o in self.orders)


@dataclass
class Structure:
    """The recruiter tree and the ledger accounts of recruiters and clients."""

    children: dict[int, list[int]]
    leaves: list[int]
    leaf_of_recruiter: dict[int, int]
    recruiter_account: np.ndarray
    client_account: dict[str, int]
    workforce: np.ndarray  # workers per leaf market
    bots: np.ndarray | None = None  # bots per leaf market (None: no bots anywhere)

    def paths(self, top: int) -> list[list[int]]:
        """Every chain of recruiters from ``top`` down to a leaf, depth first.

        Cached: the tree never changes during a run.
        """
        cache = self.__dict__.setdefault("_paths", {})
        if top not in cache:
            cache[top] = self._walk(top)
        return cache[top]

    def _walk(self, top: int) -> list[list[int]]:
        out: list[list[int]] = []
        stack = [[top]]
        while stack:
            path = stack.pop()
            kids = self.children[path[-1]]
            if not kids:
                out.append(path)
            stack.extend(path + [c] for c in reversed(kids))
        return out


@dataclass
class EscrowBatch:
    """Client money for actions delivered in one hour, released once they survive."""

    order: Order
    pool: Pool
    release_hour: int
    held: np.ndarray  # actions per type still in escrow


@dataclass(frozen=True)
class CampaignTerms:
    """What every placement of one campaign shares, looked up once (scenarios are frozen).

    Attributes:
        target: Actions per type each placement asks for (copy before handing it out).
        budget: The placement budget in ledger units, or None for no budget.
        ceiling: The client's highest price per action (ledger units; never written to).
        highest: The price it accepts at most: its ceiling where that is above 0, else 0.
        lowest: The price it accepts at least: 0 where its ceiling is not above 0 (it pays
            nothing for that type), else no bound.
        candidates: Recruiter rows the client may buy from: its own first, then rivals.
        days: Days its deadline spans (promotion is funded per started day).
        promotion: Promotion budget per day, in ledger units.
        audience_region: Row of its audience's region.
        client_account: The client's ledger account.
        escrow: Whether the client pays through escrow.
    """

    target: np.ndarray
    budget: int | None
    ceiling: np.ndarray
    highest: np.ndarray
    lowest: np.ndarray
    candidates: tuple[int, ...]
    days: int
    promotion: int
    audience_region: int
    client_account: int
    escrow: bool


class Payees(Protocol):
    """Who a leaf recruiter pays: the workforce component implements this."""

    def pay_workers(
        self, leaf: int, payer: int, who: np.ndarray, wages: np.ndarray, tag: str, hour: int
    ) -> None:
        """Pay (or hold) each worker's wages for a delivery."""

    def pay_influencers(self, payer: int, who: np.ndarray, owed: np.ndarray, tag: str) -> None:
        """Pay each worker's influencer for the actions its community delivered."""

    def pay_points(self, payer: int, who: np.ndarray, points: np.ndarray, tag: str) -> None:
        """Award each worker the points its tasks earned (the points unit of the ledger)."""


@dataclass
class TacticChange:
    """A recruiter adopted a tactic against detection, from ``hour`` on."""

    hour: int
    recruiter: int
    tactic: str
    removal_rate: float  # the removal rate over its window that prompted it


@dataclass
class RateChange:
    """A recruiter's posted pay and price for one action, from ``hour`` on."""

    hour: int
    recruiter: int
    action: int
    worker_pay: int
    influencer_pay: int
    price: int  # its quote to clients (what non-fixed rules charge)
    survival: float  # its own survival estimate when it set them


class Market:
    """Order book, pricing, client choice, escrow and refills (one per model)."""

    def __init__(self, scenario: Scenario, ledger: Ledger, structure: Structure) -> None:
        s = self.scenario = scenario
        self.ledger, self.structure = ledger, structure
        self.scale = s.currency.minor_units
        self.index = {r.id: i for i, r in enumerate(s.recruiters)}
        n = len(s.recruiters)
        self.typed_pay = np.array([rate_card(r.pays, self.scale) for r in s.recruiters])
        self.typed_pay = self.typed_pay.reshape(n, K)
        self.posted_pay = self.typed_pay.copy()
        self.influencer_pay = np.array(
            [
                rate_card(r.influencers.pay_per_action if r.influencers else {}, self.scale)
                for r in s.recruiters
            ]
        ).reshape(n, K)
        self.typed_influencer_pay = self.influencer_pay.copy()
        self.points_card = np.array(
            [[r.points.get(a, 0) for a in ACTION_TYPES] for r in s.recruiters], dtype=np.int64
        ).reshape(n, K)
        self.charges = np.array([rate_card(r.charges, self.scale) for r in s.recruiters])
        self.charges = self.charges.reshape(n, K)
        self.quote = np.zeros((n, K), dtype=np.int64)  # price to clients (non-fixed rules)
        # the rates last logged (posted pay, influencer pay, quote), for the rate history
        self._logged = (np.zeros((n, K), np.int64),) * 3
        self.delivered_by = np.zeros(n)  # per recruiter, for its own survival estimate
        self.removed_by = np.zeros(n)
        # per (client, recruiter): what the client saw delivered and removed
        self.seen_delivered: dict[tuple[str, int], float] = {}
        self.seen_removed: dict[tuple[str, int], float] = {}
        # per leaf, since the recruiter's last price adjustment
        self.period_expired = np.zeros(n, dtype=np.int64)
        self.period_orders = np.zeros(n, dtype=np.int64)
        self.period_fast = np.zeros(n, dtype=np.int64)
        self.software_paid = np.zeros(n, dtype=bool)
        self.active = np.ones(n, dtype=bool)  # trading now (events may shut or open one)
        self.price_factor = np.ones(n)  # price shocks multiply what a recruiter asks
        # tactics against detection: how many of its repertoire each recruiter has adopted
        self.tactics_adopted = np.zeros(n, dtype=np.int64)
        self.window_delivered = np.zeros(n)
        self.window_removed = np.zeros(n)
        self.tactic_history: list[TacticChange] = []
        self.tactic_cost_paid = 0
        self.tactic_paid = np.zeros(n, dtype=np.int64)  # per recruiter
        self.escrow_account = int(ledger.open_accounts("escrow", ["escrow"])[0])
        self.orders: list[Order] = []
        self._pool_order: dict[int, Order] = {}
        self.open_orders: list[Order] = []
        self.objective_orders: list[Order] = []
        self.pools: list[Pool] = []
        self.placements: list[Placement] = []
        self.escrow: list[EscrowBatch] = []
        self.ordered_total = 0
        self.refused_total = zeros_k()
        self.finished_ordered = 0  # ordered actions of orders past their deadline or filled
        self.finished_delivered = 0
        self.reorder_watch: list[Placement] = []  # placements that may still re-order
        self._pending = MarketHour()  # what events did to orders before the hour's record
        self.refused_by_campaign: dict[int, int] = {}
        self.expired_total = 0
        self.removal_cost = {"clients": 0, "recruiters": 0, "workers": 0}
        self._terms: dict[int, CampaignTerms] = {}  # per campaign row, on first use
        self._due = self._schedule()
        self._next_due = 0
        for r in range(n):
            self.quote[r] = self._cost_plus(r)
        self.initial_quote = self.quote.copy()
        self.rate_history: list[RateChange] = []
        self._log_rates(0)
        self.overrides = RateOverrides(n)  # rates fixed by classroom students
        self.student_rates = False  # whether any is fixed (set_student_rates is the way in)
        self._fixed_rule = [r.pricing.rule == "fixed" for r in s.recruiters]
        self._guarantees = [r.refill_days > 0 for r in s.recruiters]
        self._tops = [i for i, r in enumerate(s.recruiters) if r.parent is None]
        self._repriced = [i for i, fixed in enumerate(self._fixed_rule) if not fixed]
        # influencer pay: who pays any, and for which actions (the typed rates never change)
        self._paid_influencers = self.typed_influencer_pay > 0
        self._influencing = np.flatnonzero(self._paid_influencers.any(axis=1)).tolist()

    # -- set-up -----------------------------------------------------------------------
    def _schedule(self) -> list[tuple[int, int, int]]:
        """(hour, campaign, number) of every placement due within the run, in due order."""
        s, due = self.scenario, []
        for ci, c in enumerate(s.campaigns):
            times = (c.repeat.times or 10**9) if c.repeat else 1
            every = c.repeat.every_hours if c.repeat else 1
            last = min(times, (s.steps - 1 - c.start_hour) // every + 1) if c.repeat else 1
            if c.start_hour >= s.steps:
                continue
            due += [(c.start_hour + k * every, ci, k) for k in range(max(last, 0))]
        due.sort(key=lambda t: (t[0], t[1], t[2]))  # hour, then the file's campaign order
        return due

    # -- costs and prices ---------------------------------------------------------------
    def cost_per_action(self, r: int) -> np.ndarray:
        """What recruiter ``r`` pays out per action.

        At a leaf: its workers' and influencers' pay; above: its sub-recruiters' charges,
        weighted by their workforce.
        """
        kids = self.structure.children[r]
        if not kids:
            return self.posted_pay[r] + self.influencer_pay[r]
        routed = self._routed(r)
        weights = np.array([self._subtree_workforce(c, routed) for c in kids], dtype=np.float64)
        if weights.sum() <= 0:
            weights[:] = 1.0
        cost = (self.charges[kids] * weights[:, None]).sum(axis=0) / weights.sum()
        return np.ceil(cost).astype(np.int64)

    def _subtree_workforce(self, r: int, weights: np.ndarray) -> int:
        st = self.structure
        return int(sum(weights[st.leaf_of_recruiter[p[-1]]] for p in st.paths(r)))

    def _routed(self, top: int) -> np.ndarray:
        """Per leaf market, the weight of its workforce in ``top``'s orders.

        Its headcount; once ``top`` has adopted to_people only its people count, after
        to_bots only its bots (the tactic adopted last applies; a tree without the kind
        wanted keeps the headcounts).
        """
        st = self.structure
        route = [t for t in self.tactics_of(top) if t in ROUTING_TACTICS]
        if not route or st.bots is None:
            return st.workforce
        wanted = st.bots if route[-1] == "to_bots" else st.workforce - st.bots
        reached = [st.leaf_of_recruiter[p[-1]] for p in st.paths(top)]
        return wanted if wanted[reached].sum() > 0 else st.workforce

    def survival(self, r: int) -> float:
        """The recruiter's own estimate of the share of its deliveries that survive."""
        return rules.survival_estimate(
            self.delivered_by[r], self.removed_by[r], SURVIVAL_PRIOR, SURVIVAL_PRIOR_WEIGHT
        )

    def _cost_plus(self, r: int) -> np.ndarray:
        spec = self.scenario.recruiters[r]
        exposed = spec.refill_days > 0  # with a guarantee, removals are the recruiter's cost
        return rules.cost_plus_price(
            self.cost_per_action(r), spec.pricing.markup, self.survival(r) if exposed else 1.0
        )

    def price_for(self, r: int, campaign_prices: np.ndarray) -> np.ndarray:
        """The price recruiter ``r`` asks per action.

        The campaign's typed prices under the fixed rule, otherwise its current quote;
        times any price shock.
        """
        base = campaign_prices if self._fixed_rule[r] else self.quote[r]
        if self.student_rates:
            base = self.overrides.price_for(r, base)
        if self.price_factor[r] == 1.0:
            return base.copy()
        return np.rint(base * self.price_factor[r]).astype(np.int64)

    # -- events ---------------------------------------------------------------------------
    def shock_pay(self, r: int, factor: float) -> int:
        """Multiply a recruiter's posted pay (workers and influencers); returns 1."""
        self.posted_pay[r] = np.rint(self.posted_pay[r] * factor).astype(np.int64)
        self.influencer_pay[r] = np.rint(self.influencer_pay[r] * factor).astype(np.int64)
        return 1

    def shut_down(self, r: int, hour: int) -> int:
        """Recruiter ``r`` stops: its open orders expire now; returns the actions lost."""
        self.active[r] = False
        lost = 0
        for o in self.open_orders:
            if o.status == "open" and (o.recruiter == r or any(r in p.chain for p in o.pools)):
                lost += o.remaining_total
                o.end = hour
                self._expire(o, self._pending)  # counted in this hour's record
        return lost

    # -- tactics against detection ---------------------------------------------------------
    def tactics_of(self, r: int) -> list[str]:
        """The tactics recruiter ``r`` uses now."""
        spec = self.scenario.recruiters[r].tactics
        return list(spec.repertoire[: self.tactics_adopted[r]])

    def uses(self, r: int, tactic: str) -> bool:
        """Whether recruiter ``r`` has adopted ``tactic``."""
        return bool(self.tactics_adopted[r]) and tactic in self.tactics_of(r)

    def adapt_tactics(self, hour: int, rng: np.random.Generator) -> None:
        """Recruiters whose removal rate over their window was too high adopt a tactic."""
        for r, spec in enumerate(self.scenario.recruiters):
            t = spec.tactics
            if not t.repertoire or (hour + 1) % t.window_hours:
                continue
            delivered, removed = self.window_delivered[r], self.window_removed[r]
            self.window_delivered[r] = self.window_removed[r] = 0
            rate = removed / delivered if delivered else 0.0
            more = self.tactics_adopted[r] < len(t.repertoire)
            if more and rate > t.removal_threshold and rng.random() < t.speed:
                self.tactics_adopted[r] += 1
                name = t.repertoire[self.tactics_adopted[r] - 1]
                self.tactic_history.append(TacticChange(hour + 1, r, name, rate))

    def tactic_cost(self, leaf: int) -> int:
        """Per action, what the leaf's adopted tactics cost it (ledger units)."""
        spec = self.scenario.recruiters[leaf].tactics
        return sum(
            to_minor(spec.cost_per_action.get(n, 0), self.scale) for n in self.tactics_of(leaf)
        )

    def reprice(self, hour: int) -> None:
        """Recruiters whose adjustment is due update posted pay and price quotes."""
        s = self.scenario
        tops = self._tops
        for r in self._repriced:  # the fixed rule never reprices
            p = s.recruiters[r].pricing
            if (hour + 1) % p.adjust_every_hours:
                continue
            if p.rule == "adaptive" and not self.structure.children[r]:
                self._adapt_pay(r, p)
            self.period_expired[r] = self.period_orders[r] = self.period_fast[r] = 0
            own = self._cost_plus(r)
            if p.rule == "adaptive":
                # competitors' going prices: those that quote (a fixed-rule recruiter asks
                # each campaign's own price, which is no quote)
                others = [t for t in tops if t != r and s.recruiters[t].pricing.rule != "fixed"]
                quotes = np.array([self.quote[t] for t in others]) if others else None
                comp = np.zeros(K)
                if quotes is not None and quotes.size:
                    quoted = quotes > 0
                    counts = quoted.sum(axis=0)
                    comp = np.where(counts > 0, quotes.sum(axis=0) / np.maximum(counts, 1), 0)
                # never below cost: a recruiter cannot sell at a loss and stay solvent
                floor = rules.cost_plus_price(self.cost_per_action(r), 0.0, 1.0)
                own = np.maximum(rules.blend_price(own, comp, p.competitor_weight), floor)
            self.quote[r] = own
        if self.student_rates:
            self.overrides.apply(self)
        self._log_rates(hour + 1)

    def _log_rates(self, hour: int) -> None:
        """Record every recruiter's rates that changed (all of them at hour 0).

        A rate never logged counts as logged at 0, so it is logged once it is set.
        """
        now = (self.posted_pay, self.influencer_pay, self.quote)
        if all(a.tobytes() == b.tobytes() for a, b in zip(now, self._logged, strict=True)):
            return  # the usual hour: nothing changed (equal int64 bytes are equal values)
        changed = now[0] != self._logged[0]
        changed |= now[1] != self._logged[1]
        changed |= now[2] != self._logged[2]
        for r, k in zip(*(i.tolist() for i in np.nonzero(changed)), strict=True):
            rates = (int(now[0][r, k]), int(now[1][r, k]), int(now[2][r, k]))
            self.rate_history.append(RateChange(hour, r, k, *rates, self.survival(r)))
        self._logged = tuple(a.copy() for a in now)

    def _adapt_pay(self, r: int, p) -> None:
        """A leaf's posted pay (to workers and influencers) follows how its tasks filled."""
        typed = np.concatenate([self.typed_pay[r], self.typed_influencer_pay[r]])
        now = np.concatenate([self.posted_pay[r], self.influencer_pay[r]])
        orders = int(self.period_orders[r])
        new = rules.adjust_pay(
            now,
            unfilled=self.period_expired[r] > 0,
            filled_fast=orders > 0 and self.period_fast[r] == orders,
            step=p.pay_step,
            floor=np.floor(typed * p.pay_floor).astype(np.int64),
            cap=np.ceil(typed * p.pay_cap).astype(np.int64),
        )
        if self.scenario.recruiters[r].parent is not None:
            # solvency: never post more than the recruiter is paid for the action
            over = new[:K] + new[K:] > self.charges[r]
            new[:K] = np.where(over, now[:K], new[:K])
            new[K:] = np.where(over, now[K:], new[K:])
        self.posted_pay[r], self.influencer_pay[r] = new[:K], new[K:]

    def influencer_pay_ratio(self) -> np.ndarray:
        """Per recruiter: its influencers' current pay over the typed pay (1 = as typed)."""
        typed, now = self.typed_influencer_pay, self.influencer_pay
        paid = self._paid_influencers
        ratio = np.ones(len(typed))
        for r in self._influencing:
            ratio[r] = float((now[r][paid[r]] / typed[r][paid[r]]).mean())
        return ratio

    # -- placements ---------------------------------------------------------------------
    def place_due(self, hour: int, record: MarketHour) -> None:
        """Place every campaign placement due this hour, and any re-orders."""
        s = self.scenario
        while self._next_due < len(self._due) and self._due[self._next_due][0] <= hour:
            _, ci, k = self._due[self._next_due]
            self._next_due += 1
            c = s.campaigns[ci]
            terms = self.campaign_terms(ci)
            target = terms.target.copy()
            placement = Placement(
                campaign=ci,
                number=k,
                target=target,
                budget=terms.budget,
                reorder_until=hour + c.deadline_hours + c.reorder_window_hours,
                index=len(self.placements),
            )
            self.placements.append(placement)
            self._place(placement, target, hour, record)
            if c.reorder:
                self.reorder_watch.append(placement)
        self.reorder_watch = [p for p in self.reorder_watch if hour < p.reorder_until]
        for placement in self.reorder_watch:
            self._maybe_reorder(placement, hour, record)

    def campaign_terms(self, ci: int) -> CampaignTerms:
        """The fixed terms of campaign ``ci`` (built on first use, then kept)."""
        terms = self._terms.get(ci)
        if terms is None:
            terms = self._terms[ci] = self._terms_of(self.scenario.campaigns[ci])
        return terms

    def _terms_of(self, c: Campaign) -> CampaignTerms:
        s = self.scenario
        ceiling = rate_card(c.price_per_action, self.scale)
        target = np.array([c.actions.get(a, 0) for a in ACTION_TYPES], dtype=np.int64)
        capped = ceiling > 0
        highest = np.where(capped, ceiling, 0)
        lowest = np.where(capped, INT64_MIN, 0)
        for fixed in (ceiling, target, highest, lowest):
            fixed.flags.writeable = False
        return CampaignTerms(
            target=target,
            budget=None if c.budget is None else to_minor(c.budget, self.scale),
            ceiling=ceiling,
            highest=highest,
            lowest=lowest,
            candidates=(self.index[c.recruiter], *(self.index[r] for r in c.competitors)),
            days=-(-c.deadline_hours // 24),
            promotion=to_minor(c.promotion_per_day, self.scale),
            audience_region=list(s.regions).index(c.audience_region),
            client_account=self.structure.client_account[c.client],
            escrow=c.payment == "escrow",
        )

    def _place(
        self,
        pl: Placement,
        wanted: np.ndarray,
        hour: int,
        record: MarketHour,
        campaign: Campaign | None = None,
    ) -> None:
        s, led = self.scenario, self.ledger
        c = campaign or s.campaigns[pl.campaign]
        terms = self.campaign_terms(pl.campaign) if campaign is None else self._terms_of(c)
        ceiling = terms.ceiling
        candidates = [r for r in terms.candidates if self.active[r]]
        prices, refused_by = [], []
        for r in candidates:
            price = self.price_for(r, ceiling)
            # refuse what the client will not pay or what cannot cover the chain's costs
            ok = (price <= terms.highest) & (price >= terms.lowest) & self._covers(r, price)
            prices.append(price * ok)
            refused_by.append(~ok)
        budget_left = None
        if pl.budget is not None:
            budget_left = pl.budget - pl.committed()
        if len(candidates) == 1:  # no choice to make
            quantities = [wanted * ~refused_by[0]]
            refused_all = wanted - quantities[0]
        else:
            quantities, refused_all = self._choose(c, candidates, prices, refused_by, wanted)
        refused = sum(refused_all.tolist())
        record.refused += refused
        self.refused_total += refused_all
        self.refused_by_campaign[pl.campaign] = (
            self.refused_by_campaign.get(pl.campaign, 0) + refused
        )
        suffix = "" if c.repeat is None else f"#{pl.number + 1}"
        for j, r in enumerate(candidates):
            q = quantities[j]
            if budget_left is not None:
                q = rules.affordable_quantities(q, prices[j], max(budget_left, 0))
            if not any(q.tolist()):
                continue
            promotion = terms.promotion if not pl.orders else 0
            order = Order(
                name=f"{c.id}{suffix}" + (f"@{s.recruiters[r].id}" if c.competitors else ""),
                campaign=pl.campaign,
                placement=pl.index,
                recruiter=r,
                start=hour,
                end=hour + c.deadline_hours,
                refill_until=hour + c.deadline_hours + 24 * s.recruiters[r].refill_days,
                quantities=q.copy(),
                prices=prices[j],
                urgency=c.urgency,
                objective=c.objective,
                audience_region=terms.audience_region,
                organic_per_hour=c.organic_actions_per_hour,
                promotion_per_day=promotion,
                drip_feed=c.drip_feed,
                client=c.client,
                client_account=terms.client_account,
                escrow=terms.escrow,
                escrow_hold_hours=c.escrow_hold_hours,
                pools=self._split(r, q, prices[j]),
                index=len(self.orders),
            )
            for p in order.pools:
                p.pool_id = len(self.pools)
                self.pools.append(p)
                self._pool_order[p.pool_id] = order
            cost = int(q.dot(order.prices))
            order.funded = cost + promotion * terms.days
            if budget_left is not None:
                budget_left -= order.funded
            tag = order.tag
            led.transfer("money", WORLD, order.client_account, order.funded, "client budget", tag)
            if order.escrow:
                led.transfer(
                    "money", order.client_account, self.escrow_account, cost, "into escrow", tag
                )
            self.orders.append(order)
            self.open_orders.append(order)
            pl.orders.append(order)
            if order.objective:
                self.objective_orders.append(order)
            n = sum(q.tolist())
            self.ordered_total += n
            record.ordered += n
            record.placed_orders += 1

    def _choose(
        self,
        c: Campaign,
        candidates: list[int],
        prices: list[np.ndarray],
        refused_by: list[np.ndarray],
        wanted: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """How many actions of each type the client buys from each candidate (none or 2+).

        The client's view of each recruiter is its price per expected surviving action.
        Returns the quantities (candidates x K) and what no candidate would take (K).
        """
        shares = np.zeros((len(candidates), K))
        for k in np.flatnonzero(wanted) if len(candidates) > 1 else ():
            cps = np.array(
                [
                    np.inf
                    if refused_by[j][k]
                    else max(prices[j][k], 0) / self._seen_survival(c.client, r)
                    for j, r in enumerate(candidates)
                ]
            )
            shares[:, k] = rules.client_shares(cps, c.price_sensitivity)
        quantities = np.zeros((len(candidates), K), dtype=np.int64)
        for k in np.flatnonzero(wanted) if len(candidates) > 1 else ():
            quantities[:, k] = rules.largest_remainder(int(wanted[k]), shares[:, k])
        return quantities, np.where(shares.sum(axis=0) == 0, wanted, 0)

    def _covers(self, r: int, price: np.ndarray) -> np.ndarray:
        """Per action type: whether every level of every chain below ``r`` covers its costs.

        Solvency: each level is paid at least what it pays out, so no one pays out money it
        does not take in.
        """
        ok = None
        for path in self.structure.paths(r):
            incoming = price
            for below in path[1:]:  # a recruiter with sub-recruiters pays their charges
                covered = incoming >= self.charges[below]
                ok = covered if ok is None else ok & covered
                incoming = self.charges[below]
            leaf = path[-1]  # a leaf pays its workers and influencers
            covered = incoming >= self.posted_pay[leaf] + self.influencer_pay[leaf]
            ok = covered if ok is None else ok & covered
        return ok

    def _seen_survival(self, client: str, r: int) -> float:
        return rules.survival_estimate(
            self.seen_delivered.get((client, r), 0.0),
            self.seen_removed.get((client, r), 0.0),
            SURVIVAL_PRIOR,
            SURVIVAL_PRIOR_WEIGHT,
        )

    def _split(self, top: int, quantities: np.ndarray, price: np.ndarray) -> list[Pool]:
        """Hand an order down the tree, in proportion to each leaf's workforce."""
        st = self.structure
        paths = st.paths(top)
        if len(paths) == 1:
            shares = [quantities]
        else:
            weights = self._routed(top)
            sizes = np.array([weights[st.leaf_of_recruiter[p[-1]]] for p in paths], float)
            if sizes.sum() == 0:
                sizes[:] = 1
            shares = np.stack(
                [rules.largest_remainder(int(quantities[k]), sizes) for k in range(K)], axis=1
            )
        pools = []
        for path, share in zip(paths, shares, strict=True):
            leaf = path[-1]
            pools.append(
                Pool(
                    market=st.leaf_of_recruiter[leaf],
                    chain=path,
                    chain_prices=[price] + [self.charges[r] for r in path[1:]],
                    pay=self.posted_pay[leaf].copy(),
                    influencer_pay=self.influencer_pay[leaf].copy(),
                    points=self.points_card[leaf].copy(),
                    remaining=share.astype(np.int64),
                )
            )
        return pools

    def _maybe_reorder(self, pl: Placement, hour: int, record: MarketHour) -> None:
        """A client buying surviving engagement re-orders what removals took."""
        c = self.scenario.campaigns[pl.campaign]
        if hour >= pl.reorder_until or pl.reorders >= c.max_reorders or pl.exhausted:
            return
        if not pl.orders:
            return
        if any(o.status == "open" and o.remaining_total for o in pl.orders):
            return
        surviving = sum(
            (p.delivered - p.removed + p.refill_owed for o in pl.orders for p in o.pools),
            zeros_k(),
        )
        shortfall = np.maximum(pl.target - surviving, 0)
        if shortfall.sum() <= 0:
            return
        before = len(pl.orders)
        self._place(pl, shortfall, hour, record)
        if len(pl.orders) == before:
            pl.exhausted = True  # nothing could be bought (budget, refusals): stop trying
        else:
            pl.reorders += 1
            record.reorders += 1

    # -- the hour -----------------------------------------------------------------------
    def open_and_close(self, hour: int) -> MarketHour:
        """Expire orders at their deadline, end refill guarantees, place what is due."""
        record, self._pending = self._pending, MarketHour()  # holds what events expired
        still = []
        for o in self.open_orders:
            if o.status == "open" and hour >= o.end:
                self._expire(o, record)
            if o.status == "open" and not o.promotion_per_day and not o.remaining_total:
                self._finish(o)
            if o.status == "refilling" and hour >= o.refill_until and not o.escrow_pending:
                self._close(o)
            if o.status != "closed":
                still.append(o)
        self.open_orders = still
        self.release_escrow(hour)
        self.place_due(hour, record)
        self.open_orders.sort(key=_ORDER_INDEX)  # fixes the order of random draws
        return record

    def _expire(self, o: Order, record: MarketHour) -> None:
        """The deadline passed: what is undelivered will never be, and is paid back."""
        left = sum((p.remaining for p in o.pools), zeros_k())
        n = int(left.sum())
        record.expired += n
        self.expired_total += n
        for p in o.pools:
            p.expired += p.remaining
            self.period_expired[p.chain[-1]] += int(p.remaining.sum())
            p.remaining = zeros_k()
        self._finish(o)

    def _finish(self, o: Order) -> None:
        """Ordered work is over (delivered or expired); a guarantee may keep it refilling."""
        for p in o.pools:
            leaf = p.chain[-1]
            share = self.scenario.recruiters[leaf].pricing.fast_fill_share
            fast = o.completed_hour is not None and (o.completed_hour - o.start + 1) <= (
                (o.end - o.start) * share
            )
            self.period_orders[leaf] += 1
            self.period_fast[leaf] += int(fast)
        self._refund_undelivered(o)
        self.finished_ordered += sum(o.quantities.tolist())
        self.finished_delivered += o.delivered_total
        o.status = "refilling"

    def _refund_undelivered(self, o: Order) -> None:
        if not o.escrow:  # unescrowed, it never left the client's account (see _close)
            return
        led = self.ledger
        undelivered = sum((p.expired for p in o.pools), zeros_k())
        amount = int(undelivered @ o.prices)
        if amount:
            led.transfer(
                "money", self.escrow_account, o.client_account, amount, "escrow refund", o.tag
            )
            o.refunded += amount

    def _close(self, o: Order) -> None:
        """Nothing more is owed: the client's unspent budget goes back where it came from."""
        o.status = "closed"
        for p in o.pools:
            # replacements still owed when the guarantee ends are the client's loss
            if any(p.refill_owed.tolist()):
                self.removal_cost["clients"] += int(p.refill_owed.dot(o.prices))
            p.refill_owed = zeros_k()
        unspent = o.funded - o.spent
        if unspent:
            self.ledger.transfer("money", o.client_account, WORLD, unspent, "unspent budget", o.tag)

    def release_escrow(self, hour: int) -> None:
        """Escrowed money for actions that survived the hold goes to the recruiter."""
        keep = []
        for b in self.escrow:
            if hour < b.release_hour:
                keep.append(b)
                continue
            amount = int(b.held @ b.order.prices)
            if amount:
                self.ledger.transfer(
                    "money",
                    self.escrow_account,
                    int(self.structure.recruiter_account[b.order.recruiter]),
                    amount,
                    "escrow release",
                    b.order.tag,
                )
                b.order.spent += amount
            b.order.escrow_pending -= 1
        self.escrow = keep

    def escrow_held_by_order(self) -> dict[int, int]:
        """Client money still held in escrow, per order index."""
        out: dict[int, int] = {}
        for b in self.escrow:
            out[b.order.index] = out.get(b.order.index, 0) + int(b.held @ b.order.prices)
        return out

    # -- delivery -------------------------------------------------------------------------
    def open_pools(self) -> list[tuple[Order, Pool]]:
        """Pools with work available to workers now, in the fixed order of orders."""
        # both counts are never negative, so their sum has work where either has; any() of
        # short lists is cheaper than numpy's any() or than adding them first
        return [
            (o, p)
            for o in self.open_orders
            for p in o.pools
            if any(p.remaining.tolist()) or any(p.refill_owed.tolist())
        ]

    def financeable(self, o: Order, p: Pool, wanted: int) -> int:
        """How many of ``wanted`` actions the order's recruiter can pay for up front.

        Work the client does not pay for at delivery (escrowed orders, refills) is paid out
        of the recruiter's own balance, which can never go below zero.
        """
        if not o.escrow and not any(p.refill_owed.tolist()):
            return wanted
        cost = int(p.outflow.max())
        if cost <= 0:
            return wanted
        balance = int(self.ledger.balances["money"][self.structure.recruiter_account[o.recruiter]])
        return max(0, min(wanted, balance // cost))

    def settle(self, d: Delivery, hour: int, payees: Payees) -> None:
        """Pay for one delivery: down the chain, then the leaf pays workers and influencers.

        Refills are not paid by the client: the order's recruiter pays for them.
        """
        led, o, p = self.ledger, d.order, d.pool
        st = self.structure
        tag = o.tag
        by_type, refills = d.by_type.tolist(), d.refills.tolist()
        kinds = [k for k, n in enumerate(by_type) if n]  # the action types delivered
        actions = float(sum(by_type))
        ordered = d.by_type - d.refills
        payer = o.client_account
        for level, rec in enumerate(p.chain):
            acct = int(st.recruiter_account[rec])
            if level == 0 and o.escrow:
                if ordered.any():
                    self.escrow.append(
                        EscrowBatch(o, p, hour + o.escrow_hold_hours, ordered.copy())
                    )
                    o.escrow_pending += 1
            elif level == 0:
                amount = int(ordered.dot(p.chain_prices[0]))
                led.transfer("money", payer, acct, amount, "order price", tag)
                o.spent += amount
            else:
                amount = int(d.by_type.dot(p.chain_prices[level]))
                led.transfer("money", payer, acct, amount, "sub-contract", tag)
            payer = acct
        if any(refills):
            self.removal_cost["recruiters"] += int(d.refills.dot(p.outflow))
        leaf = p.chain[-1]
        spec = self.scenario.recruiters[leaf]
        for r in p.chain:  # the leaf and every recruiter above it
            self.window_delivered[r] += actions
        if spec.kind == "bot_operator" and not self.software_paid[leaf] and spec.software_cost > 0:
            cost = to_minor(spec.software_cost, self.scale)
            # bought once, as soon as the operator holds the money (it never goes below 0)
            if int(led.balances["money"][payer]) >= cost:
                self.software_paid[leaf] = True
                led.transfer("money", payer, WORLD, cost, "bot software", tag)
        wages = _pay_for_delivery(d, p.pay, kinds)
        if wages is not None:
            payees.pay_workers(leaf, payer, d.who, wages, tag, hour)
        if any(p.influencer_pay.tolist()):
            per_worker = _pay_for_delivery(d, p.influencer_pay, kinds)
            if per_worker is None:
                per_worker = np.zeros(len(d.who), dtype=np.int64)
            payees.pay_influencers(payer, d.who, per_worker, tag)
        if any(p.points.tolist()):
            points = _pay_for_delivery(d, p.points, kinds)
            if points is None:
                points = np.zeros(len(d.who), dtype=np.int64)
            payees.pay_points(payer, d.who, points * int(o.urgency), tag)
        if spec.tactics.repertoire and self.tactics_adopted[leaf]:
            # tactics are paid from what the leaf holds: it never pays out more than that
            balance = int(self.ledger.balances["money"][payer])
            cost = min(self.tactic_cost(leaf) * int(sum(by_type)), max(balance, 0))
            led.transfer("money", payer, WORLD, cost, "tactic cost", tag)
            self.tactic_cost_paid += cost
            self.tactic_paid[leaf] += cost
        self.delivered_by[o.recruiter] += actions
        key = (o.client, o.recruiter)
        self.seen_delivered[key] = self.seen_delivered.get(key, 0.0) + actions

    # -- removals -------------------------------------------------------------------------
    def apply_removals(self, removed_by_pool: dict[int, np.ndarray], hour: int) -> None:
        """Removals cost someone: escrow refunds, refills owed, or the client's loss.

        Also what clients and recruiters learn: their survival estimates.
        """
        led = self.ledger
        for pool_id, by_type in removed_by_pool.items():
            p = self.pools[pool_id]
            o = self._order_of(p)
            left = by_type.copy()
            if o.escrow:
                for b in self.escrow:  # oldest first: they were appended in delivery order
                    if b.pool is not p or not left.any():
                        continue
                    take = np.minimum(b.held, left)
                    b.held -= take
                    left -= take
                    refund = int(take @ o.prices)
                    if refund:
                        led.transfer(
                            "money",
                            self.escrow_account,
                            o.client_account,
                            refund,
                            "escrow refund",
                            o.tag,
                        )
                        o.refunded += refund
                    self.removal_cost["recruiters"] += int(take @ p.outflow)
            guarantee = self._guarantees[o.recruiter]
            if guarantee and o.status != "closed" and hour < o.refill_until:
                p.refill_owed += left
            else:
                self.removal_cost["clients"] += int(left.dot(o.prices))
            removed = float(by_type.sum())
            self.removed_by[o.recruiter] += removed
            for r in p.chain:  # the leaf and every recruiter above it
                self.window_removed[r] += removed
            key = (o.client, o.recruiter)
            self.seen_removed[key] = self.seen_removed.get(key, 0.0) + removed

    def _order_of(self, p: Pool) -> Order:
        return self._pool_order[p.pool_id]

    # -- student-driven brokers and clients (classroom sessions) --------------------------
    def set_student_rates(
        self, r: int, k: int, pay: int | None, price: int | None, hour: int
    ) -> None:
        """A student broker fixes its pay and/or price for action ``k`` from ``hour`` on."""
        self.overrides.set(r, k, pay, price)
        self.student_rates = True
        self.overrides.apply(self)
        self._log_rates(hour)

    def order_of_pool(self, pool_id: int) -> Order:
        """The order a pool belongs to (pools are numbered in the order they were made)."""
        return self._pool_order[pool_id]

    def place_student_order(
        self,
        campaign: int,
        recruiter: int,
        k: int,
        quantity: int,
        budget: int | None,
        deadline_hours: int,
        hour: int,
        name: str,
    ) -> list[Order]:
        """A student client's one-off order, placed like a placement of its campaign.

        The campaign's client, audience and price ceiling, with the student's recruiter,
        quantity of one action, budget and deadline; no repeats, competitors or re-orders.
        Returns the orders it became (none when refused or unaffordable).
        """
        c = self.scenario.campaigns[campaign].model_copy(
            update={
                "recruiter": self.scenario.recruiters[recruiter].id,
                "actions": {ACTION_TYPES[k]: quantity},
                "deadline_hours": deadline_hours,
                "repeat": None,
                "competitors": [],
                "reorder": False,
                "promotion_per_day": 0,
            }
        )
        target = zeros_k()
        target[k] = quantity
        pl = Placement(campaign, 0, target, budget, hour, index=len(self.placements))
        self.placements.append(pl)
        before = len(self.orders)
        self._place(pl, target, hour, self._pending, campaign=c)
        for o in self.orders[before:]:
            o.name = f"{c.id}#{name}"  # booked under the campaign; named by its event
        return self.orders[before:]
