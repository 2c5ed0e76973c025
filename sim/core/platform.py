"""The platform's economics.

Moderators' wages, base advertising profit, paid promotion, and advertising revenue that
follows the net reach of surviving engagement.

Every amount is an exact integer: base profit and engagement revenue accrue as exact
fractions and the ledger is paid the change in their integer part each hour.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import numpy as np

from sim.core import rules
from sim.core.ledger import WORLD, Ledger
from sim.core.market import Market
from sim.core.records import GenuineActions, PlatformHour, WorkHour
from sim.scenario.load import to_minor
from sim.scenario.schema import ACTION_TYPES, Scenario, moderator_capacity


class Platform:
    """The social platform's ledger account and revenue."""

    def __init__(self, scenario: Scenario, ledger: Ledger) -> None:
        self.scenario, self.ledger = scenario, ledger
        p = scenario.platform
        self.scale = scale = scenario.currency.minor_units
        self.account = int(ledger.open_accounts("platform", [p.name])[0])
        self.moderator_accounts = ledger.open_block("moderators", moderator_capacity(scenario))
        self.wage = to_minor(p.moderation.wage_per_hour, scale)
        self.cpm = to_minor(p.revenue_per_1000_impressions, scale)
        # reach per action as an exact fraction of its decimal value in the scenario
        self.reach = [Fraction(Decimal(repr(scenario.actions[a].reach))) for a in ACTION_TYPES]
        self.reach_float = np.array([scenario.actions[a].reach for a in ACTION_TYPES])
        # the same fractions over one common denominator, so that the running net reach
        # is an exact integer count of 1/denominator units (integer sums, no Fractions)
        self._reach_denominator = math.lcm(*(r.denominator for r in self.reach))
        self._reach_units = [int(r * self._reach_denominator) for r in self.reach]
        self._net_reach_units = 0
        self.base_paid = 0
        self.engagement_paid = 0
        self._base_profit = p.users * to_minor(p.ad_profit_per_user_per_quarter, scale)
        self._wages = np.zeros(0, dtype=np.int64)  # one wage per employed moderator
        self._delivered: tuple[WorkHour | None, np.ndarray] = (None, np.zeros(0))

    @property
    def net_reach(self) -> Fraction:
        """Surviving engagement's reach so far, exactly."""
        return Fraction(self._net_reach_units, self._reach_denominator)

    def _delivered_by_type(self, work: WorkHour) -> np.ndarray:
        """Actions delivered this hour per type (summed once per hour)."""
        if self._delivered[0] is not work:
            total = sum((d.by_type for d in work.deliveries), np.zeros(len(ACTION_TYPES), np.int64))
            self._delivered = (work, total)
        return self._delivered[1]

    def revenue_per_action(self, work: WorkHour) -> float:
        """Engagement ad revenue one of this hour's delivered actions brings (ledger units)."""
        # as floats, as they were summed before (exact: integer counts)
        delivered = self._delivered_by_type(work).astype(np.float64)
        n = float(delivered.sum())
        return float(delivered @ self.reach_float) * self.cpm / 1000 / n if n else 0.0

    def step(
        self,
        hour: int,
        work: WorkHour,
        removed_by_type: np.ndarray,
        market: Market,
        moderators: int,
        genuine: GenuineActions | None = None,
        genuine_removed: np.ndarray | None = None,
    ) -> PlatformHour:
        """Wages, base profit, promotion and engagement revenue for one hour.

        Genuine users' actions (when the scenario has them) earn engagement revenue like
        surviving fake ones; those moderators remove take it back and count as lost.
        """
        led, record = self.ledger, PlatformHour()
        if moderators:
            if self._wages.size != moderators:
                self._wages = np.full(moderators, self.wage, dtype=np.int64)
            led.pay_many(
                "money",
                self.account,
                self.moderator_accounts[:moderators],
                self._wages,
                "moderator wages",
            )
        # base advertising profit of the platform's users, paid exactly over the quarter
        owed = self._base_profit * (hour + 1) // rules.HOURS_PER_QUARTER
        led.transfer("money", WORLD, self.account, owed - self.base_paid, "base ad revenue")
        self.base_paid = owed
        net = self._delivered_by_type(work) - removed_by_type
        record.reach_organic = float(net @ self.reach_float)
        promoted = 0.0
        for o in market.open_orders:
            if o.promotion_per_day and hour < o.end:
                # an exact daily budget spread over 24 hours (integer shares summing to it)
                hod = (hour - o.start) % 24
                per_hour = o.promotion_per_day * (hod + 1) // 24 - o.promotion_per_day * hod // 24
                led.transfer("money", o.client_account, self.account, per_hour, "promotion", o.tag)
                o.spent += per_hour
                o.promotion_spent += per_hour
                if self.cpm:
                    promoted += per_hour * 1000 / self.cpm
        record.reach_promoted = promoted
        # revenue follows net reach: removals in a later hour take their share back
        if genuine is not None:
            net = net + self._genuine_net(genuine, genuine_removed, record)
        self._net_reach_units += sum(
            int(n) * r for n, r in zip(net.tolist(), self._reach_units, strict=True)
        )
        # floor(net reach x cpm / 1000), exactly
        owed_engagement = self._net_reach_units * self.cpm // (self._reach_denominator * 1000)
        change = owed_engagement - self.engagement_paid
        if change >= 0:
            led.transfer("money", WORLD, self.account, change, "engagement ad revenue")
        else:
            led.transfer("money", self.account, WORLD, -change, "engagement ad revenue reversed")
        self.engagement_paid = owed_engagement
        record.ad_revenue_engagement = change
        return record

    def _genuine_net(
        self, genuine: GenuineActions, removed: np.ndarray, record: PlatformHour
    ) -> np.ndarray:
        """Genuine actions that stand this hour, per type; notes the revenue removals cost."""
        record.genuine_revenue_lost = float(removed @ self.reach_float) * self.cpm / 1000
        return genuine.by_type - removed
