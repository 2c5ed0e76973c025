"""What each role sees: typed records read from the shared model (never changing it).

Money is in the scenario's major units (dollars), times in seconds or hours as named.
Each ``*_view`` function reads the model after its last step; the session calls them
under its lock.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.core import rules
from sim.core.model import ClickFarmModel
from sim.core.students import item_id
from sim.scenario.load import to_minor
from sim.scenario.schema import ACTION_TYPES

QUEUE_SHOWN = 30
"""Most review-queue items a moderator's view lists (oldest first)."""


@dataclass(frozen=True)
class TaskOffer:
    """Open tasks of one action for one campaign that a worker can reach."""

    campaign: str
    action: str
    pay: float  # money per task
    points: int  # points per task (urgency included)
    seconds_per_task: float  # at this worker's speed
    search_seconds: float  # finding each task, at the pool's current scarcity
    available: int  # open now
    due_next_hour: int  # in the campaign's placement due at the start of the next hour


@dataclass(frozen=True)
class WorkerView:
    """A student micro-worker's screen: the task feed and its own pay."""

    hour: int
    worker: int
    group: str
    region: str
    account_live: bool
    tasks: list[TaskOffer]
    tasks_done: int
    earnings: float  # money received so far (held pay not yet released excluded)
    points: int
    hours_online: float  # working plus searching
    hours_unpaid: float  # searching and points-only work
    hourly_pay: float  # earnings per hour online, unpaid time counted
    reservation_wage: float  # what an hour is worth to this worker elsewhere
    asked_last_hour: int  # tasks its student asked for in the last simulated hour
    done_last_hour: int  # of those, what it found and had time for


@dataclass(frozen=True)
class Rate:
    """A broker's pay to workers and price per action."""

    action: str
    pay: float
    points: int  # points per action to workers (before urgency)
    price: float | None  # None: each campaign's own price (fixed rule, top level)
    fixed_by_student: bool


@dataclass(frozen=True)
class BrokerView:
    """A student broker's screen: its rates, how its orders fill, its margin."""

    hour: int
    recruiter: str
    name: str
    pricing: str
    rates: list[Rate]
    actions_delivered: int
    actions_expired: int
    actions_open: int
    orders_filled: int
    orders_expired: int
    orders_open: int
    margin: float  # money kept: its balance less the capital it started with
    workers: int


@dataclass(frozen=True)
class QueueItem:
    """A flagged item in the review queue, with what the moderator can see of it."""

    item: str
    flagged_hour: int
    actions: int
    campaign: str
    account_age_days: float
    account_trust: float
    accounts_of_worker: int
    outside_audience_region: bool
    automated: bool


@dataclass(frozen=True)
class ModeratorView:
    """A student moderator's screen: the queue, its capacity and wage, what got through."""

    hour: int
    moderator: int
    employed: bool
    capacity_per_hour: int  # actions it can review in an hour
    wage_per_hour: float
    queue: list[QueueItem]
    queue_actions: int  # flagged actions waiting in its share of the queue
    lapsed: int  # flagged actions in its share that nobody reviewed in time (got through)
    reviewed: int
    removed: int
    errors: int  # fake actions it marked genuine
    fakes_standing: int  # delivered fake actions still up, platform-wide
    platform_removed: int


@dataclass(frozen=True)
class OrderStatus:
    """One of the student client's orders."""

    name: str
    action: str
    recruiter: str
    quantity: int
    delivered: int
    removed: int
    surviving: int
    expired: int
    deadline_hour: int
    status: str
    cost: float  # what the client has paid for it so far


@dataclass(frozen=True)
class ClientView:
    """A student client's screen: budget, prices, orders and what survived."""

    hour: int
    campaign: str
    client: str
    budget: float
    committed: float  # money put into its orders and not had back
    budget_left: float
    prices: dict[str, float]  # per action it can order, its price ceiling (0: points only)
    recruiters: list[str]  # top-level recruiters it can order from
    orders: list[OrderStatus]
    refused: list[str]  # its orders no recruiter took (price over its ceiling, budget)
    surviving: int


