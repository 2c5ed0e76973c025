"""Student-driven agents: workers, brokers, moderators and clients whose choices are events.

In a classroom session (``sim/classroom``) a student drives one agent of the shared model.
Every choice is recorded as a dated event (``sim/scenario/schema.py: Event``), applied by
the timeline at the start of its hour; the components here hold what those events asked
for until the phase of the hour that carries it out:

- ``StudentWorkers``: rows handed to students choose no work of their own; each
  ``worker_tasks`` event is done in the work phase, before the simulated workers choose,
  paid through the ledger like any task, with its task and search minutes counted.
- ``StudentModerators``: a student's moderator reviews only the items its student judged;
  the other employed moderators review the rest of the queue as usual.
- ``RateOverrides``: a student broker's pay and price, which its pricing rule no longer
  changes.

Rules are small pure functions (``tasks_that_fit``, ``judge``), tested by hand
(docs/ODD.md, "Student-driven agents").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from sim.core import rules
from sim.core.records import Delivery, K, WorkHour, zeros_k

if TYPE_CHECKING:
    from sim.core.market import Market
    from sim.core.moderation import ReviewQueue
    from sim.core.workforce import Workforce
    from sim.scenario.schema import Verdict

HOUR_MINUTES = 60.0


def tasks_that_fit(
    minutes_left: float, task_minutes: float, speed: float, search_minutes: float
) -> int:
    """Whole tasks that fit in the minutes left of the hour.

    Each task takes ``task_minutes / speed`` to do plus ``search_minutes`` to find.
    """
    per_task = task_minutes / max(speed, 1e-9) + search_minutes
    if per_task <= 0:
        return 10**9
    return max(0, int(np.floor(minutes_left / per_task + 1e-9)))


def judge(
    count: int, verdict: str, capacity_left: int, genuine: bool = False
) -> tuple[int, int, int]:
    """One verdict on a flagged item of ``count`` actions, within the capacity left.

    ``fake`` removes what is reviewed and ``genuine`` keeps it; a verdict is an error when
    it disagrees with what the item is. Without genuine users every flagged item is fake
    engagement (the queue holds only what workers and bots delivered); with them
    (``platform.genuine_users``) an item may be genuine, and removing it is the error.

    Returns:
        ``(reviewed, removed, errors)`` in actions.
    """
    reviewed = max(0, min(int(count), int(capacity_left)))
    removed = reviewed if verdict == "fake" else 0
    wrong = (verdict == "genuine") != bool(genuine)
    return reviewed, removed, reviewed if wrong else 0


GENUINE_ROW_BASE = 90_000_000
"""Item ids number a genuine user's account ``a`` as row ``GENUINE_ROW_BASE + a``, beyond
every worker row, so its items look like any other to a student moderator."""


def item_id(hour: int, pool: int, worker: int, account: int = 0) -> str:
    """The stable identity of a flagged item: when it was flagged, in which pool, by whom.

    ``worker`` is -1 for genuine users' actions (``platform.genuine_users``): their
    account then names the item.
    """
    row = int(worker) if worker >= 0 else GENUINE_ROW_BASE + int(account)
    return f"h{int(hour)}-p{int(pool)}-w{row}"


# -- workers ---------------------------------------------------------------------------
@dataclass
class TaskOrder:
    """A ``worker_tasks`` event waiting for the work phase."""

    event: str
    worker: int
    campaign: int
    action: int
    tasks: int


@dataclass
class TaskResult:
    """What one ``worker_tasks`` event did."""

    event: str
    hour: int
    worker: int
    asked: int
    done: int
    paid: int  # ledger money units earned (held pay included)
    points: int
    minutes: float  # task plus search minutes


@dataclass
class StudentTime:
    """Minutes the student-driven workers spent this hour, per row."""

    who: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    work: np.ndarray = field(default_factory=lambda: np.zeros(0))
    search: np.ndarray = field(default_factory=lambda: np.zeros(0))
    paid: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def add_to(
        self,
        on: np.ndarray,
        work_m: np.ndarray,
        search_m: np.ndarray,
        paid_m: np.ndarray,
        active: np.ndarray,
    ) -> np.ndarray:
        """Book the students' minutes into the hour's time accounts; returns who was online."""
        if not self.who.size:
            return on
        np.add.at(work_m, self.who, self.work)
        np.add.at(search_m, self.who, self.search)
        np.add.at(paid_m, self.who, self.paid)
        active[self.who] = True
        return np.union1d(on, self.who)


NO_STUDENT_TIME = StudentTime()
"""The time of an hour without student tasks (shared: nothing ever adds to it)."""


class StudentWorkers:
    """Worker rows handed to students, and the tasks they asked for this hour."""

    def __init__(self, size: int) -> None:
        self.driven = np.zeros(size, dtype=bool)
        self.pending: list[TaskOrder] = []
        self.results: list[TaskResult] = []

    def work(self, hour: int, market: Market, wf: Workforce, record: WorkHour) -> StudentTime:
        """Do this hour's student tasks, in the order they were asked; returns the time spent."""
        if not self.pending:
            return NO_STUDENT_TIME
        w = wf.workers
        rows, work, search, paid = [], [], [], []
        minutes_used: dict[int, float] = {}  # one hour for all of a worker's orders
        for t in self.pending:
            used = minutes_used.get(t.worker, 0.0)
            result = TaskResult(t.event, hour, t.worker, t.tasks, 0, 0, 0, 0.0)
            if w.active_account[t.worker] >= 0:
                for o, p in market.open_pools():
                    if result.done >= t.tasks:
                        break
                    if o.campaign != t.campaign or not wf.reach[w.group[t.worker], p.market]:
                        continue
                    used += self._do(t, o, p, hour, market, wf, record, result, used)
            minutes_used[t.worker] = used
            self.results.append(result)
            if result.done:
                task_m = result.done * wf.minutes[t.action] / w.speed[t.worker]
                rows.append(t.worker)
                work.append(task_m)
                search.append(result.minutes - task_m)
                paid.append(task_m if result.paid else 0.0)
        self.pending = []
        return StudentTime(
            np.array(rows, dtype=np.int64), np.array(work), np.array(search), np.array(paid)
        )

    def _do(self, t, o, p, hour, market, wf, record, result, used) -> float:
        """Tasks from one pool; returns the minutes they took."""
        w, k = wf.workers, t.action
        q = float(w.search_minutes[t.worker]) * rules.search_multiplier(p.fill)
        fits = tasks_that_fit(HOUR_MINUTES - used, wf.minutes[k], w.speed[t.worker], q)
        avail = int(p.available()[k])
        avail = min(avail, wf._avail_total(o, p, hour, market))
        n = min(t.tasks - result.done, avail, fits, market.financeable(o, p, avail))
        if n <= 0:
            return 0.0
        originals = min(n, int(p.remaining[k]))
        by_type, refills = zeros_k(), zeros_k()
        by_type[k], refills[k] = n, n - originals
        p.remaining[k] -= originals
        p.refill_owed[k] -= n - originals
        p.delivered += by_type
        p.refilled += refills
        counts = by_type[None, :].copy()
        who = np.array([t.worker], dtype=np.int64)
        d = Delivery(o, p, who, np.array([n], dtype=np.int64), counts, by_type, refills)
        market.settle(d, hour, wf)
        wf._record_delivery(d, o, p, hour, record)
        result.done += n
        result.paid += n * int(p.pay[k])
        result.points += int(rules.points_for_counts(counts, p.points, o.urgency).sum())
        minutes = n * (wf.minutes[k] / w.speed[t.worker] + q)
        result.minutes += minutes
        return minutes


