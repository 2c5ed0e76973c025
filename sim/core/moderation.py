"""Detection and moderation of fake engagement.

The platform flags suspicious actions into a review queue; moderators work through it
oldest first, remove what they recognise and ban accounts after repeated strikes.
"""

from __future__ import annotations

from itertools import accumulate, pairwise
from typing import TYPE_CHECKING

import numpy as np

from sim.core import rules
from sim.core.market import Market
from sim.core.population import Accounts, Workers
from sim.core.records import Delivery, ModerationHour
from sim.core.students import StudentModerators, StudentReviews
from sim.scenario.schema import Scenario, moderator_capacity

if TYPE_CHECKING:
    from sim.core.organic import Audience
    from sim.core.records import GenuineActions
    from sim.core.retraining import LabelledQueue, Trainer


class ReviewQueue:
    """Flagged actions waiting for a moderator, oldest first (arrays of entries)."""

    FIELDS = ("worker", "account", "pool", "count", "hour")
    # rows of workers, accounts and pools fit 32 bits (the schema bounds them far below);
    # counts and hours stay 64-bit. At a million workers the queue holds millions of entries.
    DTYPES = {"worker": np.int32, "account": np.int32, "pool": np.int32}

    def __init__(self) -> None:
        for name in self.FIELDS:
            setattr(self, name, np.zeros(0, dtype=self.DTYPES.get(name, np.int64)))

    @property
    def size(self) -> int:
        """Flagged actions waiting."""
        return int(self.count.sum())

    def push(self, hour: int, entries: list[tuple[np.ndarray, ...]]) -> None:
        """Add (worker, account, pool, count) entries flagged this hour."""
        if not entries:
            return
        parts = list(zip(*entries, strict=True))
        n = sum(len(e[0]) for e in entries)
        for name, chunks in zip(self.FIELDS[:4], parts, strict=True):
            dtype = self.DTYPES.get(name, np.int64)
            setattr(self, name, np.concatenate([getattr(self, name), *chunks], dtype=dtype))
        self.hour = np.concatenate([self.hour, np.full(n, hour, dtype=np.int64)])

    def take(self, capacity: int, now: int, window: int) -> tuple[np.ndarray, ...]:
        """Review up to ``capacity`` actions, oldest first.

        Entries older than ``window`` hours leave the queue unreviewed (the platform stops
        looking at old content).
        """
        self.expire(now, window)
        count = self.count
        before = np.cumsum(count) - count
        # the entries reviewed are the first ones, those that start within the capacity
        reach = int(np.searchsorted(before, capacity, side="left"))
        reviewed = np.minimum(count[:reach], capacity - before[:reach])
        taken = reviewed > 0
        out = tuple(a[:reach][taken] for a in (self.worker, self.account, self.pool))
        count = count.copy()
        count[:reach] -= reviewed
        # all but the last of the reached entries are now fully reviewed
        done = reach - 1 if reach and count[reach - 1] else reach
        self.count = count
        if np.count_nonzero(count[done:]) == count.size - done:
            self._drop_first(done)
        else:  # entries left with nothing to review further back (students' queues)
            self._keep(count > 0)
        return (*out, reviewed[taken])

    def expire(self, now: int, window: int) -> None:
        """Drop the entries older than ``window`` hours, unreviewed.

        Entries are kept in the order they were pushed, so their hours never decrease and
        the old ones are the first ones.
        """
        self._drop_first(int(np.searchsorted(self.hour, now - window, side="right")))

    def _drop_first(self, n: int) -> None:
        if n:
            for name in self.FIELDS:
                setattr(self, name, getattr(self, name)[n:])

    def _keep(self, mask: np.ndarray) -> None:
        for name in self.FIELDS:
            setattr(self, name, getattr(self, name)[mask])


