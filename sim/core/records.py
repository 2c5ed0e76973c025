"""Typed records of what each phase of an hour did, passed between components.

Each component returns one of these from its phase; the metrics read them. Nothing here
holds state beyond the hour it describes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from sim.scenario.schema import ACTION_TYPES

if TYPE_CHECKING:
    from sim.core.events import Applied
    from sim.core.market import Order, Pool

K = len(ACTION_TYPES)


def zeros_k() -> np.ndarray:
    """A zero count per action type."""
    return np.zeros(K, dtype=np.int64)


@dataclass
class Delivery:
    """Actions one group of workers delivered to one pool this hour."""

    order: Order
    pool: Pool
    who: np.ndarray  # rows of the workers who delivered at least one action
    done: np.ndarray  # actions per worker (each at least 1)
    counts: np.ndarray  # actions per worker and type (n x K)
    by_type: np.ndarray  # actions per type (K)
    refills: np.ndarray  # of ``by_type``, how many replaced removed actions (K)


@dataclass
class MarketHour:
    """Opening, closing, expiry and refusals of orders this hour."""

    placed_orders: int = 0
    ordered: int = 0
    refused: int = 0  # actions no recruiter would sell (price above the client's, or below cost)
    expired: int = 0  # actions still undelivered at an order's deadline
    reorders: int = 0


@dataclass
class WorkHour:
    """Who worked, what they delivered, and how their time was spent."""

    deliveries: list[Delivery] = field(default_factory=list)
    delivered: int = 0
    refills: int = 0
    active_workers: int = 0
    work_minutes: float = 0.0  # humans only, all task time
    search_minutes: float = 0.0  # finding each task done
    wait_minutes: float = 0.0  # looking and finding nothing
    unpaid_hours: float = 0.0
    points_only_actions: np.ndarray = field(default_factory=zeros_k)


@dataclass
class ModerationHour:
    """Flags, reviews, removals and bans this hour."""

    flagged: int = 0
    reviewed: int = 0
    removed: int = 0
    banned: int = 0
    queue: int = 0
    removed_by_type: np.ndarray = field(default_factory=zeros_k)
    removed_by_pool: dict[int, np.ndarray] = field(default_factory=dict)
    banned_accounts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    genuine_flagged: int = 0  # of the genuine users' actions (``sim/core/organic.py``)
    genuine_reviewed: int = 0
    genuine_removed: int = 0
    genuine_banned: int = 0
    genuine_removed_by_type: np.ndarray = field(default_factory=zeros_k)


@dataclass
class GenuineActions:
    """What the genuine users did this hour: per open order, who acted and how often."""

    orders: list[Order] = field(default_factory=list)
    accounts: list[np.ndarray] = field(default_factory=list)  # genuine account rows, per order
    counts: list[np.ndarray] = field(default_factory=list)  # actions per account, per order
    by_type: np.ndarray = field(default_factory=zeros_k)  # all orders, per action type
    purged: int = 0  # genuine accounts this hour's purges banned

    @property
    def total(self) -> int:
        """Genuine actions this hour."""
        return int(self.by_type.sum())


@dataclass
class PlatformHour:
    """The platform's reach and advertising revenue this hour."""

    reach_organic: float = 0.0
    reach_promoted: float = 0.0
    ad_revenue_engagement: int = 0
    genuine_revenue_lost: float = 0.0  # ad revenue of genuine actions removed (ledger units)


@dataclass
class WorkforceUpdate:
    """Accounts re-opened and pay released or withheld at the end of the hour."""

    accounts_opened: int = 0
    pay_released: int = 0
    pay_withheld: int = 0


@dataclass
class TurnoverHour:
    """Workers who joined and left this hour (at a day's end) and the activity tiers."""

    joined: int = 0
    left: int = 0
    tier_counts: np.ndarray = field(default_factory=lambda: np.zeros(3, dtype=np.int64))
    """Enrolled people per tier (very active, regular, occasional), as of the last day."""
    left_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """Worker rows that left this hour (their live accounts can go back on sale)."""


@dataclass
class AccountHour:
    """What the account market did this hour (all zero when the scenario has none)."""

    created: int = 0  # accounts the makers finished and listed
    started: int = 0  # accounts the makers started (listed ``creation_hours`` later)
    sold: int = 0  # accounts farms bought from the stock
    sold_aged: int = 0  # of ``sold``, bought by the buy_aged tactic
    bought_back: int = 0  # accounts farms no longer needed, sold back and relisted
    profiles: int = 0  # fake profiles a campaign bought that became accounts
    wanted: int = 0  # accounts buyers wanted from the stock
    stock: int = 0  # accounts for sale at the end of the hour
    sales: int = 0  # money farms paid for accounts (ledger units)
    profile_sales: int = 0  # money clients paid for the profiles (ledger units)
    buybacks: int = 0  # money resellers paid farms (ledger units)
    creation_cost: int = 0  # money makers spent starting accounts (ledger units)
    price_new: int = 0  # listed price of a new account now (ledger units)
    price_mean: float = 0.0  # mean listed price of the stock now (ledger units)
    scarcity: float = 1.0


@dataclass
class HourRecord:
    """Everything one hour did, phase by phase."""

    hour: int
    events: list[Applied]
    market: MarketHour
    work: WorkHour
    moderation: ModerationHour
    platform: PlatformHour
    update: WorkforceUpdate
    genuine: GenuineActions | None = None
    turnover: TurnoverHour = field(default_factory=TurnoverHour)
    accounts: AccountHour | None = None