# -- moderators ------------------------------------------------------------------------
@dataclass
class ReviewOrder:
    """A ``moderator_verdicts`` event waiting for the moderation phase."""

    event: str
    moderator: int
    verdicts: list[Verdict]


@dataclass
class ReviewResult:
    """What one ``moderator_verdicts`` event did, in actions."""

    event: str
    hour: int
    moderator: int
    reviewed: int
    removed: int
    errors: int  # fake actions the student let through as genuine
    missing: int  # items no longer in its queue (already judged or too old)


@dataclass
class StudentReviews:
    """This hour's student reviews, as the arrays the moderation phase removes from."""

    worker: np.ndarray
    account: np.ndarray
    pool: np.ndarray
    reviewed: np.ndarray
    removed: np.ndarray
    features: np.ndarray | None = None  # the entries' signals, from a labelled queue
    genuine: np.ndarray | None = None  # whether each entry is genuine users' actions

    @classmethod
    def empty(cls) -> StudentReviews:
        """No student reviews this hour."""
        return cls(*(np.zeros(0, dtype=np.int64) for _ in range(5)))

    def merge(self, *arrays: np.ndarray) -> tuple[np.ndarray, ...]:
        """The simulated moderators' (worker, account, pool, reviewed, removed), then these."""
        if not self.worker.size:
            return arrays
        mine = (self.worker, self.account, self.pool, self.reviewed, self.removed)
        return tuple(
            np.concatenate([a, b]).astype(np.int64) for a, b in zip(arrays, mine, strict=True)
        )