class Moderation:
    """The detector, the review queue, moderators' reviews, strikes and bans."""

    def __init__(self, scenario: Scenario, workers: Workers, accounts: Accounts) -> None:
        self.scenario, self.workers, self.accounts = scenario, workers, accounts
        self.queue = ReviewQueue()
        mod, det = scenario.platform.moderation, scenario.platform.detection
        self.capacity_limit = moderator_capacity(scenario)
        self.moderator_reviews = np.zeros(self.capacity_limit, dtype=np.int64)
        self.moderators = mod.moderators  # employed now (policies and events change it)
        self.bias = det.bias
        self.weights = det.weights.model_dump()
        self.purged = 0  # accounts banned by purges
        self.flagged_since_policy = 0
        self.delivered_since_policy = 0
        self.revenue_since_policy = 0.0  # engagement revenue those deliveries could bring
        self._delivered_this_hour = 0
        self.audience: Audience | None = None  # genuine users (attach_learning)
        self.trainer: Trainer | None = None  # detector retraining (attach_learning)
        self.labelled = False  # whether the queue knows each entry's signals and kind
        self.history: list[tuple[int, float, dict[str, float]]] = []  # (hour, bias, weights)
        self.students = StudentModerators()  # moderators driven by classroom students
        self._no_student_reviews = StudentReviews.empty()
        self._communities = bool((workers.community >= 0).any())  # fixed for the run
        self._has_bots = bool(workers.is_bot.any())  # fixed for the run

    def set_capacity(self, moderators: int) -> None:
        """Employ this many moderators (within the scenario's limit)."""
        self.moderators = int(min(max(moderators, 0), self.capacity_limit))

    def retune(self, bias: float | None, weights: dict[str, float]) -> None:
        """A detector upgrade: a new bias and/or new weights for some signals."""
        if bias is not None:
            self.bias = bias
        self.weights.update(weights)

    def update_capacity(self, hour: int, revenue_per_action: float, wage: int) -> None:
        """The capacity policy, applied every ``policy_every_hours`` (docs/ODD.md).

        ``revenue_per_action`` is this hour's; the policy weighs the period's average.
        """
        mod = self.scenario.platform.moderation
        self.revenue_since_policy += revenue_per_action * self._delivered_this_hour
        if mod.policy == "fixed" or (hour + 1) % mod.policy_every_hours:
            return
        delivered = self.delivered_since_policy
        revenue_per_action = self.revenue_since_policy / delivered if delivered else 0.0
        per_moderator = mod.reviews_per_hour * mod.policy_every_hours
        needed = rules.moderators_for(self.flagged_since_policy, mod.review_share, per_moderator)
        if mod.policy == "revenue":
            scale = self.scenario.currency.minor_units
            cost = float(mod.reputation_cost_per_fake) * scale
            needed = rules.revenue_policy(
                needed, mod.accuracy, cost, revenue_per_action, wage, mod.reviews_per_hour
            )
        self.set_capacity(needed)
        self.flagged_since_policy = 0
        self.delivered_since_policy = 0
        self.revenue_since_policy = 0.0

    def step(
        self,
        hour: int,
        deliveries: list[Delivery],
        market: Market,
        rng: np.random.Generator,
        genuine: GenuineActions | None = None,
    ) -> ModerationHour:
        """Flag this hour's deliveries, review the queue, remove and ban."""
        w, acc = self.workers, self.accounts
        det, mod = self.scenario.platform.detection, self.scenario.platform.moderation
        batch = _Batch(deliveries)
        signals_by_order = _order_signals(batch, w, self._communities)
        record = ModerationHour()
        entries = []
        if deliveries:
            entries.append(self._flag_deliveries(batch, signals_by_order, rng, record))
        if genuine is not None:
            entries += self._flag_genuine(genuine, signals_by_order, rng, record)
        self.queue.push(hour, entries)
        self.students.deal(self.queue, self.moderators, hour)  # their share, set aside
        self.flagged_since_policy += record.flagged
        self._delivered_this_hour = batch.total
        self.delivered_since_policy += self._delivered_this_hour
        students = self._no_student_reviews  # what ``review`` returns with nothing to review
        if self.students.pending or self.students.queues:
            students = self.students.review(
                hour, mod.review_window_hours, self.moderators, mod.reviews_per_hour
            )
        simulated = self.moderators - self.students.employed(self.moderators)
        capacity = rules.review_capacity(simulated, mod.reviews_per_hour)
        q_worker, q_account, q_pool, reviewed = self.queue.take(
            capacity, hour, mod.review_window_hours
        )
        removed = rng.binomial(reviewed, self._removal_chance(mod.accuracy))
        q_worker, q_account, q_pool, reviewed, removed = students.merge(
            q_worker, q_account, q_pool, reviewed, removed
        )
        if self.labelled and students.worker.size:
            self._label_student_reviews(students)
        record.reviewed = int(reviewed.sum())
        if self.moderators:
            n = self.moderators
            # each gets an equal share, the first ones one more of the remainder (integers)
            each, extra = divmod(record.reviewed, n)
            if each:
                self.moderator_reviews[:n] += each
            if extra:
                self.moderator_reviews[:extra] += 1
        if self.labelled:
            q_worker, q_account, q_pool, reviewed, removed = self._sort_verdicts(
                hour, (q_worker, q_account, q_pool, reviewed, removed), record, rng
            )
        hit = removed > 0
        hit_removed = removed[hit]
        self._remove_from_pools(q_pool[hit], hit_removed, market, record, rng)
        record.removed = sum(record.removed_by_type.tolist())
        np.add.at(w.actions_removed, q_worker[hit], hit_removed)
        # each removed action is a strike against its account; trust halves per review round
        struck, strikes = _totals_by_key(q_account[hit], hit_removed)
        open_ = ~acc.banned[struck]
        live = struck[open_]
        acc.strikes[live] += strikes[open_]
        acc.trust[live] *= 0.5
        newly = live[acc.strikes[live] >= det.strikes_to_ban]
        if newly.size:  # most hours ban no one
            acc.banned[newly] = True
            np.subtract.at(w.accounts_alive, acc.owner[newly], 1)
        record.banned = int(newly.size)
        record.banned_accounts = newly
        record.queue = self.queue.size + self.students.waiting()
        return record

    def _flag_deliveries(
        self,
        batch: _Batch,
        signals_by_order: dict[int, tuple[float, float]],
        rng: np.random.Generator,
        record: ModerationHour,
    ) -> tuple[np.ndarray, ...]:
        """Score every delivered action with the detector; the flagged ones' queue entries.

        All of the hour's deliveries are scored at once, one row per worker who delivered
        something, delivery after delivery: the same operations per row, and the same draws
        in the same order, as scoring them delivery by delivery.
        """
        w, acc, det = self.workers, self.accounts, self.scenario.platform.detection
        weights, who, n = self.weights, batch.who, batch.sizes
        # the detector's log-odds start from the signals shared by an order's actions
        shared = [signals_by_order[id(d.order)] for d in batch.deliveries]
        start = []
        for burst, central in shared:
            score = self.bias
            score = score + weights["burstiness"] * burst
            start.append(score + weights["centralisation"] * central)
        # gathers with take: the same values as fancy indexing, with less overhead
        account = w.active_account.take(who)
        signals = {
            "account_age": rules.young_account_signal(
                acc.age_hours.take(account) / 24, det.young_account_days
            ),
            "low_trust": 1.0 - acc.trust.take(account),
            "multiple_accounts": rules.multiple_accounts_signal(w.accounts_alive.take(who)),
            "geography": (w.region.take(who) != _per_row(batch.regions, n)).astype(np.float64),
        }
        # without bots the automation signal is 0 everywhere: adding weight x 0 to the
        # log-odds could only turn a 0.0 into -0.0 or back, which the sigmoid maps to 0.5
        # all the same; the labelled queue keeps the signal itself
        if self._has_bots or self.labelled:
            signals["automation"] = w.is_bot[who].astype(np.float64)
        # then add the per-action signals in the detector's order (rules.flag_probability)
        score = np.repeat(np.array(start, dtype=np.float64), n)
        for name, signal in signals.items():
            score += weights[name] * signal
        flagged = rng.binomial(batch.done, rules.sigmoid(score))
        keep = flagged > 0
        if self.labelled:
            burst, central = (
                np.repeat(np.array(v, dtype=np.float64), n) for v in zip(*shared, strict=True)
            )
            signals = {"burstiness": burst, "centralisation": central, **signals}
            self.queue.stage(signals, keep, genuine=False)
        record.flagged += int(flagged.sum())
        pools = np.repeat(np.array([d.pool.pool_id for d in batch.deliveries]), n)
        return who[keep], account[keep], pools[keep], flagged[keep]

    def _remove_from_pools(
        self,
        pools: np.ndarray,
        removed: np.ndarray,
        market: Market,
        record: ModerationHour,
        rng: np.random.Generator,
    ) -> None:
        """Take the removed actions, pool by pool in pool order, from what stands of each."""
        if not pools.size:
            return
        per_pool = np.bincount(pools, weights=removed)  # integers: exact as floats
        for pool_id in per_pool.nonzero()[0].tolist():
            pool = market.pools[pool_id]
            standing = pool.delivered - pool.removed
            n = min(int(per_pool[pool_id]), sum(standing.tolist()))
            by_type = rng.multivariate_hypergeometric(standing, n, method="marginals")
            pool.removed += by_type
            record.removed_by_type += by_type
            record.removed_by_pool[pool_id] = by_type

    # -- genuine users and retraining (sim/core/organic.py, sim/core/retraining.py) ---------
    def attach_learning(
        self, queue: LabelledQueue, audience: Audience | None, trainer: Trainer | None
    ) -> None:
        """Use a labelled review queue, genuine users and/or detector retraining."""
        self.queue, self.audience, self.trainer, self.labelled = queue, audience, trainer, True

    def _label_student_reviews(self, students: StudentReviews) -> None:
        """Append the labels of students' reviews to those of this hour's simulated ones."""
        n = students.worker.size
        features = students.features
        genuine = students.genuine
        if features is None or genuine is None:  # reviews from an unlabelled queue: fakes
            features, genuine = np.zeros((n, self.queue.features.shape[1])), np.zeros(n, bool)
        q = self.queue
        q.taken_features = np.concatenate([q.taken_features, features])
        q.taken_genuine = np.concatenate([q.taken_genuine, genuine])

    def _removal_chance(self, accuracy: float) -> float | np.ndarray:
        """Chance that each reviewed entry is removed.

        ``accuracy`` for fakes, the false-positive rate for genuine actions (a plain
        ``accuracy`` when the queue holds only fakes).
        """
        if not self.labelled:
            return accuracy
        fpr = self.scenario.platform.moderation.false_positive_rate
        return np.where(self.queue.taken_genuine, fpr, accuracy)

    def _flag_genuine(
        self,
        genuine: GenuineActions,
        signals_by_order: dict[int, tuple[float, float]],
        rng: np.random.Generator,
        record: ModerationHour,
    ) -> list[tuple[np.ndarray, ...]]:
        """Score the genuine users' actions with the detector; queue the flagged ones.

        A genuine account has one account per person, lives in the audience's region and is
        not automated; it shares its target's burstiness and centralisation this hour.
        """
        det, aud = self.scenario.platform.detection, self.audience
        entries = []
        for o, who, counts in zip(genuine.orders, genuine.accounts, genuine.counts, strict=True):
            burst, central = signals_by_order.get(
                id(o), (rules.burstiness(0, o.organic_per_hour), 0.0)
            )
            signals = {
                "burstiness": burst,
                "centralisation": central,
                "account_age": rules.young_account_signal(
                    aud.age_hours[who] / 24, det.young_account_days
                ),
                "low_trust": 1.0 - aud.trust[who],
                "multiple_accounts": 0.0,
                "geography": 0.0,
                "automation": 0.0,
            }
            flagged = rng.binomial(counts, rules.flag_probability(self.bias, self.weights, signals))
            keep = flagged > 0
            record.genuine_flagged += int(flagged.sum())
            self.queue.stage(signals, keep, genuine=True)
            n = int(keep.sum())
            # no worker (-1); the pool is the order's first, so a reviewer sees the campaign
            pool = o.pools[0].pool_id if o.pools else -1
            entries.append((np.full(n, -1), who[keep], np.full(n, pool), flagged[keep]))
        return entries

    def _sort_verdicts(
        self,
        hour: int,
        taken: tuple[np.ndarray, ...],
        record: ModerationHour,
        rng: np.random.Generator,
    ) -> tuple[np.ndarray, ...]:
        """Keep the verdicts for training, apply the genuine ones; return the fake entries."""
        q_worker, q_account, q_pool, reviewed, removed = taken
        if self.trainer is not None:
            self.trainer.note(hour, self.queue.taken_features, reviewed, removed)
        is_genuine = self.queue.taken_genuine
        if is_genuine.any():
            record.genuine_reviewed = int(reviewed[is_genuine].sum())
            record.reviewed -= record.genuine_reviewed  # ``reviewed`` counts fakes, as ``flagged``
            record.genuine_removed = int(removed[is_genuine].sum())
            strikes = self.scenario.platform.detection.strikes_to_ban
            record.genuine_removed_by_type, record.genuine_banned = self.audience.review(
                q_account[is_genuine], removed[is_genuine], strikes, rng
            )
        fake = ~is_genuine
        return q_worker[fake], q_account[fake], q_pool[fake], reviewed[fake], removed[fake]

    def retrain(self, hour: int) -> None:
        """End of the hour: re-fit the detector when due, and record its weights."""
        if self.trainer is not None and self.trainer.due(hour):
            self.weights = self.trainer.refit(hour, self.bias, self.weights)
        self.history.append((hour, self.bias, dict(self.weights)))


