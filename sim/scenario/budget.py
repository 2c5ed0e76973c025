"""What a run will need, known before it starts: its sizes, its peak memory, its largest sum.

Validation calls :func:`check_budget`: a scenario whose sizes exceed the whole-scenario
limits, or whose money could overflow the ledger's 64-bit integers, is refused with the
figure. ``clickfarm run`` also calls :func:`check_memory`, which refuses a run whose
estimated peak memory exceeds what the machine has free (or ``--max-memory``).

The memory figures were measured (peak resident memory of whole ``clickfarm run``
processes, results and figures written, Python 3.11, numpy 2) and rounded up with room
to spare; ``benchmarks/bench_estimate.py`` measures them again and prints estimate
against measurement.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from sim.scenario.errors import ScenarioError
from sim.scenario.schema import (
    MAX_PLACEMENTS,
    MAX_TOTAL_WORKERS,
    Campaign,
    Scenario,
    moderator_capacity,
)

INT64_MAX = 2**63 - 1
HOURS_PER_QUARTER = 2190  # 365 days / 4, in hours: the base ad revenue accrues over it
MONEY_HEADROOM = 2
"""Money may pass through one more pair of hands than today's flows show (escrow, refunds,
refills): the bound is doubled so that such flows stay inside it."""

MIB = 1024 * 1024
BASE_BYTES = 320 * MIB
"""Interpreter, libraries, and writing results and figures: measured 260-290 MiB."""
BYTES_PER_WORKER = 1_600
"""Worker arrays, its Mesa agent, ledger row and results row: measured 1,150."""
BYTES_PER_ACCOUNT = 96
"""Per expected account, counted twice (banned accounts reopen): measured 45."""
BYTES_PER_INFLUENCER = 1_400
"""Measured 1,035."""
BYTES_PER_MODERATOR = 1_300
"""Measured 920."""
BYTES_PER_STEP = 4_096
"""One hour's recorded metrics: measured 2,900."""
BYTES_PER_POOL = 3_500
"""One order's share for one leaf recruiter (an order has one per leaf below it): 2,600."""
BYTES_PER_TIE = 500
"""One expected follower tie while networkx builds the graph (its peak): measured 350."""


@dataclass(frozen=True)
class Sizes:
    """How big a run is: what its memory and its money grow with."""

    workers: int
    accounts: int  # expected accounts at the start (at least one per worker)
    influencers: int
    moderators: int
    steps: int
    placements: int  # orders placed over the run, repeats included
    pools: int  # order shares handed to leaf recruiters, over all placements
    ties: int = 0  # expected follower ties of all follower networks


@dataclass(frozen=True)
class MemoryEstimate:
    """The estimated peak memory of a run, in bytes, and what it is made of."""

    total: int
    parts: dict[str, int]

    def text(self) -> str:
        """``about 1.2 GiB`` as people read it."""
        return f"about {human_bytes(self.total)}"


def human_bytes(n: float) -> str:
    """``512 MiB``, ``3.4 GiB``."""
    if n < 1024**3:
        return f"{n / MIB:,.0f} MiB"
    return f"{n / 1024**3:,.1f} GiB"