def worker_view(model: ClickFarmModel, row: int) -> WorkerView:
    """The task feed and pay of worker ``row``."""
    w, s, market, wf = model.workers, model.spec, model.market, model.workforce
    offers: dict[tuple[int, int], dict] = {}
    speed = float(w.speed[row])
    search = float(w.search_minutes[row]) * 60

    def offer(ci: int, k: int, pay: int, points: int, fill: float) -> dict:
        return offers.setdefault(
            (ci, k),
            {
                "pay": model.money(pay),
                "points": points,
                "search": search * rules.search_multiplier(fill),
                "available": 0,
                "due": 0,
            },
        )

    for o, p in market.open_pools():
        if not wf.reach[w.group[row], p.market]:
            continue
        avail = p.available()
        for k in np.flatnonzero(avail):
            pts = int(p.points[k]) * int(o.urgency)
            offer(o.campaign, int(k), int(p.pay[k]), pts, p.fill)["available"] += int(avail[k])
    market_fill = float(wf.fill_rate[w.market[row]])
    for ci in due_campaigns(model, model.steps):
        c = s.campaigns[ci]
        for path in market.structure.paths(market.index[c.recruiter]):
            leaf = path[-1]
            if not wf.reach[w.group[row], model.leaf_of_recruiter[leaf]]:
                continue
            for a, n in c.actions.items():
                k = ACTION_TYPES.index(a)
                if not n:
                    continue
                pts = int(market.points_card[leaf, k]) * c.urgency
                pay = int(market.posted_pay[leaf, k])
                offer(ci, k, pay, pts, market_fill)["due"] += int(n)
            break
    tasks = [
        TaskOffer(
            campaign=s.campaigns[ci].id,
            action=ACTION_TYPES[k],
            pay=o["pay"],
            points=o["points"],
            seconds_per_task=float(wf.minutes[k]) * 60 / speed,
            search_seconds=o["search"],
            available=o["available"],
            due_next_hour=o["due"],
        )
        for (ci, k), o in sorted(offers.items())
    ]
    earned = model.money(model.ledger.balances["money"][model.worker_accounts[row]])
    online = float(w.hours_online[row])
    last = [
        r for r in reversed(wf.students.results[-500:]) if r.worker == row and r.hour == model.hour
    ]
    return WorkerView(
        hour=model.hour,
        worker=row,
        group=s.workers[int(w.group[row])].id,
        region=model.region_ids[int(w.region[row])],
        account_live=bool(w.active_account[row] >= 0),
        tasks=tasks,
        tasks_done=int(w.tasks_done[row]),
        earnings=earned,
        points=int(w.points[row]),
        hours_online=online,
        hours_unpaid=float(w.hours_unpaid[row]),
        hourly_pay=earned / online if online > 0 else 0.0,
        reservation_wage=model.money(round(float(w.reservation[row]))),
        asked_last_hour=sum(r.asked for r in last),
        done_last_hour=sum(r.done for r in last),
    )


def due_campaigns(model: ClickFarmModel, hour: int) -> list[int]:
    """Campaigns with a placement due at ``hour`` (their schedule, as the market keeps it)."""
    out = []
    if hour >= model.max_steps:
        return out
    for ci, c in enumerate(model.spec.campaigns):
        since = hour - c.start_hour
        if since < 0:
            continue
        if c.repeat is None:
            due = since == 0
        else:
            n = since // c.repeat.every_hours
            due = since % c.repeat.every_hours == 0 and (
                c.repeat.times is None or n < c.repeat.times
            )
        if due:
            out.append(ci)
    return out


def broker_view(model: ClickFarmModel, r: int) -> BrokerView:
    """Rates, fills and margin of bottom-level recruiter ``r``."""
    s, market = model.spec, model.market
    spec = s.recruiters[r]
    overrides = market.overrides
    rates = []
    for k, a in enumerate(ACTION_TYPES):
        pay = int(market.posted_pay[r, k])
        if spec.parent is not None:
            price: float | None = model.money(market.charges[r, k])
        elif overrides.price[r, k] >= 0 or spec.pricing.rule != "fixed":
            price = model.money(market.price_for(r, market.quote[r])[k])
        else:
            price = None
        points = int(market.points_card[r, k])
        fixed = bool(overrides.pay[r, k] >= 0 or overrides.price[r, k] >= 0)
        if pay or points or spec.pays.get(a) or fixed:
            rates.append(Rate(a, model.money(pay), points, price, fixed))
    delivered = expired = open_ = 0
    filled = lapsed = running = 0
    for o in market.orders:
        mine = [p for p in o.pools if p.chain[-1] == r]
        if not mine:
            continue
        delivered += int(sum(int((p.delivered - p.refilled).sum()) for p in mine))
        gone = int(sum(int(p.expired.sum()) for p in mine))
        expired += gone
        left = int(sum(int(p.remaining.sum()) for p in mine))
        open_ += left if o.status == "open" else 0
        if gone:
            lapsed += 1
        elif left and o.status == "open":
            running += 1
        else:
            filled += 1
    balance = int(model.ledger.balances["money"][model.recruiter_account[r]])
    capital = to_minor(spec.capital, model.scale)
    leaf = model.leaf_of_recruiter.get(r)
    return BrokerView(
        hour=model.hour,
        recruiter=spec.id,
        name=spec.name or spec.id,
        pricing=spec.pricing.rule,
        rates=rates,
        actions_delivered=delivered,
        actions_expired=expired,
        actions_open=open_,
        orders_filled=filled,
        orders_expired=lapsed,
        orders_open=running,
        margin=model.money(balance - capital),
        workers=int(model.workforce.members[leaf].size) if leaf is not None else 0,
    )


def queue_counts(model: ClickFarmModel, m: int) -> dict[str, int]:
    """Flagged actions per item id waiting for student moderator ``m`` (still reviewable)."""
    q = model.moderation.students.queues.get(m)
    if q is None:
        return {}
    window = model.spec.platform.moderation.review_window_hours
    out: dict[str, int] = {}
    for h, p, w, n in zip(q.hour, q.pool, q.worker, q.count, strict=True):
        if n > 0 and model.steps - h < window:
            key = item_id(h, p, w)
            out[key] = out.get(key, 0) + int(n)
    return out