class StudentModerators:
    """Moderators handed to students: their share of the queue and this hour's verdicts.

    Each hour the newly flagged entries are dealt round the employed moderators; what is
    dealt to a student's moderator waits in its own queue, which only its student reviews
    (what it leaves unreviewed for ``review_window_hours`` gets through).
    """

    def __init__(self) -> None:
        self.driven: set[int] = set()
        self.pending: list[ReviewOrder] = []
        self.results: list[ReviewResult] = []
        self.queues: dict[int, ReviewQueue] = {}  # per student moderator, its share
        self.lapsed: dict[int, int] = {}  # actions left unreviewed past the window
        self.dealt = 0  # entries dealt so far (the round goes on from hour to hour)

    def employed(self, moderators: int) -> int:
        """How many of the ``moderators`` employed now are student-driven."""
        return sum(1 for m in self.driven if m < moderators)

    def waiting(self) -> int:
        """Flagged actions waiting in the students' queues."""
        return sum(q.size for q in self.queues.values())

    def deal(self, queue: ReviewQueue, moderators: int, hour: int) -> None:
        """Move the student moderators' share of this hour's flagged entries to their queues."""
        if not self.employed(moderators):
            return
        new = np.flatnonzero(queue.hour == hour)
        turn = (self.dealt + np.arange(new.size)) % moderators
        self.dealt += int(new.size)
        moved = np.zeros(queue.hour.size, dtype=bool)
        for m in sorted(self.driven):
            pick = new[turn == m]
            if m >= moderators or not pick.size:
                continue
            mine = self.queues.setdefault(m, type(queue)())
            for name in queue.FIELDS:
                values = np.concatenate([getattr(mine, name), getattr(queue, name)[pick]])
                setattr(mine, name, values.astype(getattr(queue, name).dtype))
            moved[pick] = True
        if moved.any():
            for name in queue.FIELDS:
                setattr(queue, name, getattr(queue, name)[~moved])

    def review(
        self, hour: int, window: int, moderators: int, reviews_per_hour: float
    ) -> StudentReviews:
        """Carry out this hour's verdicts on the students' queues; expire what is too old.

        Returns:
            The reviews as ``StudentReviews`` arrays, for the moderation phase to remove.
        """
        out: dict[str, list[int]] = {k: [] for k in ("worker", "account", "pool", "rev", "rem")}
        labels: list[tuple[np.ndarray, bool]] = []  # (signals, genuine) from a labelled queue
        for order in self.pending:
            queue = self.queues.get(order.moderator)
            result = ReviewResult(order.event, hour, order.moderator, 0, 0, 0, 0)
            self.results.append(result)
            if queue is None:
                result.missing += len(order.verdicts)
                continue
            where: dict[str, list[int]] = {}
            live = (hour - queue.hour) < window
            entries = zip(queue.hour, queue.pool, queue.worker, queue.account, strict=True)
            for j, (h, p, w, a) in enumerate(entries):
                if live[j]:
                    where.setdefault(item_id(h, p, w, a), []).append(j)
            left = rules.review_capacity(1, reviews_per_hour) if order.moderator < moderators else 0
            for v in order.verdicts:
                rows = [j for j in where.get(v.item, []) if queue.count[j] > 0]
                if not rows:
                    result.missing += 1
                for j in rows:
                    real = bool(queue.genuine[j]) if hasattr(queue, "genuine") else False
                    reviewed, removed, errors = judge(int(queue.count[j]), v.verdict, left, real)
                    if not reviewed:
                        continue
                    left -= reviewed
                    queue.count[j] -= reviewed
                    result.reviewed += reviewed
                    result.removed += removed
                    result.errors += errors
                    out["worker"].append(int(queue.worker[j]))
                    out["account"].append(int(queue.account[j]))
                    out["pool"].append(int(queue.pool[j]))
                    out["rev"].append(reviewed)
                    out["rem"].append(removed)
                    if hasattr(queue, "features"):
                        labels.append((queue.features[j], real))
        self.pending = []
        for m, queue in self.queues.items():
            old = (hour - queue.hour) >= window
            self.lapsed[m] = self.lapsed.get(m, 0) + int(queue.count[old].sum())
            queue.take(0, hour, window)  # drops what is too old or fully reviewed

        def arr(key: str) -> np.ndarray:
            return np.array(out[key], dtype=np.int64)

        reviews = StudentReviews(arr("worker"), arr("account"), arr("pool"), arr("rev"), arr("rem"))
        if labels:
            reviews.features = np.vstack([f for f, _ in labels])
            reviews.genuine = np.array([g for _, g in labels], dtype=bool)
        return reviews


# -- brokers ---------------------------------------------------------------------------
class RateOverrides:
    """A student broker's pay and price per action (-1: its pricing rule decides)."""

    def __init__(self, recruiters: int) -> None:
        self.pay = np.full((recruiters, K), -1, dtype=np.int64)
        self.price = np.full((recruiters, K), -1, dtype=np.int64)

    def set(self, r: int, k: int, pay: int | None, price: int | None) -> None:
        """Fix recruiter ``r``'s pay and/or price for action ``k`` from now on."""
        if pay is not None:
            self.pay[r, k] = pay
        if price is not None:
            self.price[r, k] = price

    def apply(self, market: Market) -> None:
        """Put the fixed rates back after a repricing: the pricing rule no longer sets them."""
        pay = self.pay >= 0
        if pay.any():
            market.posted_pay[pay] = self.pay[pay]
        priced = self.price >= 0
        if not priced.any():
            return
        for r, k in zip(*np.nonzero(priced), strict=True):
            if market.scenario.recruiters[r].parent is None:
                market.quote[r, k] = self.price[r, k]  # what it asks clients
            else:
                market.charges[r, k] = self.price[r, k]  # what it charges its parent

    def price_for(self, r: int, base: np.ndarray) -> np.ndarray:
        """The price recruiter ``r`` asks clients: ``base`` where no student has fixed it."""
        fixed = self.price[r] >= 0
        if not fixed.any():
            return base
        return np.where(fixed, self.price[r], base)