def placements_of(c: Campaign, steps: int) -> int:
    """How many orders campaign ``c`` places in a run of ``steps`` hours (as the model does)."""
    if c.start_hour >= steps:
        return 0
    if c.repeat is None:
        return 1
    fits = -(-(steps - c.start_hour) // c.repeat.every_hours)
    return min(fits, c.repeat.times or fits)


def _leaves_below(s: Scenario) -> dict[str, int]:
    """How many leaf recruiters sit below (or are) each recruiter."""
    children: dict[str, list[str]] = {r.id: [] for r in s.recruiters}
    for r in s.recruiters:
        if r.parent in children:
            children[r.parent].append(r.id)

    def count(rid: str, seen: frozenset[str]) -> int:
        kids = [k for k in children[rid] if k not in seen]
        return 1 if not kids else sum(count(k, seen | {rid}) for k in kids)

    return {r.id: count(r.id, frozenset()) for r in s.recruiters}


def sizes(s: Scenario) -> Sizes:
    """The sizes of a validated scenario's run."""
    steps = s.steps
    leaves = _leaves_below(s)
    placed = [placements_of(c, steps) for c in s.campaigns]
    return Sizes(
        workers=sum(g.rows for g in s.workers),  # with turnover reserves
        accounts=sum(
            math.ceil(g.rows * (max(1.0, g.accounts.per_worker.mean) + 0.5)) for g in s.workers
        ),
        influencers=sum(r.influencers.count for r in s.recruiters if r.influencers),
        moderators=s.platform.moderation.moderators,
        steps=steps,
        placements=sum(placed),
        pools=sum(n * leaves.get(c.recruiter, 1) for n, c in zip(placed, s.campaigns, strict=True)),
        ties=sum(
            int(
                r.influencers.network.expected_ties(
                    sum(g.count for g in s.workers if g.recruiter == r.id)
                )
            )
            for r in s.recruiters
            if r.influencers and r.influencers.network
        ),
    )


def estimate_memory(s: Scenario) -> MemoryEstimate:
    """Peak memory of ``clickfarm run`` for this scenario (an upper estimate)."""
    z = sizes(s)
    parts = {
        "base": BASE_BYTES,
        "workers": z.workers * BYTES_PER_WORKER,
        "accounts": 2 * z.accounts * BYTES_PER_ACCOUNT,
        "influencers": z.influencers * BYTES_PER_INFLUENCER,
        "moderators": z.moderators * BYTES_PER_MODERATOR,
        "steps": z.steps * BYTES_PER_STEP,
        "orders": z.pools * BYTES_PER_POOL,
        "follower ties": z.ties * BYTES_PER_TIE,
    }
    return MemoryEstimate(total=sum(parts.values()), parts=parts)


def available_memory() -> int | None:
    """Bytes this process could still allocate: free memory, within any cgroup limit."""
    figures = []
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    figures.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError):
        pass
    try:
        with open("/sys/fs/cgroup/memory.max", encoding="ascii") as f:
            limit = f.read().strip()
        with open("/sys/fs/cgroup/memory.current", encoding="ascii") as f:
            used = int(f.read().strip())
        if limit.isdigit():
            figures.append(int(limit) - used)
    except (OSError, ValueError):
        pass
    if not figures and hasattr(os, "sysconf"):
        with contextlib.suppress(OSError, ValueError):
            figures.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    return min(figures) if figures else None


def check_memory(
    s: Scenario, limit: int | None = None, *, file: str | None = None
) -> MemoryEstimate:
    """The estimate, or a ScenarioError when it exceeds ``limit`` (default: free memory)."""
    estimate = estimate_memory(s)
    given = limit is not None
    limit = limit if given else available_memory()
    if limit is not None and estimate.total > limit:
        what = "the --max-memory limit" if given else "the memory available now"
        largest = max((k for k in estimate.parts if k != "base"), key=estimate.parts.__getitem__)
        raise ScenarioError(
            f"this run needs {estimate.text()} of memory, more than {what} "
            f"({human_bytes(limit)}); most of it for its {largest}: expected a smaller run",
            file=file,
            field=largest if largest in ("workers", "steps") else None,
        )
    return estimate


def parse_bytes(text: str) -> int:
    """``--max-memory`` values: ``2G``, ``512M``, ``1.5GiB``, ``1000000`` (bytes)."""
    units = {"": 1, "K": 1024, "M": MIB, "G": 1024**3, "T": 1024**4}
    raw = text.strip().upper().removesuffix("IB").removesuffix("B")
    number, unit = (raw[:-1], raw[-1]) if raw[-1:] in units and raw[-1:] else (raw, "")
    try:
        value = float(number) * units[unit]
    except (KeyError, ValueError):
        raise ScenarioError(
            f"--max-memory {text!r}: expected a size such as 2G, 512M or 1500000000",
            file="command line",
        ) from None
    if not 0 < value < 2**63:
        raise ScenarioError(f"--max-memory {text!r}: expected a size > 0", file="command line")
    return int(value)


# ------------------------------------------------------------------------------ money
def _units(amount: Decimal, scale: int) -> int:
    return int(amount * scale)


