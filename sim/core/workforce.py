"""The workforce: who is online, which tasks each worker chooses, and how time is spent.

Each hour an online worker values every pool of tasks it can reach (its own leaf market,
plus any it multi-homes on) by what an hour on it is worth to them, net of unpaid search
time, and takes the best if it beats their reservation wage. Pools then share out their
tasks; a worker whose pool ran dry looks for the next best within the same hour, paying
one more search. Everything is vectorised over the per-worker arrays of
``sim/core/population.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.core import rules
from sim.core.cascade import Cascades
from sim.core.ledger import Ledger
from sim.core.market import Market, Order, Pool
from sim.core.population import Accounts, Workers
from sim.core.records import Delivery, K, WorkforceUpdate, WorkHour, zeros_k
from sim.core.students import StudentWorkers
from sim.scenario.schema import ACTION_TYPES, Scenario

MAX_ROUNDS = 3  # searches for another pool within one hour (assumption, docs/ODD.md)
CHUNK = 65_536  # workers valued at once: bounds the memory of the value matrix
MAX_RUNS = 64  # runs of rows sharing a diurnal factor worth a loop (groups are contiguous)


@dataclass
class HeldPay:
    """Workers' pay held for a review window (arrays of entries, oldest first)."""

    worker: np.ndarray
    account: np.ndarray
    leaf: np.ndarray
    amount: np.ndarray
    release: np.ndarray
    tag: np.ndarray  # index into ``Workforce.tags``: the campaign the pay belongs to

    FIELDS = ("worker", "account", "leaf", "amount", "release", "tag")

    @classmethod
    def empty(cls) -> HeldPay:
        """No pay held."""
        return cls(*(np.zeros(0, dtype=np.int64) for _ in cls.FIELDS))

    def push(self, *columns: np.ndarray) -> None:
        """Add entries, one array per field in ``FIELDS`` order."""
        for name, values in zip(self.FIELDS, columns, strict=True):
            setattr(self, name, np.concatenate([getattr(self, name), values]).astype(np.int64))

    def pop_due(self, hour: int) -> HeldPay:
        """Remove and return the entries whose window has ended."""
        due = self.release <= hour
        out = HeldPay(*(getattr(self, n)[due] for n in self.FIELDS))
        for n in self.FIELDS:
            setattr(self, n, getattr(self, n)[~due])
        return out

    @property
    def total(self) -> int:
        """Money held now."""
        return int(self.amount.sum())