class _Batch:
    """This hour's deliveries as one set of rows, delivery after delivery.

    Only the rows of workers who delivered something are kept: nothing can be flagged of
    the others, and a binomial draw for zero actions takes nothing from the generator.
    """

    def __init__(self, deliveries: list[Delivery]) -> None:
        self.deliveries = deliveries
        self.regions = [d.order.audience_region for d in deliveries]
        if not deliveries:
            self.who = self.done = np.zeros(0, dtype=np.int64)
            self.bounds, self.sizes, self.done_per_delivery, self.total = [0], self.who, [], 0
            return
        if len(deliveries) == 1:  # read only here: no copy needed
            done, who = deliveries[0].done, deliveries[0].who
        else:
            done = np.concatenate([d.done for d in deliveries])
            who = np.concatenate([d.who for d in deliveries])
        sizes = list(accumulate(d.done.size for d in deliveries))
        if done.all():  # the workforce's deliveries keep only workers who did something
            self.who, self.done = who, done
            self.bounds = [0, *sizes]  # each row is kept: the bounds are the deliveries' own
        else:
            rows = (done != 0).nonzero()[0]  # a boolean's nonzero is quicker than an int's
            self.who, self.done = who[rows], done[rows]
            self.bounds = [0, *np.searchsorted(rows, sizes).tolist()]
        self.sizes = np.array([b - a for a, b in pairwise(self.bounds)])
        # actions per delivery: integer sums, exact in any order (the rows left out
        # delivered nothing)
        self.done_per_delivery = [_int_total(d.done) for d in deliveries]
        self.total = sum(self.done_per_delivery)