def queue_items(model: ClickFarmModel, m: int, limit: int = QUEUE_SHOWN) -> list[QueueItem]:
    """The oldest flagged items in student moderator ``m``'s share, one per item id."""
    q = model.moderation.students.queues.get(m)
    if q is None:
        return []
    w, acc, market = model.workers, model.accounts, model.market
    window = model.spec.platform.moderation.review_window_hours
    next_hour = model.steps  # the hour a verdict given now is carried out in
    items: dict[str, QueueItem] = {}
    for j in range(q.worker.size):
        if q.count[j] <= 0 or next_hour - q.hour[j] >= window:
            continue
        key = item_id(q.hour[j], q.pool[j], q.worker[j])
        if key in items:
            old = items[key]
            items[key] = QueueItem(**{**old.__dict__, "actions": old.actions + int(q.count[j])})
            continue
        if len(items) >= limit:
            break
        order = market.order_of_pool(int(q.pool[j]))
        worker, account = int(q.worker[j]), int(q.account[j])
        items[key] = QueueItem(
            item=key,
            flagged_hour=int(q.hour[j]),
            actions=int(q.count[j]),
            campaign=model.spec.campaigns[order.campaign].id,
            account_age_days=float(acc.age_hours[account]) / 24,
            account_trust=float(acc.trust[account]),
            accounts_of_worker=int(w.accounts_alive[worker]),
            outside_audience_region=bool(w.region[worker] != order.audience_region),
            automated=bool(w.is_bot[worker]),
        )
    return list(items.values())


def moderator_view(model: ClickFarmModel, m: int) -> ModeratorView:
    """The queue, capacity, wage and record of moderator number ``m``."""
    mod = model.spec.platform.moderation
    mine = [r for r in model.moderation.students.results if r.moderator == m]
    return ModeratorView(
        hour=model.hour,
        moderator=m,
        employed=m < model.moderation.moderators,
        capacity_per_hour=rules.review_capacity(1, mod.reviews_per_hour),
        wage_per_hour=float(mod.wage_per_hour),
        queue=queue_items(model, m),
        queue_actions=sum(queue_counts(model, m).values()),
        lapsed=model.moderation.students.lapsed.get(m, 0),
        reviewed=sum(r.reviewed for r in mine),
        removed=sum(r.removed for r in mine),
        errors=sum(r.errors for r in mine),
        fakes_standing=int(model.metrics["total_surviving"]),
        platform_removed=int(model.metrics["total_removed"]),
    )


def client_budget(model: ClickFarmModel, ci: int) -> int:
    """A student client's budget (ledger units).

    Its campaign's budget, else what one placement costs at the campaign's prices.
    """
    c = model.spec.campaigns[ci]
    if c.budget is not None:
        return to_minor(c.budget, model.scale)
    return sum(
        n * to_minor(c.price_per_action.get(a, 0), model.scale) for a, n in c.actions.items()
    )


def committed(order) -> int:
    """Money a client has put into an order and not had back (ledger units)."""
    return order.spent if order.status == "closed" else order.funded - order.refunded


def client_view(model: ClickFarmModel, ci: int, order_names: list[str]) -> ClientView:
    """Budget, prices and the orders (named ``order_names``) of campaign ``ci``'s student."""
    s, market = model.spec, model.market
    c = s.campaigns[ci]
    mine = [o for o in market.orders if o.name in set(order_names)]
    orders = []
    for o in mine:
        k = int(np.flatnonzero(o.quantities)[0]) if o.quantities.any() else 0
        removed = int(sum(int(p.removed.sum()) for p in o.pools))
        delivered = int(o.delivered.sum())
        orders.append(
            OrderStatus(
                name=o.name,
                action=ACTION_TYPES[k],
                recruiter=s.recruiters[o.recruiter].id,
                quantity=int(o.quantities.sum()),
                delivered=delivered,
                removed=removed,
                surviving=delivered - removed,
                expired=int(sum(int(p.expired.sum()) for p in o.pools)),
                deadline_hour=int(o.end),
                status=o.status,
                cost=model.money(o.spent),
            )
        )
    budget = client_budget(model, ci)
    spent = sum(committed(o) for o in mine)
    return ClientView(
        hour=model.hour,
        campaign=c.id,
        client=c.client,
        budget=model.money(budget),
        committed=model.money(spent),
        budget_left=model.money(max(budget - spent, 0)),
        prices={
            a: float(c.price_per_action.get(a, 0))
            for a in ACTION_TYPES
            if c.price_per_action.get(a, 0) > 0 or c.actions.get(a, 0) > 0
        },
        recruiters=[r.id for r in s.recruiters if r.parent is None],
        orders=orders,
        refused=[n for n in order_names if n not in {o.name for o in mine}],
        surviving=sum(o.surviving for o in orders),
    )