class Influencers:
    """Influencer accounts: each relays a call to act to its community now and then."""

    def __init__(self, scenario: Scenario, recruiter_index: dict[str, int], ledger: Ledger):
        self.offset: dict[str, int] = {}
        total = 0
        for r in scenario.recruiters:
            if r.influencers is not None:
                self.offset[r.id] = total
                total += r.influencers.count
        self.network = np.full(total, -1, dtype=np.int64)
        self.relay_p = np.zeros(total)
        self.pay_elasticity = np.zeros(total)
        self.attention = np.zeros(total, dtype=np.int64)
        for r in scenario.recruiters:
            if r.influencers is not None:
                sl = slice(self.offset[r.id], self.offset[r.id] + r.influencers.count)
                self.network[sl] = recruiter_index[r.id]
                self.relay_p[sl] = r.influencers.relay_probability_per_hour
                self.pay_elasticity[sl] = r.influencers.pay_elasticity
                self.attention[sl] = r.influencers.attention_hours
        self.last_relay = np.full(total, -(10**9), dtype=np.int64)
        self.relays = np.zeros(total, dtype=np.int64)
        self.accounts = ledger.open_block("influencers", total)
        self.cascade: Cascades | None = None  # follower networks, if any (build_network)

    def build_network(self, scenario: Scenario, workers: Workers, rng: np.random.Generator):
        """Build the follower networks the scenario asks for, once the workers exist."""
        if any(r.influencers and r.influencers.network for r in scenario.recruiters):
            self.cascade = Cascades(
                scenario,
                workers.community,
                workers.group,
                self.offset,
                self.size,
                self.attention,
                rng,
            )

    @property
    def size(self) -> int:
        """Number of influencers."""
        return int(self.network.size)

    def relay(
        self, hour: int, busy_leaves: set[int], pay_ratio: np.ndarray, rng: np.random.Generator
    ) -> None:
        """Influencers of networks with open work relay, each with its own chance.

        The chance rises with the pay on offer (``pay_ratio``: current over typed pay, per
        recruiter).
        """
        if self.size == 0:
            return
        eligible = np.isin(self.network, list(busy_leaves))
        chance = rules.relay_probability(self.relay_p, pay_ratio[self.network], self.pay_elasticity)
        relays = eligible & (rng.random(self.size) < chance)
        self.last_relay[relays] = hour
        self.relays += relays
        if self.cascade is not None:
            self.cascade.spread(hour, relays, rng)

    def sees(self, who: np.ndarray, community: np.ndarray, hour: int) -> np.ndarray:
        """Whether each of these followers (of ``community``) has a live call to act."""
        if self.cascade is not None:
            return self.cascade.sees(who, hour)
        return (hour - self.last_relay[community]) < self.attention[community]

    def credit(
        self, who: np.ndarray, community: np.ndarray, owed: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The influencer credited with each follower's actions, and the pay it is owed."""
        if self.cascade is not None:
            return self.cascade.credit(who, owed)
        return community, owed


class Workforce:
    """Workers and bots, their accounts, their choices of work and their time."""

    def __init__(
        self,
        scenario: Scenario,
        workers: Workers,
        accounts: Accounts,
        ledger: Ledger,
        n_markets: int,
        leaf_index: dict[str, int],
        influencers: Influencers,
        recruiter_account: np.ndarray,
        rng: np.random.Generator,
    ) -> None:
        self.scenario, self.workers, self.accounts = scenario, workers, accounts
        self.ledger, self.rng, self.influencers = ledger, rng, influencers
        self._recruiter_account = recruiter_account
        self.worker_accounts = ledger.open_block("workers", workers.size)
        self.held_account = int(ledger.open_accounts("held", ["held pay"])[0])
        self.held = HeldPay.empty()
        owner = accounts.owner  # how many leading account rows are in owner order
        self.sorted_accounts = accounts.n if bool(np.all(owner[1:] >= owner[:-1])) else 0
        self.tags: list[str] = []
        self.withheld_total = 0
        self.withheld_by_leaf = np.zeros(len(scenario.recruiters), dtype=np.int64)
        self.minutes = np.array([scenario.actions[a].minutes for a in ACTION_TYPES])
        self.kind_index = np.arange(K)  # the action types' indices
        self.min_tasks = [c.min_experience_tasks for c in scenario.campaigns]  # per campaign
        self.has_bots = bool(workers.is_bot.any())
        self.human = np.flatnonzero(~workers.is_bot)  # rows of people, not bots
        self.point_worth = workers.w_points * workers.point_value  # before status effects
        self.conviction_per_hour = workers.w_conviction * workers.conviction_value
        self.has_conviction = bool(self.conviction_per_hour.any())
        self.has_communities = bool((workers.community >= 0).any())
        self.fill_rate = np.ones(n_markets)
        self.members = [np.flatnonzero(workers.market == m) for m in range(n_markets)]
        # which leaf markets each group of workers can see
        self.reach = np.zeros((len(scenario.workers), n_markets), dtype=bool)
        for g, spec in enumerate(scenario.workers):
            self.reach[g, leaf_index[spec.recruiter]] = True
            for other in spec.also_works_for:
                self.reach[g, leaf_index[other]] = True
        self.reach_all = bool(self.reach.all())
        offsets = np.array([scenario.regions[r].utc_offset for r in scenario.regions])
        self.utc_offset = offsets
        g = scenario.gamification
        self.badge_thresholds = np.array(sorted(g.badges.values()), dtype=np.int64)
        self.hours_working = np.zeros(workers.size)
        self.hours_searching = np.zeros(workers.size)
        self.hours_waiting = np.zeros(workers.size)
        self.hours_this_step = np.zeros(workers.size)
        self.booked_rows = np.zeros(0, dtype=np.int64)
        self.online_rows = np.zeros(0, dtype=np.int64)
        # rows come in runs of one region and kind (groups are laid out in order), so each
        # run's diurnal factor is one number an hour
        cut = np.flatnonzero(np.diff(workers.region) | np.diff(workers.is_bot)) + 1
        starts = np.concatenate([[0], cut]).astype(np.int64)
        ends = np.concatenate([cut, [workers.size]]).astype(np.int64)
        self.runs = [
            (int(a), int(b), int(workers.region[a]), bool(workers.is_bot[a]))
            for a, b in zip(starts, ends, strict=True)
            if b > a
        ]
        if len(self.runs) > MAX_RUNS:  # rows interleaved: one factor per row instead
            self.runs = None
        # the diurnal factor of each region, and of each run of rows (bots: 1), at each hour
        # of the day (UTC offsets are whole hours, so the factors repeat every 24 hours)
        self.diurnal = [rules.diurnal_factor((h + offsets) % 24) for h in range(24)]
        self.run_factors = None
        if self.runs is not None:
            self.run_factors = [
                [(a, b, 1.0 if bot else float(f[region])) for a, b, region, bot in self.runs]
                for f in self.diurnal
            ]
        self.fatigue_kept = 1.0 - workers.recovery_per_hour  # a resting hour's factor
        self._chance = np.empty(workers.size)  # the online draw's buffers, reused hourly
        self._draws = np.empty(workers.size)
        self.students = StudentWorkers(workers.size)  # rows driven by classroom students

    def held_by_leaf(self) -> np.ndarray:
        """Workers' pay on hold now, per recruiter (ledger units)."""
        return np.bincount(
            self.held.leaf, weights=self.held.amount, minlength=len(self.scenario.recruiters)
        ).astype(np.int64)

    # -- payees (called by the market when it settles a delivery) -----------------------
    def pay_workers(
        self, leaf: int, payer: int, who: np.ndarray, wages: np.ndarray, tag: str, hour: int
    ) -> None:
        """Pay each worker, or hold the pay when the leaf recruiter holds it for review."""
        hold = self.scenario.recruiters[leaf].pay_hold_hours
        if not hold:
            self.ledger.pay_many("money", payer, self.worker_accounts[who], wages, "task pay", tag)
            return
        paid = wages > 0
        self.ledger.transfer("money", payer, self.held_account, int(wages.sum()), "pay held", tag)
        n = int(paid.sum())
        if tag not in self.tags:
            self.tags.append(tag)
        self.held.push(
            who[paid],
            self.workers.active_account[who[paid]],
            np.full(n, leaf),
            wages[paid],
            np.full(n, hour + hold),
            np.full(n, self.tags.index(tag)),
        )

    def pay_influencers(self, payer: int, who: np.ndarray, owed: np.ndarray, tag: str) -> None:
        """Pay the influencer credited with each worker's actions (7.14; cascades: 7.8.1)."""
        per = np.zeros(self.influencers.size, dtype=np.int64)
        credited, owed = self.influencers.credit(who, self.workers.community[who], owed)
        np.add.at(per, credited, owed)
        nz = per.nonzero()[0]
        if nz.size:
            self.ledger.pay_many(
                "money", payer, self.influencers.accounts[nz], per[nz], "influencer pay", tag
            )

    def pay_points(self, payer: int, who: np.ndarray, points: np.ndarray, tag: str) -> None:
        """Award each worker the points its tasks earned, through the ledger."""
        self.ledger.pay_many("points", payer, self.worker_accounts[who], points, "points", tag)
        self.workers.points[who] += points

    # -- the hour ---------------------------------------------------------------------
    def _online(self, hour: int) -> np.ndarray:
        """Rows that come online this hour (one uniform draw per row, in row order).

        The chance is :func:`rules.online_probability`, computed run by run of rows that
        share a diurnal factor, in place; its clip to [0, 1] is left out because a draw in
        [0, 1) falls below a chance exactly when it falls below the clipped chance.
        """
        w = self.workers
        chance, draws = self._chance, self._draws
        if self.run_factors is None:
            by_region = self.diurnal[hour % 24]
            np.multiply(w.activity, np.where(w.is_bot, 1.0, by_region[w.region]), out=chance)
        else:
            activity = w.activity
            for start, end, factor in self.run_factors[hour % 24]:
                np.multiply(activity[start:end], factor, out=chance[start:end])
        chance *= np.subtract(1.0, w.fatigue, out=draws)
        self.rng.random(out=draws)
        return (draws < chance).nonzero()[0]

    def status_multiplier(self) -> np.ndarray | None:
        """Badges and the leaderboard make points worth more to those near them.

        Returns:
            Each worker's multiplier on the value of points, or None when the scenario has
            neither badges nor a leaderboard (every multiplier is 1).
        """
        g, w = self.scenario.gamification, self.workers
        if self.badge_thresholds.size == 0 and g.leaderboard_size == 0:
            return None
        proximity = rules.badge_proximity(w.points, self.badge_thresholds)
        on_board = np.zeros(w.size)
        if g.leaderboard_size and w.points.any():
            top = np.argsort(-w.points, kind="stable")[: g.leaderboard_size]
            on_board[top[w.points[top] > 0]] = 1.0
        return rules.status_multiplier(proximity, on_board, g.badge_gradient, g.leaderboard_bonus)

    def work(self, hour: int, market: Market) -> WorkHour:
        """Online workers choose pools by value, do tasks, and are paid through the market."""
        w, rng = self.workers, self.rng
        record = WorkHour()
        n = w.size
        on = self._online(hour)
        # (``take`` and ``compress`` select as indexing does, with less overhead)
        on = on.compress((w.active_account.take(on) >= 0) & w.enrolled.take(on))  # enrolled only
        if self.has_communities:
            comm = w.community[on]
            inside = comm >= 0
            inf = self.influencers
            sees = inf.sees(on[inside], comm[inside], hour)
            keep = np.ones(on.size, dtype=bool)
            keep[inside.nonzero()[0][~sees]] = False
            on = on[keep]
        self.online_rows = on  # who was online and could act this hour (turnover reads it)
        if self.students.driven.any():  # a student's worker does only what it is told
            on = on[~self.students.driven[on]]
        student_time = self.students.work(hour, market, self, record)
        pools = market.open_pools()
        pool_market = np.array([p.market for _, p in pools], dtype=np.int64)
        group_reach = self.reach[:, pool_market] if pools else self.reach[:, :0]
        if pools and self.reach_all:  # every pool is in everyone's reach
            reach_on, cand = None, on
            looking, looking_human, wait_looking = on[:0], None, np.zeros(0)
        else:
            reach_on = group_reach.any(axis=1)[w.group.take(on)]  # no pools: all False
            looking = on.compress(~reach_on)
            looking_human = ~w.is_bot[looking]
            looking = looking.compress(looking_human)
            wait_looking = self._looking_in_vain(looking)
            cand = on.compress(reach_on)
        # the candidates' minutes this hour, by position in ``cand``
        spent = _Minutes.zeros(cand.size)
        active = np.zeros(n, dtype=bool)
        capacity = np.zeros(len(self.fill_rate))
        found = np.zeros(len(self.fill_rate))
        if pools and cand.size:
            desc = self._describe(pools, hour, market)
            status = self.status_multiplier()
            # one value matrix for the hour when it is small: later rounds read its columns
            values = self._values(cand, desc, group_reach, status) if cand.size <= CHUNK else None
            everything = np.ones(len(pools), bool)
            if values is None:
                best, value = self._best(cand, desc, group_reach, status, everything)
            else:
                best, value = self._pick(values, cand, desc, everything)
            works = self._takes_work(value, cand)
            chosen, choice = works.nonzero()[0], best.compress(works)
            active[cand[chosen]] = True
            speed_of, session_of = w.speed.take(cand), w.session_minutes.take(cand)
            search_of = w.search_minutes.take(cand)
            left = np.array([self._avail_total(o, p, hour, market) for o, p in pools])
            pool_wanted, pool_found = np.zeros(len(pools)), np.zeros(len(pools))
            for _round in range(MAX_ROUNDS):
                again_at = []
                for j, at in _by_pool(chosen, choice, len(pools)):
                    o, p = pools[j]
                    who = cand.take(at)
                    # each worker is in one pool a round: read its attributes once
                    speed, session = speed_of.take(at), session_of.take(at)
                    used_who = spent.used.take(at)
                    q = search_of.take(at) * desc.search_mult[j]
                    session_left = np.maximum(session - used_who, 0.0)
                    wanted = rng.poisson(
                        rules.tasks_per_session(session_left, desc.task_minutes[j], speed, q)
                    )
                    n_wanted = int(wanted.sum())
                    capacity[p.market] += n_wanted
                    pool_wanted[j] += n_wanted
                    avail = min(int(left[j]), market.financeable(o, p, int(left[j])))
                    if n_wanted <= avail:
                        done = wanted
                    else:  # more wanted than there is: first come, first served
                        done = rules.first_come(wanted, avail, rng.permutation(who.size))
                    n_done = int(done.sum())
                    short = done < wanted
                    fruitless = np.where(short, q, 0.0)
                    took = fruitless  # minutes taken: a worker with no task only looked
                    if n_done:
                        # few workers get tasks: their time is worked out on their rows only
                        # (everyone else's task and search minutes are 0 and add nothing)
                        got = done.nonzero()[0]
                        done_got, speed_got = done.take(got), speed.take(got)
                        counts, by_type, refills, kind = self._take(p, done_got, n_done)
                        left[j] -= n_done
                        found[p.market] += n_done
                        pool_found[j] += n_done
                        if got.size == done.size:
                            d = Delivery(o, p, who, done, counts, by_type, refills)
                        else:
                            d = Delivery(o, p, who.take(got), done_got, counts, by_type, refills)
                        market.settle(d, hour, self)
                        self._record_delivery(d, o, p, hour, record)
                        if kind >= 0:  # one kind of task: the product's only non-zero term
                            task_m = (done_got * self.minutes[kind]) / speed_got
                        else:
                            task_m = _rows_times(got, done.size, counts, self.minutes, speed_got)
                        pays = zip(by_type.tolist(), p.pay.tolist(), strict=True)
                        if not any(b for b, pay in pays if pay <= 0):  # no unpaid task done
                            paid_task = task_m  # (the same sum)
                        else:
                            paid_kinds = np.where(p.pay <= 0, 0.0, self.minutes)
                            paid_task = _rows_times(got, done.size, counts, paid_kinds, speed_got)
                        searched = done_got * q.take(got)
                        took = fruitless.copy()
                        took[got] = task_m + searched + fruitless.take(got)
                    over = took > session_left
                    if over.any():  # out of time: every minute is cut back in proportion
                        scale = np.where(over, session_left / np.maximum(took, 1e-12), 1.0)
                        np.add.at(spent.wait, at, fruitless * scale)
                        used_who = used_who + took * scale
                    else:  # (scale 1 everywhere: multiplying by it changes nothing)
                        scale = None
                        np.add.at(spent.wait, at, fruitless)
                        used_who = used_who + took
                    if n_done:
                        at_got = at.take(got)
                        if scale is not None:
                            scale_got = scale.take(got)
                            task_m, paid_task = task_m * scale_got, paid_task * scale_got
                            searched = searched * scale_got
                        spent.work[at_got] += task_m
                        spent.paid[at_got] += paid_task
                        spent.search[at_got] += searched
                    spent.used[at] = used_who
                    more = short & (session - used_who > 0.5)
                    again_at.append(at.compress(more))
                again = np.concatenate(again_at) if again_at else np.zeros(0, dtype=np.int64)
                open_now = left > 0
                if not again.size or not open_now.any():
                    break
                rows = cand.take(again)
                if values is None:
                    best, value = self._best(rows, desc, group_reach, status, open_now)
                else:
                    best, value = self._pick(values.take(again, axis=1), rows, desc, open_now)
                keep = self._takes_work(value, rows)
                chosen, choice = again.compress(keep), best.compress(keep)
                if not chosen.size:
                    break
            # workers learn how easy each pool's tasks are to find (half-life ~3 h)
            for j, (_, p) in enumerate(pools):
                if pool_wanted[j] > 0:
                    p.fill = 0.8 * p.fill + 0.2 * pool_found[j] / pool_wanted[j]
        # workers learn how easy work was to find (exponential smoothing, half-life ~3 h) in
        # each market where they wanted any (a few markets: Python floats, the same numbers)
        rates = self.fill_rate.tolist()
        wanted_found = zip(capacity.tolist(), found.tolist(), strict=True)
        for m, (wanted_m, found_m) in enumerate(wanted_found):
            if wanted_m > 0:
                rates[m] = 0.8 * rates[m] + 0.2 * (found_m / max(wanted_m, 1))
        self.fill_rate = np.array(rates)
        if student_time.who.size:
            # students' minutes add to rows of their own: book everyone on full-length arrays
            work_m, search_m, wait_m, paid_m = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
            work_m[cand], search_m[cand] = spent.work, spent.search
            wait_m[cand], paid_m[cand] = spent.wait, spent.paid
            wait_m[looking] = wait_looking
            on = student_time.add_to(on, work_m, search_m, paid_m, active)
            wm, sm, qm, pm = work_m[on], search_m[on], wait_m[on], paid_m[on]
        elif cand.size == on.size:  # everyone online had work in reach: ``cand`` is ``on``
            wm, sm, qm, pm = spent.work, spent.search, spent.wait, spent.paid
        else:
            # the same minutes, gathered straight into ``on`` order (cand and looking are in it)
            at_cand = reach_on.nonzero()[0]
            wm, sm, qm, pm = np.zeros((4, on.size))
            wm[at_cand], sm[at_cand], qm[at_cand], pm[at_cand] = (
                spent.work,
                spent.search,
                spent.wait,
                spent.paid,
            )
            qm[(~reach_on).nonzero()[0][looking_human]] = wait_looking
        online_h = (wm + sm + qm) / 60.0
        unpaid = online_h - pm / 60.0
        self.hours_this_step = np.zeros(n)
        self.hours_this_step[on] = online_h
        self.booked_rows = on  # the only rows with hours this step (update reads them)
        # (rows are distinct: np.add.at adds what ``x[on] += v`` would, with less overhead)
        np.add.at(w.hours_online, on, online_h)
        np.add.at(w.hours_unpaid, on, unpaid)
        np.add.at(self.hours_working, on, wm / 60.0)
        np.add.at(self.hours_searching, on, sm / 60.0)
        np.add.at(self.hours_waiting, on, qm / 60.0)
        w.active_now = active
        if self.has_bots:  # the record counts people only
            human = ~w.is_bot.take(on)
            wm, sm, qm, unpaid = wm[human], sm[human], qm[human], unpaid[human]
        record.active_workers = int(np.count_nonzero(active))
        record.work_minutes = float(wm.sum())
        record.search_minutes = float(sm.sum())
        record.wait_minutes = float(qm.sum())
        record.unpaid_hours = float(unpaid.sum())
        return record

    def _looking_in_vain(self, looking: np.ndarray) -> np.ndarray:
        """Minutes these people online with nothing in reach spend: one look at an empty list.

        Unpaid, and never more than their session.
        """
        if not looking.size:
            return np.zeros(0)
        w = self.workers
        mult = np.array([rules.search_multiplier(f) for f in self.fill_rate])
        return np.minimum(
            w.search_minutes[looking] * mult[w.market[looking]], w.session_minutes[looking]
        )

    def _takes_work(self, value: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Whether each of these workers takes the best work it found, worth ``value`` an hour.

        It must be in reach (finite) and, for people, worth their reservation wage.
        """
        w = self.workers
        worth = value >= w.reservation.take(rows)
        if self.has_bots:  # bots take whatever is in reach
            worth |= w.is_bot.take(rows)
        return np.isfinite(value) & worth

    def _avail_total(self, o: Order, p: Pool, hour: int, market: Market) -> int:
        total = sum(p.available().tolist())  # (exact, and cheaper than numpy's sum of K)
        drip = o.drip_feed or market.uses(p.chain[-1], "drip_feed")
        if drip and o.status == "open":
            # spread what is left evenly over the hours left before the deadline
            total = -(-total // max(o.end - hour, 1))
        return total

    def _describe(self, pools: list[tuple[Order, Pool]], hour: int, market: Market) -> _Pools:
        g = self.scenario.gamification
        avail = np.array([p.available() for _, p in pools], dtype=np.float64)
        mix = avail / np.maximum(avail.sum(axis=1, keepdims=True), 1)
        pay = np.array([p.pay for _, p in pools], dtype=np.float64)
        if any(any(p.points.tolist()) for _, p in pools):
            pts = np.array([p.points for _, p in pools], dtype=np.float64)
            urgency = np.array([o.urgency for o, _ in pools], dtype=np.float64)
            points = (mix * pts).sum(axis=1) * urgency
        else:  # no points anywhere: every sum is 0 (``mix`` is finite)
            points = np.zeros(len(pools))
        cause = np.array(
            [
                rules.urgency_cause(
                    rules.objective_multiplier(o.progress(), g.objective_gradient)
                    if o.objective
                    else 1.0,
                    o.urgency,
                    g.urgency_pull,
                )
                for o, _ in pools
            ]
        )
        return _Pools(
            search_mult=np.array([rules.search_multiplier(p.fill) for _, p in pools]),
            task_minutes=mix @ self.minutes,
            money=(mix * pay).sum(axis=1),
            points=points,
            cause=cause,
            market=np.array([p.market for _, p in pools], dtype=np.int64),
            min_tasks=self._qualifications(pools),
        )

    def _qualifications(self, pools: list[tuple[Order, Pool]]) -> np.ndarray | None:
        """Tasks a worker must have done to see each pool (None: every pool is open)."""
        if not any(self.min_tasks):
            return None
        need = np.array([self.min_tasks[o.campaign] for o, _ in pools], dtype=np.int64)
        return need if need.any() else None

    def _values(
        self, c: np.ndarray, desc: _Pools, group_reach: np.ndarray, status: np.ndarray | None
    ) -> np.ndarray:
        """What an hour on each pool (rows) is worth to each of these workers (columns).

        The numbers of :func:`rules.value_per_hour`, computed in three buffers instead of
        one temporary per operation, each element with the same operations in the same
        order; -inf where a worker's group cannot reach the pool. A term that is zero for
        every pool and worker (no points, or no conviction) is left out: the values are only
        compared, and adding 0 never changes a comparison.
        """
        w = self.workers
        pools = desc.money.size
        value = np.multiply(w.w_money.take(c), desc.money[:, None])
        spare = np.empty((pools, c.size))
        if desc.points.any():
            worth = self.point_worth[c] if status is None else self.point_worth[c] * status[c]
            value += np.multiply(worth, desc.points[:, None], out=spare)
        minutes = np.divide(desc.task_minutes[:, None], w.speed.take(c), out=np.empty_like(spare))
        minutes += np.multiply(w.search_minutes.take(c), desc.search_mult[:, None], out=spare)
        np.maximum(minutes, 1e-9, out=minutes)
        value *= 60.0
        value /= minutes
        if self.has_conviction:
            value += np.multiply(self.conviction_per_hour[c], desc.cause[:, None], out=spare)
        if not self.reach_all:
            value[~group_reach[w.group[c]].T] = -np.inf
        return value

    def _pick(
        self, values: np.ndarray, c: np.ndarray, desc: _Pools, open_pools: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each worker's best open pool it qualifies for, and its value (``values`` unchanged).

        Pools are few and workers many, so the best is kept pool by pool along whole rows;
        ties go to the first pool, as with ``np.argmax``. A worker with no pool in reach gets
        -inf (its pool index then means nothing).
        """
        need = None if desc.min_tasks is None else self.workers.tasks_done[c]
        best = np.zeros(c.size, dtype=np.int64)
        value = None
        for j in open_pools.nonzero()[0].tolist():
            row = (
                values[j]
                if need is None
                else np.where(need < desc.min_tasks[j], -np.inf, values[j])
            )
            if value is None:
                value = row.copy()
                best[:] = j
            else:
                np.putmask(best, row > value, j)
                np.maximum(value, row, out=value)
        if value is None:
            return best, np.full(c.size, -np.inf)
        if np.isnan(value).any():  # never from finite inputs; keep np.argmax's rule if so
            v = values.copy()
            v[~open_pools, :] = -np.inf
            if need is not None:
                v[need[None, :] < desc.min_tasks[:, None]] = -np.inf
            best = np.argmax(v, axis=0)
            value = v[best, np.arange(c.size)]
        return best, value

    def _best(
        self,
        idx: np.ndarray,
        desc: _Pools,
        group_reach: np.ndarray,
        status: np.ndarray | None,
        open_pools: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each worker's best pool and its value per hour (-inf when none is in reach).

        The value matrix is laid out pools x workers: with a handful of pools and
        thousands of workers, numpy then runs each operation along long rows. It is built
        ``CHUNK`` workers at a time, which bounds its memory.
        """
        best = np.zeros(idx.size, dtype=np.int64)
        value = np.full(idx.size, -np.inf)
        for start in range(0, idx.size, CHUNK):
            c = idx[start : start + CHUNK]
            values = self._values(c, desc, group_reach, status)
            best[start : start + c.size], value[start : start + c.size] = self._pick(
                values, c, desc, open_pools
            )
        return best, value

    def _take(self, p: Pool, done: np.ndarray, n_done: int):
        """Which actions were done (originals first, then replacements owed), per worker.

        Args:
            p: The pool the actions come from.
            done: Actions done by each worker who did any (``n_done`` in all).
            n_done: Their sum.

        Returns:
            The counts per worker (rows as in ``done``) and action type, the actions taken,
            the replacements among them, and the one action type taken (-1 when several
            were).
        """
        avail = p.available()
        rng = self.rng
        by_type = (
            avail.copy()
            if n_done == sum(avail.tolist())
            else rng.multivariate_hypergeometric(avail, n_done, method="marginals")
        )
        if any(p.refill_owed.tolist()):
            originals = np.minimum(by_type, p.remaining)
            refills = by_type - originals
            p.remaining -= originals
            p.refill_owed -= refills
            p.refilled += refills
        else:  # nothing to replace: every action taken is an original
            refills = zeros_k()
            p.remaining -= by_type
        p.delivered += by_type
        kinds = by_type.nonzero()[0]
        if kinds.size == 1:
            counts = np.zeros((done.size, K), dtype=np.int64)
            counts[:, kinds[0]] = done
            return counts, by_type, refills, int(kinds[0])
        # deal the delivered actions out in a random order: each worker takes its ``done``
        # next ones (an exact draw without replacement, in O(actions)); shuffling the dealt
        # array in place draws what ``rng.permutation`` of it would, without its copy
        dealt = np.repeat(self.kind_index, by_type)  # (types not taken repeat 0 times)
        rng.shuffle(dealt)
        worker = np.repeat(np.arange(done.size), done)
        counts = np.bincount(worker * K + dealt, minlength=done.size * K).reshape(-1, K)
        return counts, by_type, refills, -1

    def _record_delivery(self, d: Delivery, o: Order, p: Pool, hour: int, record: WorkHour) -> None:
        w = self.workers
        # (sums and tests of short Python lists: exact, and cheaper than numpy calls on K
        # numbers; this pool's remaining is part of the order's: check it first)
        n_done = sum(d.by_type.tolist())
        if o.completed_hour is None and not any(p.remaining.tolist()) and o.remaining_total == 0:
            o.completed_hour = hour
        if any(p.points.tolist()):
            points_only = (p.pay == 0) & (p.points > 0)
            record.points_only_actions += np.where(points_only, d.by_type, 0)
        w.tasks_done[d.who] += d.done
        record.deliveries.append(d)
        record.delivered += n_done
        record.refills += sum(d.refills.tolist())

    def leave_banned_accounts(self) -> None:
        """Workers whose account is banned move to another live one, if they have one."""
        w, acc = self.workers, self.accounts
        current = w.active_account
        banned = acc.banned
        if not banned.size:
            return
        lost = banned.take(current)  # (row -1 reads the last account: masked out next)
        lost &= current >= 0
        if lost.any():
            owners = lost.nonzero()[0]
            # only the live accounts of the workers who lost theirs: each takes its first
            alive_rows = self._live_accounts_of(owners, lost, banned)
            if not alive_rows.size:  # (usual: none of them has another account)
                current[owners] = -1
                return
            holders, first = np.unique(acc.owner[alive_rows], return_index=True)
            keep = holders >= 0  # (an account without owner is nobody's to move to)
            moved = np.full(owners.size, -1, dtype=np.int64)
            moved[np.searchsorted(owners, holders[keep])] = alive_rows[first[keep]]
            current[owners] = moved

    def _live_accounts_of(self, owners: np.ndarray, lost: np.ndarray, banned: np.ndarray):
        """Rows of the live accounts of these workers (``lost`` marks them), ascending.

        The accounts drawn with the population are laid out by owner, so theirs are found
        by binary search; only the accounts opened since are scanned.
        """
        owner, block = self.accounts.owner, self.sorted_accounts
        lo = np.searchsorted(owner[:block], owners, side="left")
        hi = np.searchsorted(owner[:block], owners, side="right")
        lens = hi - lo
        if (lens == 1).all():  # one account each (the rows lo are then all of theirs)
            rows = lo
        else:
            rows = np.repeat(lo - np.cumsum(lens) + lens, lens) + np.arange(int(lens.sum()))
        rows = rows.compress(~banned.take(rows))
        if block == owner.size:  # no account opened since
            return rows
        tail = block + (lost.take(owner[block:]) & ~banned[block:]).nonzero()[0]
        return np.concatenate([rows, tail])

    def choose_accounts(self, market: Market) -> None:
        """Workers of recruiters using account tactics pick which live account to act from.

        Their oldest (``older_accounts``) or a different one each hour (``more_accounts``).
        """
        w, acc = self.workers, self.accounts
        for m, leaf in enumerate(market.structure.leaves):
            tactics = market.tactics_of(leaf)
            if "older_accounts" not in tactics and "more_accounts" not in tactics:
                continue
            live = (~acc.banned & (w.market[acc.owner] == m)).nonzero()[0]
            if not live.size:
                continue
            key = acc.age_hours[live] if "older_accounts" in tactics else self.rng.random(live.size)
            owners = acc.owner[live]
            order = np.lexsort((key, owners))
            last = np.r_[owners[order][1:] != owners[order][:-1], True].nonzero()[0]
            w.active_account[owners[order][last]] = live[order][last]

    def _release_held(self, hour: int, record: WorkforceUpdate) -> None:
        """Pay out the held pay whose review window ended; a banned account's is withheld."""
        acc = self.accounts
        due = self.held.pop_due(hour)
        banned = acc.banned[due.account]
        for code in np.unique(due.tag):
            of_tag = due.tag == code
            tag = self.tags[int(code)]
            ok = of_tag & ~banned
            if ok.any():
                self.ledger.pay_many(
                    "money",
                    self.held_account,
                    self.worker_accounts[due.worker[ok]],
                    due.amount[ok],
                    "task pay",
                    tag,
                )
                record.pay_released += int(due.amount[ok].sum())
            for leaf in np.unique(due.leaf[of_tag & banned]):
                amount = int(due.amount[of_tag & banned & (due.leaf == leaf)].sum())
                self.ledger.transfer(
                    "money",
                    self.held_account,
                    int(self._recruiter_account[leaf]),
                    amount,
                    "pay withheld",
                    tag,
                )
                record.pay_withheld += amount
                self.withheld_by_leaf[leaf] += amount

    def update(self, hour: int) -> WorkforceUpdate:
        """Fatigue, account ageing and switching, re-opened accounts, released pay."""
        w, acc, rng = self.workers, self.accounts, self.rng
        record = WorkforceUpdate()
        # everyone who was not online rests; their fatigue stays within [0, 1] without a clip
        fatigue = w.fatigue * self.fatigue_kept
        rows = self.booked_rows
        fatigue[rows] = rules.update_fatigue(
            w.fatigue.take(rows),
            self.hours_this_step.take(rows),
            w.fatigue_per_hour.take(rows),
            w.recovery_per_hour.take(rows),
        )
        w.fatigue = fatigue
        age = acc.age_hours  # (a view: ages in place)
        age += 1.0
        if self.held.release.size:  # pay held for review, released or withheld
            self._release_held(hour, record)
        self.withheld_total += record.pay_withheld
        self.leave_banned_accounts()
        if self.scenario.account_market is not None:
            return record  # accounts are bought on the account market (sim/core/accounts.py)
        current = w.active_account
        without = (current < 0).nonzero()[0]
        reopen = without[rng.random(without.size) < w.reopen_probability[without]]
        if reopen.size:
            # a fresh account starts young and little trusted
            rows = acc.add(reopen, np.full(reopen.size, 0.3))
            current[reopen] = rows
            w.accounts_alive[reopen] += 1
        record.accounts_opened = int(reopen.size)
        return record


@dataclass
class _Pools:
    """Per open pool, what a worker weighs when choosing work.

    Duration, pay, points, pull, market, and how much longer its tasks take to find than
    at best (scarcity learned per pool).
    """

    search_mult: np.ndarray
    task_minutes: np.ndarray
    money: np.ndarray
    points: np.ndarray
    cause: np.ndarray
    market: np.ndarray
    min_tasks: np.ndarray | None = None  # qualification per pool (tasks done), or none


def _by_pool(chosen: np.ndarray, choice: np.ndarray, n_pools: int) -> list[tuple[int, np.ndarray]]:
    """The workers who chose each pool, pool by pool in pool order, each in ``chosen`` order.

    With a few pools a mask per pool present is cheaper than a stable sort of the choices;
    both give the same groups in the same order.
    """
    if n_pools <= 8:
        present = np.bincount(choice, minlength=n_pools).nonzero()[0].tolist()
        if len(present) == 1:  # all chose one pool
            return [(present[0], chosen)]
        return [(j, chosen.compress(choice == j)) for j in present]
    order = np.argsort(choice, kind="stable")
    chosen, choice = chosen[order], choice[order]
    bounds = np.diff(choice).nonzero()[0] + 1
    firsts = choice[np.concatenate([[0], bounds])].tolist() if choice.size else []
    return list(zip(firsts, np.split(chosen, bounds), strict=False))


def _rows_times(
    rows: np.ndarray, n: int, counts: np.ndarray, minutes: np.ndarray, speed: np.ndarray
) -> np.ndarray:
    """``(counts @ minutes) / speed`` of these ``rows`` of a group of ``n`` workers.

    ``counts`` and ``speed`` are those rows' own. The product is taken over the group's
    whole matrix (the other rows zero), as it always was: a matrix product of fewer rows
    may add up each row in another order. The matrix is built as floats, which the
    product would cast the counts to anyway (exactly).
    """
    full = np.zeros((n, K))
    full[rows] = counts
    return (full @ minutes).take(rows) / speed


@dataclass
class _Minutes:
    """The hour's minutes of each worker looking for work, by position among them.

    Minutes of the session already used, then those spent on tasks, finding tasks,
    looking in vain, and on paid tasks.
    """

    used: np.ndarray
    work: np.ndarray
    search: np.ndarray
    wait: np.ndarray
    paid: np.ndarray

    @classmethod
    def zeros(cls, n: int) -> _Minutes:
        """No minutes spent yet by any of ``n`` workers."""
        return cls(*np.zeros((5, n)))  # (rows of one block: one allocation)
