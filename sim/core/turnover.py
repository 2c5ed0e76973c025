"""Workers entering, leaving and learning; the activity tiers of the workforce.

Each group with a ``turnover`` block has a preallocated pool of rows: its starting
workers and a reserve of people outside (``Workers.enrolled`` says who is in). Every hour
the component updates each worker's exponential memory of what an hour offered to the work
earned them; once a day people outside join when the earnings the group's workers remember
beat their own outside option, and workers whose remembered earnings stayed below theirs
for long enough leave. Groups with a ``learning`` block get faster with the tasks they
have done. Every run also sorts its enrolled people into very active, regular and
occasional workers by their hours online over the last seven days. Equations: docs/ODD.md
7.27; the rules are in ``sim/core/rules.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.core import rules
from sim.core.ledger import Ledger
from sim.core.population import Workers, draw_spread
from sim.core.records import TurnoverHour, WorkHour
from sim.scenario.load import to_minor
from sim.scenario.schema import Scenario, Spread

ENTRY_PRIOR_HOURS = 1.0  # weight of the expectation a newcomer starts with (assumption)
WEEK_DAYS = 7


@dataclass
class _Pool:
    """Per-row state of the workers and people outside in groups with turnover."""

    rows: np.ndarray  # worker rows
    group: np.ndarray  # index into ``Turnover.groups`` of each row
    outside: np.ndarray  # outside option, ledger units per hour
    decay: np.ndarray  # hourly memory factor
    patience: np.ndarray  # days
    entry_rate: np.ndarray  # per day, at most
    sensitivity: np.ndarray
    earned: np.ndarray  # remembered earnings, ledger units
    hours: np.ndarray  # remembered hours offered
    streak: np.ndarray  # days in a row below the outside option
    last_balance: np.ndarray


class Turnover:
    """Entry, exit and learning of workers, and the activity tiers of the workforce.

    Args:
        scenario: The validated scenario.
        workers: The per-worker arrays (``enrolled`` and ``speed`` are changed here).
        worker_accounts: Ledger rows of the workers.
        ledger: The model's ledger (read only: earnings are balance changes).
        rng: The model's generator; drawn from only when some group has turnover.
    """

    def __init__(
        self,
        scenario: Scenario,
        workers: Workers,
        worker_accounts: np.ndarray,
        ledger: Ledger,
        rng: np.random.Generator,
    ) -> None:
        self.workers, self.ledger, self.rng = workers, ledger, rng
        self.worker_accounts = worker_accounts
        self.human = np.flatnonzero(~workers.is_bot)
        self.all_human = self.human.size == workers.size  # (then no gather of their rows)
        self.week = np.zeros((WEEK_DAYS, self.human.size), dtype=np.float32)
        self.tier_counts = np.zeros(len(rules.TIERS), dtype=np.int64)
        self.joined_total = 0
        self.left_total = 0
        self.qualified_delivered = 0
        self.delivered = 0
        self.qualified_campaign = np.array(
            [c.min_experience_tasks > 0 for c in scenario.campaigns], dtype=bool
        )
        # groups with turnover (people only: validation refuses it for bots)
        self.groups = [g for g, spec in enumerate(scenario.workers) if spec.turnover is not None]
        self.pool = self._build_pool(scenario, rng) if self.groups else None
        self.expected = np.zeros(len(self.groups))  # remembered rate per group, last known
        if self.pool is not None:
            p = self.pool
            self.expected = np.bincount(p.group, weights=p.outside, minlength=len(self.groups))
            self.expected /= np.maximum(np.bincount(p.group, minlength=len(self.groups)), 1)
        self.learning = self._build_learning(scenario)

    def _build_pool(self, s: Scenario, rng: np.random.Generator) -> _Pool:
        w, scale = self.workers, s.currency.minor_units
        parts: list[dict[str, np.ndarray]] = []
        for k, g in enumerate(self.groups):
            spec = s.workers[g]
            t = spec.turnover
            rows = np.flatnonzero(w.group == g)
            n = rows.size
            mean = t.outside_option_per_hour
            if mean is None:
                mean = s.regions[spec.region].reservation_wage_per_hour
            mean_units = float(to_minor(mean, scale))
            outside = (
                mean_units * draw_spread(rng, Spread(mean=1.0, cv=t.outside_option_cv), n)
                if mean_units > 0
                else np.zeros(n)
            )
            parts.append(
                {
                    "rows": rows,
                    "group": np.full(n, k, dtype=np.int64),
                    "outside": outside,
                    "decay": np.full(n, rules.memory_decay(t.memory_half_life_days * 24)),
                    "patience": np.maximum(
                        1,
                        np.rint(
                            draw_spread(rng, Spread(mean=t.patience_days, cv=t.patience_cv), n)
                        ),
                    ).astype(np.int64),
                    "entry_rate": np.full(n, t.entry_rate_per_day),
                    "sensitivity": np.full(n, t.entry_sensitivity),
                }
            )
        cols = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
        rows = cols["rows"]
        # everyone starts indifferent: an hour's memory worth exactly their outside option
        return _Pool(
            **cols,
            earned=cols["outside"] * ENTRY_PRIOR_HOURS,
            hours=np.full(rows.size, ENTRY_PRIOR_HOURS),
            streak=np.zeros(rows.size, dtype=np.int64),
            last_balance=self.ledger.balances["money"][self.worker_accounts[rows]].copy(),
        )

    def _build_learning(self, s: Scenario) -> list[tuple[np.ndarray, np.ndarray, float, float]]:
        """Per group that learns: its rows, their drawn speeds and the curve's parameters."""
        out = []
        for g, spec in enumerate(s.workers):
            if spec.learning is not None:
                rows = np.flatnonzero(self.workers.group == g)
                lc = spec.learning
                out.append(
                    (rows, self.workers.speed[rows].copy(), lc.max_speedup, lc.tasks_to_learn)
                )
        return out

    # -- the hour -----------------------------------------------------------------------
    def step(
        self, hour: int, work: WorkHour, hours_this_step: np.ndarray, online: np.ndarray
    ) -> TurnoverHour:
        """Learning, the memory of earnings, the week's hours and, at a day's end, churn.

        Args:
            hour: The hour just simulated.
            work: What the workforce did this hour.
            hours_this_step: Hours each worker spent online this hour (work, search, wait).
            online: Rows of the workers who were online and could act this hour.

        Returns:
            The hour's entries, exits and the tiers last computed.
        """
        w = self.workers
        for rows, base, max_speedup, scale in self.learning:
            w.speed[rows] = rules.learned_speed(base, w.tasks_done[rows], max_speedup, scale)
        self._count_qualified(work)
        day, end_of_day = divmod(hour, 24)
        if end_of_day == 0:
            self.week[day % WEEK_DAYS] = 0.0
        hours = hours_this_step if self.all_human else hours_this_step[self.human]
        self.week[day % WEEK_DAYS] += hours.astype(np.float32)
        record = TurnoverHour()
        if self.pool is not None:
            self._remember(online)
            if end_of_day == 23:
                record.joined, record.left, record.left_rows = self._churn()
        if end_of_day == 23:
            self._update_tiers()
        record.tier_counts = self.tier_counts.copy()
        return record

    def _count_qualified(self, work: WorkHour) -> None:
        for d in work.deliveries:
            n = sum(d.by_type.tolist())  # (exact, and cheaper than numpy's sum of K)
            self.delivered += n
            if self.qualified_campaign[d.order.campaign]:
                self.qualified_delivered += n

    def _remember(self, online: np.ndarray) -> None:
        """Fold this hour's earnings and hours offered into each row's memory."""
        p, w = self.pool, self.workers
        balance = self.ledger.balances["money"][self.worker_accounts[p.rows]]
        earned_now = (balance - p.last_balance).astype(np.float64)
        p.last_balance = balance
        was_online = np.zeros(w.size, dtype=bool)
        was_online[online] = True
        offered = np.where(was_online[p.rows], w.session_minutes[p.rows] / 60.0, 0.0)
        p.earned, p.hours = rules.update_memory(p.earned, p.hours, earned_now, offered, p.decay)

    def _churn(self) -> tuple[int, int, np.ndarray]:
        """The day's exits and entries: how many joined, how many left, and their rows."""
        p, w = self.pool, self.workers
        enrolled = w.enrolled[p.rows]
        rate = rules.remembered_rate(p.earned, p.hours)
        n_groups = len(self.groups)
        members = np.bincount(p.group[enrolled], minlength=n_groups)
        total = np.bincount(p.group[enrolled], weights=rate[enrolled], minlength=n_groups)
        # word of mouth: what the group's workers remember; nobody left in = the last known
        self.expected = np.where(members > 0, total / np.maximum(members, 1), self.expected)
        p.streak = np.where(enrolled, rules.low_earnings_streak(p.streak, rate, p.outside), 0)
        leave = enrolled & rules.leaves(p.streak, p.patience)
        outside = np.flatnonzero(~enrolled)
        expected = self.expected[p.group[outside]]
        chance = rules.entry_probability(
            expected, p.outside[outside], p.entry_rate[outside], p.sensitivity[outside]
        )
        join = outside[self.rng.random(outside.size) < chance]
        w.enrolled[p.rows[leave]] = False
        w.enrolled[p.rows[join]] = True
        p.streak[leave] = 0
        p.earned[join] = self.expected[p.group[join]] * ENTRY_PRIOR_HOURS
        p.hours[join] = ENTRY_PRIOR_HOURS
        n_join, n_leave = int(join.size), int(leave.sum())
        self.joined_total += n_join
        self.left_total += n_leave
        return n_join, n_leave, p.rows[leave]

    def _update_tiers(self) -> None:
        enrolled = self.workers.enrolled[self.human]
        tier = rules.activity_tier(self.week.sum(axis=0, dtype=np.float64))
        self.tier_counts = np.bincount(tier[enrolled], minlength=len(rules.TIERS))

    # -- views --------------------------------------------------------------------------
    def remembered_hourly(self) -> float:
        """Mean remembered earnings per hour offered of enrolled workers (ledger units)."""
        if self.pool is None:
            return 0.0
        enrolled = self.workers.enrolled[self.pool.rows]
        if not enrolled.any():
            return 0.0
        rate = rules.remembered_rate(self.pool.earned[enrolled], self.pool.hours[enrolled])
        return float(rate.mean())

    @property
    def qualified_share(self) -> float:
        """Share of all actions delivered so far that needed a qualification."""
        return self.qualified_delivered / self.delivered if self.delivered else 0.0
