"""Genuine users: the organic audience that acts on the same targets as the campaigns.

The audience is a block of arrays (one row per genuine account), not one object per user.
Each hour every open order's target receives genuine actions; the detector scores them
with the same signals as fake ones (``Moderation``), and moderators who review them may
remove them by mistake (``false_positive_rate``). Removed genuine actions and banned
genuine accounts are the platform's false positives (docs/ODD.md 7.26).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.core.market import Market
from sim.core.population import draw_spread
from sim.core.records import GenuineActions, zeros_k
from sim.scenario.schema import Event, GenuineUsers, Scenario

if TYPE_CHECKING:
    from sim.core.events import Applied


class Audience:
    """The genuine accounts: their age, trust, activity, strikes and bans."""

    def __init__(self, spec: GenuineUsers, rng: np.random.Generator) -> None:
        n = spec.accounts
        self.size = n
        self.age_hours = draw_spread(rng, spec.age_days, n) * 24
        self.trust = np.clip(rng.normal(spec.trust, spec.trust_sd, n), 0.0, 1.0)
        self.activity = draw_spread(rng, spec.activity, n)
        self.strikes = np.zeros(n, dtype=np.int64)
        self.banned = np.zeros(n, dtype=bool)
        self.standing = zeros_k()  # genuine actions not (yet) removed, per type
        self.purged_this_hour = 0  # genuine accounts banned by this hour's purges
        self._cdf = self._activity_cdf()

    def _activity_cdf(self) -> np.ndarray:
        weight = np.where(self.banned, 0.0, self.activity)
        total = weight.sum()
        return np.cumsum(weight) / total if total > 0 else np.zeros(self.size)

    def act(self, hour: int, market: Market, rng: np.random.Generator) -> GenuineActions:
        """This hour's genuine actions on every order open now (start <= hour < end).

        Each target gets Poisson(organic_actions_per_hour) actions, typed in the order's
        proportions, from live accounts drawn in proportion to their activity.
        """
        out = GenuineActions(purged=self.purged_this_hour)
        self.purged_this_hour = 0
        self.age_hours += 1.0
        if not self._cdf.size or self._cdf[-1] <= 0:
            return out
        for o in market.open_orders:
            if not (o.start <= hour < o.end) or o.organic_per_hour <= 0:
                continue
            total = int(rng.poisson(o.organic_per_hour))
            if total == 0:
                continue
            who, counts = self._draw_accounts(total, rng)
            shares = o.quantities / o.quantities.sum() if o.quantities.sum() else None
            by_type = rng.multinomial(total, shares) if shares is not None else zeros_k()
            out.orders.append(o)
            out.accounts.append(who)
            out.counts.append(counts.astype(np.int64))
            out.by_type = out.by_type + by_type
        self.standing += out.by_type
        return out

    def _draw_accounts(self, total: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        """Which live accounts make ``total`` actions, and how many each (memory O(accounts)).

        Few actions: one draw per action from the activity distribution; more actions than
        accounts: one multinomial over the accounts, so memory never grows with ``total``.
        """
        if total <= self.size:
            draws = np.searchsorted(self._cdf, rng.random(total), side="right")
            who, counts = np.unique(np.minimum(draws, self.size - 1), return_counts=True)
            return who, counts
        p = np.diff(self._cdf, prepend=0.0)
        counts = rng.multinomial(total, np.clip(p, 0.0, None) / p.sum())
        who = np.flatnonzero(counts)
        return who, counts[who]

    def review(
        self,
        accounts: np.ndarray,
        removed: np.ndarray,
        strikes_to_ban: int,
        rng: np.random.Generator,
    ) -> tuple[np.ndarray, int]:
        """Apply moderators' wrong removals: strikes, halved trust and bans, as for fakes.

        Args:
            accounts: genuine account rows of the reviewed entries.
            removed: actions removed per entry.
            strikes_to_ban: removals after which an account is banned.
            rng: the model's generator (to type the removed actions).

        Returns:
            Removed genuine actions per type, and how many accounts were newly banned.
        """
        n = min(int(removed.sum()), int(self.standing.sum()))
        by_type = zeros_k()
        if n > 0:
            by_type = rng.multivariate_hypergeometric(self.standing, n, method="marginals")
            self.standing -= by_type
        hit = removed > 0
        struck, where = np.unique(accounts[hit], return_inverse=True)
        strikes = np.bincount(where, weights=removed[hit], minlength=struck.size).astype(np.int64)
        live = ~self.banned[struck]
        struck, strikes = struck[live], strikes[live]
        self.strikes[struck] += strikes
        self.trust[struck] *= 0.5
        newly = struck[self.strikes[struck] >= strikes_to_ban]
        if newly.size:
            self.banned[newly] = True
            self._cdf = self._activity_cdf()  # a banned user acts no more
        return by_type, int(newly.size)

    def purge(self, trust_below: float) -> int:
        """A platform purge bans genuine accounts below the trust threshold too."""
        hit = ~self.banned & (self.trust < trust_below)
        n = int(hit.sum())
        if n:
            self.banned[hit] = True
            self._cdf = self._activity_cdf()
        return n

    def apply_purges(self, applied: list[Applied], events: list[Event]) -> int:
        """Apply this hour's purge events to the genuine accounts; returns how many it banned.

        ``events`` is the timeline's list: the scenario's events and any added live (a
        classroom lecturer's trigger).
        """
        threshold = {e.id: e.trust_below for e in events if e.kind == "purge"}
        self.purged_this_hour = sum(
            self.purge(threshold[a.id]) for a in applied if a.kind == "purge"
        )
        return self.purged_this_hour


def build_audience(scenario: Scenario, rng: np.random.Generator) -> Audience | None:
    """The scenario's organic audience, or None when it has no genuine users."""
    spec = scenario.platform.genuine_users
    return None if spec is None else Audience(spec, rng)