def money_bound(s: Scenario) -> dict[tuple, int]:
    """An upper bound on all money a run can move, in ledger units, by where it comes from.

    Every balance and every flow total is at most the sum of all transfers, so when the
    sum of these parts fits an int64 nothing in the ledger can overflow. Keys are the
    field locations that drive each part (for naming the field in an error).
    """
    scale = s.currency.minor_units
    steps = s.steps
    rate_card_max = max(
        (
            _units(v, scale)
            for r in s.recruiters
            for card in (r.charges, r.pays, r.influencers.pay_per_action if r.influencers else {})
            for v in card.values()
        ),
        default=0,
    )
    max_reach = max((a.reach for a in s.actions.values()), default=0.0)
    cpm = _units(s.platform.revenue_per_1000_impressions, scale)
    parts: dict[tuple, int] = {}
    for i, c in enumerate(s.campaigns):
        placed = placements_of(c, steps)
        actions = sum(c.actions.values())
        ordered = sum(
            q * _units(c.price_per_action.get(a, Decimal(0)), scale) for a, q in c.actions.items()
        )
        promotion = _units(c.promotion_per_day, scale) * -(-c.deadline_hours // 24)
        # the budget comes in and what is unspent goes back; each action pays every level
        # of the recruiter chain, the worker and an influencer at most the largest rate
        # escrow and held pay move the same money twice more (in, then out or back)
        per_order = 4 * (ordered + promotion) + 3 * actions * rate_card_max * (
            len(s.recruiters) + 2
        )
        reach = 2 * math.ceil(actions * max_reach * cpm / 1000)  # earned, and taken back
        orders = placed * (1 + (c.max_reorders if c.reorder else 0))  # re-orders place again
        parts[("campaigns", i)] = orders * (per_order + reach)
    # capital can be paid out again and again as refills are delivered and refunded
    capital = sum(_units(r.capital, scale) for r in s.recruiters)
    parts[("recruiters", "capital")] = 4 * capital * max(1, len(s.recruiters))
    software = sum(_units(r.software_cost, scale) for r in s.recruiters)
    parts[("recruiters",)] = software * max(1, sum(placements_of(c, steps) for c in s.campaigns))
    mod = s.platform.moderation
    parts[("platform", "moderation", "wage_per_hour")] = (
        moderator_capacity(s) * _units(mod.wage_per_hour, scale) * steps
    )
    profit = s.platform.users * _units(s.platform.ad_profit_per_user_per_quarter, scale)
    parts[("platform", "ad_profit_per_user_per_quarter")] = (
        profit * (steps + 1) // HOURS_PER_QUARTER + 1
    )
    return parts


def points_bound(s: Scenario) -> int:
    """An upper bound on the points a run can issue (their own int64 ledger)."""
    most = max((p for r in s.recruiters for p in r.points.values()), default=0)
    actions = sum(placements_of(c, s.steps) * sum(c.actions.values()) for c in s.campaigns)
    return most * 3 * actions  # urgency multiplies points by at most 3


def check_budget(s: Scenario, fail: Callable[[tuple, str], None]) -> None:
    """Refuse, through ``fail(location, message)``, what no run could hold."""
    z = sizes(s)
    if z.workers > MAX_TOTAL_WORKERS:
        fail(
            ("workers",),
            f"{z.workers:,} workers in all; expected at most {MAX_TOTAL_WORKERS:,} over all groups",
        )
    if z.placements > MAX_PLACEMENTS:
        worst = max(range(len(s.campaigns)), key=lambda i: placements_of(s.campaigns[i], z.steps))
        fail(
            ("campaigns", worst, "repeat"),
            f"the campaigns place {z.placements:,} orders over {s.days:g} days; expected at "
            f"most {MAX_PLACEMENTS:,} (repeat less often or for fewer times, or run shorter)",
        )
    parts = money_bound(s)
    total = MONEY_HEADROOM * sum(parts.values())
    if total > INT64_MAX:
        where = max(parts, key=parts.__getitem__)
        fail(
            where,
            f"money in this run could reach {total:,} ledger units, more than the ledger's "
            f"64-bit integers hold ({INT64_MAX:,}); expected smaller amounts or a smaller "
            "currency.minor_units",
        )
    if points_bound(s) > INT64_MAX:
        fail(
            ("recruiters",),
            f"points in this run could reach {points_bound(s):,}, more than the ledger holds "
            f"({INT64_MAX:,}); expected fewer points per action or smaller targets",
        )