def _int_total(values: np.ndarray) -> int:
    """The exact sum of integers: a Python sum of a short array is quicker than numpy's."""
    return sum(values.tolist()) if values.size <= 32 else int(values.sum())


def _per_row(values: list, sizes: np.ndarray) -> np.ndarray | int | float:
    """Each delivery's value repeated over its rows; just the value when all share one."""
    if values and all(v == values[0] for v in values):
        return values[0]
    return np.repeat(np.array(values), sizes)


def _order_signals(batch: _Batch, w: Workers, communities: bool) -> dict[int, tuple[float, float]]:
    """Per order this hour: burstiness and how centralised its sources were.

    ``communities``: whether any worker belongs to an influencer's community (when none
    does, every action comes from its pool's recruiter).
    """
    delivered: dict[int, int] = {}
    sources: dict[int, dict[tuple[str, int], float]] = {}
    comm = w.community[batch.who] if communities else None
    for i, d in enumerate(batch.deliveries):
        key = id(d.order)
        done = batch.done_per_delivery[i]
        delivered[key] = delivered.get(key, 0) + done
        src = sources.setdefault(key, {})
        outside = float(done)
        if comm is not None:
            lo, hi = batch.bounds[i], batch.bounds[i + 1]
            inside = comm[lo:hi] >= 0
            if inside.any():
                per = np.bincount(comm[lo:hi][inside], weights=batch.done[lo:hi][inside])
                for j in np.flatnonzero(per):
                    src[("influencer", int(j))] = src.get(("influencer", int(j)), 0.0) + per[j]
                outside = float(batch.done[lo:hi][~inside].sum())
        if outside:
            leaf = ("recruiter", d.pool.chain[-1])
            src[leaf] = src.get(leaf, 0.0) + outside
    out = {}
    for d in batch.deliveries:
        key = id(d.order)
        if key not in out:
            out[key] = (
                rules.burstiness(delivered[key], d.order.organic_per_hour),
                _centralisation(list(sources[key].values())),
            )
    return out


def _centralisation(by_source: list[float]) -> float:
    """``rules.centralisation`` of positive amounts; one source is 1 without numpy's help."""
    if len(by_source) == 1:
        return 1.0  # (x / x) ** 2 for the one positive x
    return rules.centralisation(np.array(by_source))


def _totals_by_key(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct ``keys`` in ascending order, and the sum of the integer ``values`` of each.

    The same as ``np.unique`` with a ``bincount`` of its inverse, in fewer numpy calls.
    """
    if not keys.size:
        return keys, np.zeros(0, dtype=np.int64)
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    first = np.empty(keys.size, dtype=bool)
    first[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    starts = first.nonzero()[0]
    return ordered[starts], np.add.reduceat(values[order], starts).astype(np.int64, copy=False)
