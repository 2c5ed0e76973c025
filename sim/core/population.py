"""Per-agent state as numpy arrays: the vectorised core the Mesa agents are views of."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.scenario.load import to_minor
from sim.scenario.schema import Scenario, Spread


def draw_spread(rng: np.random.Generator, spread: Spread, n: int) -> np.ndarray:
    """Log-normal draws with the given mean and coefficient of variation (cv=0: constant)."""
    if spread.cv == 0 or n == 0:
        return np.full(n, spread.mean, dtype=np.float64)
    sigma2 = np.log1p(spread.cv**2)
    mu = np.log(spread.mean) - sigma2 / 2
    return rng.lognormal(mu, np.sqrt(sigma2), n)


@dataclass
class Workers:
    """One row per micro-worker or bot (bots have ``is_bot`` set)."""

    group: np.ndarray
    region: np.ndarray
    market: np.ndarray  # index of the leaf recruiter whose tasks the worker sees
    community: np.ndarray  # influencer index, or -1 outside influencer networks
    is_bot: np.ndarray
    speed: np.ndarray
    activity: np.ndarray
    search_minutes: np.ndarray
    session_minutes: np.ndarray
    reservation: np.ndarray  # ledger units per hour
    w_money: np.ndarray
    w_points: np.ndarray
    w_conviction: np.ndarray
    point_value: np.ndarray  # ledger units per point
    conviction_value: np.ndarray  # ledger units per hour
    fatigue_per_hour: np.ndarray
    recovery_per_hour: np.ndarray
    reopen_probability: np.ndarray  # per hour
    fatigue: np.ndarray
    active_account: np.ndarray  # current account row, -1 when every account is banned
    accounts_alive: np.ndarray
    # cumulative outcomes
    tasks_done: np.ndarray
    actions_removed: np.ndarray
    hours_online: np.ndarray
    hours_unpaid: np.ndarray
    points: np.ndarray
    active_now: np.ndarray
    enrolled: np.ndarray  # in the workforce now (turnover: the reserve starts outside)

    @property
    def size(self) -> int:
        """Number of workers (rows)."""
        return int(self.group.size)


class Accounts:
    """Platform accounts: owner, age, trust, strikes, banned. Grows when workers re-open.

    ``retired`` marks an account its owner gave up to the account market (it is also
    ``banned`` for its owner, so nothing acts from it, but no platform banned it).
    """

    def __init__(self, owner: np.ndarray, age_hours: np.ndarray, trust: np.ndarray) -> None:
        n = owner.size
        cap = max(16, int(n * 1.25))
        self.n = n
        self._owner = np.full(cap, -1, dtype=np.int64)
        self._age = np.zeros(cap)
        self._trust = np.zeros(cap)
        self._strikes = np.zeros(cap, dtype=np.int64)
        self._banned = np.zeros(cap, dtype=bool)
        self._retired = np.zeros(cap, dtype=bool)
        self._owner[:n], self._age[:n], self._trust[:n] = owner, age_hours, trust

    owner = property(lambda self: self._owner[: self.n])
    age_hours = property(lambda self: self._age[: self.n])
    trust = property(lambda self: self._trust[: self.n])
    strikes = property(lambda self: self._strikes[: self.n])
    banned = property(lambda self: self._banned[: self.n])
    retired = property(lambda self: self._retired[: self.n])

    def add(self, owners: np.ndarray, trust: np.ndarray) -> np.ndarray:
        """Open new accounts (age 0, no strikes, not banned), growing the arrays when full.

        Args:
            owners: The worker who owns each new account.
            trust: Each new account's trust.

        Returns:
            The rows of the new accounts.
        """
        k = owners.size
        if self.n + k > self._owner.size:
            cap = max(self.n + k, 2 * self._owner.size)
            for name in ("_owner", "_age", "_trust", "_strikes", "_banned", "_retired"):
                old = getattr(self, name)
                new = np.zeros(cap, dtype=old.dtype)
                new[: self.n] = old[: self.n]
                setattr(self, name, new)
        rows = np.arange(self.n, self.n + k)
        self._owner[rows], self._age[rows], self._trust[rows] = owners, 0.0, trust
        self._strikes[rows], self._banned[rows], self._retired[rows] = 0, False, False
        self.n += k
        return rows


def build_population(
    s: Scenario,
    rng: np.random.Generator,
    leaf_index: dict[str, int],
    influencer_offset: dict[str, int],
) -> tuple[Workers, Accounts]:
    """Draw every worker and account of a scenario.

    Groups are laid out in scenario order, one row per worker; each worker gets at least
    one account and acts from its first.

    Args:
        s: The validated scenario.
        rng: The model's generator (the only source of randomness here).
        leaf_index: Market index of each leaf recruiter, by recruiter id.
        influencer_offset: First influencer index of each influencer network, by recruiter id.

    Returns:
        The workers' state arrays and their platform accounts.
    """
    scale = s.currency.minor_units
    region_ids = list(s.regions)
    recruiters = {r.id: r for r in s.recruiters}
    cols: dict[str, list[np.ndarray]] = {}

    def put(name: str, values: np.ndarray) -> None:
        cols.setdefault(name, []).append(values)

    account_owner, account_age, account_trust = [], [], []
    start = 0
    for gi, g in enumerate(s.workers):
        n = g.rows  # with turnover, its reserve rows follow the starting workers
        region = s.regions[g.region]
        bot = g.kind == "bot"
        put("group", np.full(n, gi, dtype=np.int64))
        put("region", np.full(n, region_ids.index(g.region), dtype=np.int64))
        put("market", np.full(n, leaf_index[g.recruiter], dtype=np.int64))
        rec = recruiters[g.recruiter]
        if rec.influencers is not None:
            k = rec.influencers.count
            weights = (
                np.arange(1, k + 1, dtype=np.float64)
            ) ** -rec.influencers.community_size_exponent
            community = rng.choice(k, size=n, p=weights / weights.sum())
            put("community", influencer_offset[rec.id] + community.astype(np.int64))
        else:
            put("community", np.full(n, -1, dtype=np.int64))
        put("is_bot", np.full(n, bot))
        put("speed", draw_spread(rng, g.speed, n))
        put("activity", np.ones(n) if bot else np.clip(draw_spread(rng, g.activity, n), 0, 1))
        put("search_minutes", np.full(n, 0.0 if bot else g.search_minutes_per_task))
        put("session_minutes", np.full(n, 60.0 if bot else g.session_minutes))
        wage = float(to_minor(region.reservation_wage_per_hour, scale))
        put(
            "reservation",
            np.zeros(n) if bot else wage * draw_spread(rng, Spread(mean=1, cv=0.3), n),
        )
        m = g.motivation
        put("w_money", np.full(n, m.money))
        put("w_points", np.full(n, m.points))
        put("w_conviction", np.full(n, m.conviction))
        put("point_value", np.full(n, float(to_minor(m.point_value, scale))))
        put(
            "conviction_value",
            float(to_minor(m.conviction_value_per_hour, scale))
            * draw_spread(rng, Spread(mean=1, cv=0.5 if m.conviction else 0), n),
        )
        put("fatigue_per_hour", np.full(n, 0.0 if bot else g.fatigue_per_hour))
        put("recovery_per_hour", np.full(n, g.recovery_per_hour))
        put(
            "reopen_probability",
            np.full(n, 1 - (1 - g.accounts.reopen_probability_per_day) ** (1 / 24)),
        )
        per_worker = np.maximum(1, np.rint(draw_spread(rng, g.accounts.per_worker, n))).astype(
            np.int64
        )
        if g.accounts_from is not None:
            per_worker[:] = 0  # they act from the profiles their campaign buys
        owners = np.repeat(np.arange(start, start + n, dtype=np.int64), per_worker)
        account_owner.append(owners)
        account_age.append(draw_spread(rng, g.accounts.age_days, owners.size) * 24)
        account_trust.append(np.full(owners.size, g.accounts.trust))
        put("accounts_alive", per_worker)
        put("enrolled", np.arange(n) < g.count)
        start += n

    def cat(name: str, dtype=None) -> np.ndarray:
        parts = cols.get(name, [])
        out = np.concatenate(parts) if parts else np.zeros(0)
        return out.astype(dtype) if dtype is not None else out

    total = start
    accounts = Accounts(
        cat_list(account_owner, np.int64),
        cat_list(account_age, float),
        cat_list(account_trust, float),
    )
    alive = cat("accounts_alive", np.int64)
    first_account = (
        np.concatenate([[0], np.cumsum(alive)[:-1]]).astype(np.int64) if total else alive
    )
    first_account[alive == 0] = -1  # no account yet (accounts_from groups)
    workers = Workers(
        group=cat("group", np.int64),
        region=cat("region", np.int64),
        market=cat("market", np.int64),
        community=cat("community", np.int64),
        is_bot=cat("is_bot", bool),
        speed=cat("speed", float),
        activity=cat("activity", float),
        search_minutes=cat("search_minutes", float),
        session_minutes=cat("session_minutes", float),
        reservation=cat("reservation", float),
        w_money=cat("w_money", float),
        w_points=cat("w_points", float),
        w_conviction=cat("w_conviction", float),
        point_value=cat("point_value", float),
        conviction_value=cat("conviction_value", float),
        fatigue_per_hour=cat("fatigue_per_hour", float),
        recovery_per_hour=cat("recovery_per_hour", float),
        reopen_probability=cat("reopen_probability", float),
        fatigue=np.zeros(total),
        active_account=first_account,
        accounts_alive=alive,
        tasks_done=np.zeros(total, dtype=np.int64),
        actions_removed=np.zeros(total, dtype=np.int64),
        hours_online=np.zeros(total),
        hours_unpaid=np.zeros(total),
        points=np.zeros(total, dtype=np.int64),
        active_now=np.zeros(total, dtype=bool),
        enrolled=cat("enrolled", bool),
    )
    return workers, accounts


def cat_list(parts: list[np.ndarray], dtype) -> np.ndarray:
    """Concatenate arrays into one of ``dtype`` (an empty array when there are none)."""
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)
