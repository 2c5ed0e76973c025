"""Per-step metrics: what the model reports every hour.

The names are the columns of the time series, documented in docs/ODD.md "Observation".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from sim.core import rules
from sim.core.market import rate_card
from sim.core.records import zeros_k

if TYPE_CHECKING:
    from sim.core.model import ClickFarmModel

FALSE_POSITIVES = (
    "total_genuine_actions",
    "total_genuine_removed",
    "total_genuine_banned",
    "share_genuine_removed",
    "share_genuine_accounts_banned",
    "share_removals_genuine",
    "genuine_revenue_lost",
)
"""The running false-positive metrics (genuine users, docs/ODD.md 7.26), also in the summary."""

METRICS = (
    "hour",
    "day",
    "actions_ordered",
    "actions_delivered",
    "actions_refilled",
    "actions_expired",
    "actions_refused",
    "actions_flagged",
    "actions_reviewed",
    "actions_removed",
    "actions_surviving",
    "accounts_banned",
    "accounts_opened",
    "accounts_purged",
    "moderators_employed",
    "tactics_adopted",
    "active_workers",
    "client_spend",
    "income_recruiters",
    "income_influencers",
    "income_workers",
    "income_moderators",
    "income_platform",
    "points_issued",
    "total_ordered",
    "total_delivered",
    "total_expired",
    "total_refused",
    "total_refilled",
    "share_delivered",
    "total_removed",
    "total_surviving",
    "total_banned",
    "total_client_spend",
    "total_worker_income",
    "worker_share_of_spend",
    "recruiter_margin",
    "pay_index",
    "price_index",
    "removal_cost_clients",
    "removal_cost_recruiters",
    "removal_cost_workers",
    "workers_never_found_work",
    "hourly_pay_mean",
    "hourly_pay_median",
    "hourly_pay_p10",
    "hourly_pay_p90",
    "activity_gini",
    "top10_share_of_tasks",
    "cost_per_1000_surviving",
    "reach",
    "total_reach",
    "objectives_reached",
    "objectives_due",
    "unpaid_hours",
    "total_unpaid_hours",
    "total_hours_working",
    "total_hours_searching",
    "total_hours_waiting",
    "unpaid_value_at_market_wage",
    "points_only_actions",
    "points_cost_saved",
    "paid_twin_spend",
    "ad_revenue",
    "ad_revenue_from_engagement",
    "genuine_actions",
    "genuine_flagged",
    "genuine_reviewed",
    "genuine_removed",
    "genuine_accounts_banned",
    "genuine_accounts_purged",
    *FALSE_POSITIVES,
    "workers_enrolled",
    "workers_joined",
    "workers_left",
    "total_joined",
    "total_left",
    "share_very_active",
    "share_regular",
    "share_occasional",
    "mean_speed",
    "remembered_hourly_earnings",
    "share_qualified_tasks",
    "cascade_followers_reached",
    "cascade_actions",
    "total_cascade_actions",
    "share_from_cascades",
    "accounts_made",
    "accounts_sold",
    "accounts_for_sale",
    "account_price_new",
    "account_price_mean",
    "account_scarcity",
    "total_accounts_sold",
    "total_account_sales",
    "account_sales_share_of_spend",
    "bot_share_of_delivered",
)

_ACCOUNT_COUNTS = ("accounts_made", "accounts_sold", "accounts_for_sale", "total_accounts_sold")
NO_ACCOUNT_MARKET = {
    n: 0 if n in _ACCOUNT_COUNTS else 0.0 for n in METRICS[METRICS.index("accounts_made") :]
}
"""The account market's metrics in a scenario without one (read-only: it is shared)."""

SPEND_PURPOSES = ("order price", "promotion", "into escrow")


@dataclass
class RunConstants:
    """What the metrics read of a model that stays fixed for its run, gathered once.

    The pay a recruiter was typed with and the prices it first quoted are set when the
    market is built; so are the scenario's pricing rules and reference wage.
    """

    paid_cells: np.ndarray  # (recruiter, pay column) cells with a typed pay above zero
    typed_paid: np.ndarray  # the typed pay of those cells
    quoted_cells: np.ndarray  # cells of recruiters that quote clients, with a first quote
    reference_wage: float

    @classmethod
    def of(cls, model: ClickFarmModel) -> RunConstants:
        """The constants of ``model``'s run."""
        m = model.market
        typed = np.concatenate([m.typed_pay, m.typed_influencer_pay], axis=1)
        quoting = np.array(
            [r.parent is None and r.pricing.rule != "fixed" for r in model.spec.recruiters]
        )
        return cls(
            paid_cells=typed > 0,
            typed_paid=typed[typed > 0],
            quoted_cells=quoting[:, None] & (m.initial_quote > 0),
            reference_wage=float(model.spec.market_reference.wage_per_hour),
        )


@dataclass
class MetricState:
    """Running totals the metrics accumulate hour by hour."""

    delivered: int = 0
    refilled: int = 0
    removed: int = 0
    banned: int = 0
    spend: int = 0
    reach: float = 0.0
    unpaid_hours: float = 0.0
    points_only: np.ndarray = field(default_factory=zeros_k)
    genuine_actions: int = 0
    genuine_removed: int = 0
    genuine_banned: int = 0
    genuine_revenue_lost: float = 0.0  # ledger units
    cascade_actions: int = 0
    constants: RunConstants | None = None  # gathered at the first hour's metrics


def _spend(flows: dict) -> int:
    """Clients' money that left them this hour for the market, net of escrow refunds."""
    out = 0
    for (u, src, dst, purpose), amount in flows.items():
        if u != "money":
            continue
        if src == "clients" and purpose in SPEND_PURPOSES:
            out += amount
        elif dst == "clients" and purpose == "escrow refund":
            out -= amount
    return out


def delivered_unit_cost(model: ClickFarmModel) -> np.ndarray:
    """Per action type: what the model's clients paid per action delivered so far.

    Where nothing of a type was delivered, the current price quotes stand in.
    """
    paid, got = np.zeros(len(zeros_k())), np.zeros(len(zeros_k()))
    for o in model.orders:
        d = o.delivered
        paid += d * o.prices
        got += d
    # nothing of a type delivered: the price the paid alternative asks for it
    alt = model.spec.recruiters[-1]  # the twin appends its paid recruiter last
    moved = [c for c in model.spec.campaigns if c.recruiter == alt.id]
    ceiling = rate_card(moved[0].price_per_action if moved else {}, model.scale)
    asked = model.market.price_for(len(model.spec.recruiters) - 1, ceiling).astype(float)
    return np.where(got > 0, paid / np.maximum(got, 1), asked)


PAY_PERCENTILES = (10, 50, 90)


def pay_percentiles(values: np.ndarray) -> tuple[float, float, float]:
    """The 10th, 50th and 90th percentiles of ``values`` (zeros when there are none).

    Exactly ``np.percentile(values, [10, 50, 90])`` (its default linear method): the same
    order statistics (here from one sort) and the same interpolation, step by step, without
    its general machinery, which costs more than the sort on a few thousand values. (A
    -0.0 among the values may come out as 0.0 or the other way round: they sort as equals;
    pay per hour is never -0.0.)
    """
    if not values.size:
        return 0.0, 0.0, 0.0
    ordered = np.sort(values)
    if np.isnan(ordered[-1]):  # NaN sorts last; numpy's answer is then NaN
        return tuple(float(v) for v in np.percentile(values, PAY_PERCENTILES))
    last = values.size - 1
    out = []
    for percent in PAY_PERCENTILES:
        virtual = last * (percent / 100)  # numpy: (n - 1) * quantile
        below = math.floor(virtual)
        above = below + 1
        if virtual >= last:  # at the largest value: numpy takes it from index -1 twice
            below = above = -1
        a, b = float(ordered[below]), float(ordered[above])
        t = virtual - below
        diff = b - a
        # numpy's lerp: from the lower value, or from the upper one when t >= 0.5
        out.append(b - diff * (1 - t) if t >= 0.5 else a + diff * t)
    return out[0], out[1], out[2]


TOP_SHARE = 0.10
"""The share of the most active workers whose share of all tasks is reported."""


def task_inequality(tasks: np.ndarray, nonzero: np.ndarray) -> tuple[float, float]:
    """The Gini coefficient of tasks done and the top 10 %'s share of them.

    Exactly ``rules.gini`` and ``rules.top_share`` of the sorted counts, read from the
    workers who did any task (a few in a hundred): every sum those functions take in
    floating point adds whole numbers below 2**53, which is exact in any order, so the
    same sums are taken here in integers over the nonzero counts, with their ranks in
    the whole sorted array, and fed to the same final arithmetic.

    Args:
        tasks: Tasks done per worker (non-negative integers).
        nonzero: The nonzero ones, in any order.
    """
    n = tasks.size
    nonzero = np.sort(nonzero)
    m = nonzero.size
    largest = int(nonzero[-1]) if m else 0
    if tasks.dtype.kind not in "iu" or n * m * largest >= 2**53:  # sums may round: as rules
        ordered = np.sort(tasks).astype(np.float64)
        return (
            rules.gini(ordered, presorted=True),
            rules.top_share(ordered, TOP_SHARE, presorted=True),
        )
    total = int(nonzero.sum())
    if n == 0 or total <= 0:
        return 0.0, 0.0
    ranked = int(np.dot(np.arange(n - m + 1, n + 1, dtype=np.int64), nonzero))
    gini = float((2 * np.float64(ranked)) / (n * np.float64(total)) - (n + 1) / n)
    k = max(1, int(np.ceil(TOP_SHARE * n)))
    top = total if k >= m else int(nonzero[m - k :].sum())
    return gini, float(np.float64(top) / np.float64(total))


def _mean(values: np.ndarray) -> float:
    """``float(values.mean())`` of a non-empty array, without numpy's wrapper around it.

    For float64 values ``mean`` is their sum (the same pairwise ``add.reduce``) divided by
    their count, which is what this computes; other dtypes go through ``mean`` itself.
    """
    if values.dtype != np.float64:
        return float(values.mean())
    return float(values.sum() / values.size)


def _rows(rows: np.ndarray, pick: slice | np.ndarray) -> slice | np.ndarray:
    """Ledger rows of the picked workers: a slice when they are one unbroken block."""
    if isinstance(pick, slice) and rows.size and int(rows[-1] - rows[0]) == rows.size - 1:
        return slice(int(rows[0]), int(rows[-1]) + 1)
    return rows[pick]


def collect_step_metrics(model: ClickFarmModel) -> dict[str, float]:
    """The metrics of the hour just simulated (all zero before the first step)."""
    st, led, w, rec = model.metric_state, model.ledger, model.workers, model.record
    money = model.money
    flows = led.step_flows if rec is not None else {}
    net = led.tier_net("money", flows)
    spend = _spend(flows)
    if rec is not None:
        st.delivered += rec.work.delivered
        st.refilled += rec.work.refills
        st.removed += rec.moderation.removed
        st.banned += rec.moderation.banned
        st.spend += spend
        st.reach += rec.platform.reach_organic + rec.platform.reach_promoted
        st.unpaid_hours += rec.work.unpaid_hours
        st.points_only = st.points_only + rec.work.points_only_actions
        _accumulate_genuine(st, rec)
    m, wf = model.market, model.workforce
    surviving_total = st.delivered - st.removed
    # without bots every worker is a person: read whole arrays (views), not copies
    human = slice(None) if wf.human.size == w.size else wf.human
    earned = led.balances["money"][_rows(model.worker_accounts, human)]
    hours = w.hours_online[human]
    # pay per hour of those who did at least one task (as surveys of workers measure it);
    # people who only ever looked and found nothing are counted apart
    online = hours > 0
    tasks = w.tasks_done[human]
    did_rows = (tasks > 0).nonzero()[0]  # a few in a hundred: rows beat a scattered mask
    rows = did_rows[online[did_rows]]
    never_found = int(np.count_nonzero(online)) - rows.size  # online, and never did a task
    hourly = earned[rows] / (hours[rows] * model.scale)
    p10, median, p90 = pay_percentiles(hourly)
    worker_income_total = int(earned.sum())
    recruiter_income = sum(
        a if d == "recruiters" else -a
        for (u, s_, d, p), a in led.total_flows.items()
        if u == "money" and (d == "recruiters") != (s_ == "recruiters") and p != "capital"
    )
    ad_step = sum(
        a if d == "platform" else -a
        for (u, _s, d, p), a in flows.items()
        if u == "money" and p.startswith(("base ad revenue", "engagement ad revenue"))
    )
    activity_gini, top10_share = task_inequality(tasks, tasks[did_rows])
    due = [o for o in m.objective_orders if o.objective_reached or model.hour + 1 >= o.end]
    if st.constants is None:
        st.constants = RunConstants.of(model)
    fixed = st.constants
    pay_index = 1.0
    if fixed.typed_paid.size:
        posted = np.concatenate([m.posted_pay, m.influencer_pay], axis=1)
        pay_index = _mean(posted[fixed.paid_cells] / fixed.typed_paid)
    both = fixed.quoted_cells & (m.quote > 0)
    price_index = _mean(m.quote[both] / m.initial_quote[both]) if both.any() else 1.0
    twin = model.twin
    points_saved = 0.0
    twin_spend = 0.0
    if twin is not None:
        points_saved = money(int(round(float(st.points_only @ delivered_unit_cost(twin)))))
        twin_spend = money(twin.metric_state.spend)
    ref_wage = fixed.reference_wage
    cascade = model.influencers.cascade
    cascade_now = 0
    if cascade is not None and rec is not None:
        cascade_now = sum(cascade.cascade_actions(d.who, d.done) for d in rec.work.deliveries)
        st.cascade_actions += cascade_now
    c = rec
    accounts = _account_metrics(model, c, st.spend)
    return {
        "hour": model.steps,  # hours simulated so far: 0 is the state before the first hour
        "day": model.steps // 24,
        "actions_ordered": c.market.ordered if c else 0,
        "actions_delivered": c.work.delivered if c else 0,
        "actions_refilled": c.work.refills if c else 0,
        "actions_expired": c.market.expired if c else 0,
        "actions_refused": c.market.refused if c else 0,
        "actions_flagged": c.moderation.flagged if c else 0,
        "actions_reviewed": c.moderation.reviewed if c else 0,
        "actions_removed": c.moderation.removed if c else 0,
        "actions_surviving": (c.work.delivered - c.moderation.removed) if c else 0,
        "accounts_banned": c.moderation.banned if c else 0,
        "accounts_opened": c.update.accounts_opened if c else 0,
        "accounts_purged": sum(e.effect for e in c.events if e.kind == "purge") if c else 0,
        "moderators_employed": model.moderation.moderators,
        "tactics_adopted": int(m.tactics_adopted.sum()),
        "active_workers": c.work.active_workers if c else 0,
        "client_spend": money(spend),
        "income_recruiters": money(net.get("recruiters", 0)),
        "income_influencers": money(net.get("influencers", 0)),
        "income_workers": money(net.get("workers", 0)),
        "income_moderators": money(net.get("moderators", 0)),
        "income_platform": money(net.get("platform", 0)),
        "points_issued": int(sum(a for (u, *_rest), a in flows.items() if u == "points")),
        "total_ordered": m.ordered_total,
        "total_delivered": st.delivered,
        "total_expired": m.expired_total,
        "total_refused": int(m.refused_total.sum()),
        "total_refilled": st.refilled,
        "share_delivered": m.finished_delivered / m.finished_ordered if m.finished_ordered else 0.0,
        "total_removed": st.removed,
        "total_surviving": surviving_total,
        "total_banned": st.banned,
        "total_client_spend": money(st.spend),
        "total_worker_income": money(worker_income_total),
        "worker_share_of_spend": worker_income_total / st.spend if st.spend else 0.0,
        "recruiter_margin": recruiter_income / st.spend if st.spend else 0.0,
        "pay_index": pay_index,
        "price_index": price_index,
        "removal_cost_clients": money(m.removal_cost["clients"]),
        "removal_cost_recruiters": money(m.removal_cost["recruiters"]),
        "removal_cost_workers": money(wf.withheld_total),
        "workers_never_found_work": never_found,
        "hourly_pay_mean": _mean(hourly) if hourly.size else 0.0,
        "hourly_pay_median": float(median),
        "hourly_pay_p10": float(p10),
        "hourly_pay_p90": float(p90),
        "activity_gini": activity_gini,
        "top10_share_of_tasks": top10_share,
        "cost_per_1000_surviving": (
            money(st.spend) * 1000 / surviving_total if surviving_total > 0 else 0.0
        ),
        "reach": (c.platform.reach_organic + c.platform.reach_promoted) if c else 0.0,
        "total_reach": st.reach,
        "objectives_reached": sum(o.objective_reached for o in due),
        "objectives_due": len(due),
        "unpaid_hours": c.work.unpaid_hours if c else 0.0,
        "total_unpaid_hours": st.unpaid_hours,
        "total_hours_working": float(wf.hours_working[human].sum()),
        "total_hours_searching": float(wf.hours_searching[human].sum()),
        "total_hours_waiting": float(wf.hours_waiting[human].sum()),
        "unpaid_value_at_market_wage": st.unpaid_hours * ref_wage,
        "points_only_actions": int(st.points_only.sum()),
        "points_cost_saved": points_saved,
        "paid_twin_spend": twin_spend,
        "ad_revenue": money(ad_step),
        "ad_revenue_from_engagement": money(c.platform.ad_revenue_engagement) if c else 0.0,
        "cascade_followers_reached": cascade.reached_this_hour if cascade and c else 0,
        "cascade_actions": cascade_now,
        "total_cascade_actions": st.cascade_actions,
        "share_from_cascades": st.cascade_actions / st.delivered if st.delivered else 0.0,
        **_genuine_metrics(model),
        **_turnover_metrics(model),
        **accounts,
        "bot_share_of_delivered": _bot_share(model),
    }


def _bot_share(model: ClickFarmModel) -> float:
    """Share of this hour's delivered actions that bots did (0 without bots or deliveries)."""
    rec = model.record
    if rec is None or not model.workforce.has_bots or not rec.work.delivered:
        return 0.0
    is_bot = model.workers.is_bot
    by_bots = sum(int(d.done[is_bot[d.who]].sum()) for d in rec.work.deliveries)
    return by_bots / rec.work.delivered


def _turnover_metrics(model: ClickFarmModel) -> dict[str, float]:
    """Entries, exits, activity tiers, speed and qualified work (docs/ODD.md 7.27)."""
    tv, w, rec = model.turnover, model.workers, model.record
    # a mask over all rows: no gathered copies (bots are fixed for the run: without any,
    # the enrolled mask itself, read only)
    enrolled = w.enrolled & ~w.is_bot if model.workforce.has_bots else w.enrolled
    n_enrolled = int(np.count_nonzero(enrolled))
    tiers = tv.tier_counts
    in_tiers = int(tiers.sum())
    shares = tiers / in_tiers if in_tiers else np.zeros(tiers.size)
    return {
        "workers_enrolled": n_enrolled,
        "workers_joined": rec.turnover.joined if rec else 0,
        "workers_left": rec.turnover.left if rec else 0,
        "total_joined": tv.joined_total,
        "total_left": tv.left_total,
        "share_very_active": float(shares[0]),
        "share_regular": float(shares[1]),
        "share_occasional": float(shares[2]),
        "mean_speed": _mean_speed(w.speed, enrolled, n_enrolled),
        "remembered_hourly_earnings": model.money(round(tv.remembered_hourly())),
        "share_qualified_tasks": tv.qualified_share,
    }


def _mean_speed(speed: np.ndarray, enrolled: np.ndarray, n_enrolled: int) -> float:
    """Mean speed of the enrolled people (0 when there are none).

    When every row is enrolled, the masked mean is the plain one (an all-true ``where``
    sums the same elements in the same order), which is several times quicker.
    """
    if not n_enrolled:
        return 0.0
    return _mean(speed) if n_enrolled == speed.size else float(speed.mean(where=enrolled))


def _accumulate_genuine(st: MetricState, rec) -> None:
    """Add this hour's genuine actions, wrong removals and bans to the running totals."""
    st.genuine_actions += rec.genuine.total if rec.genuine is not None else 0
    st.genuine_removed += rec.moderation.genuine_removed
    st.genuine_banned += rec.moderation.genuine_banned + _genuine_purged(rec)
    st.genuine_revenue_lost += rec.platform.genuine_revenue_lost


def _genuine_purged(rec) -> int:
    """Genuine accounts this hour's purges banned (recorded with the hour's genuine actions)."""
    return rec.genuine.purged if rec.genuine is not None else 0


def _genuine_metrics(model: ClickFarmModel) -> dict[str, float]:
    """False positives: genuine users' actions removed and accounts banned (0 without them)."""
    st, c = model.metric_state, model.record
    mod = c.moderation if c is not None else None
    audience = model.organic.size if model.organic is not None else 0
    removals = st.removed + st.genuine_removed
    return {
        "genuine_actions": c.genuine.total if c is not None and c.genuine is not None else 0,
        "genuine_flagged": mod.genuine_flagged if mod else 0,
        "genuine_reviewed": mod.genuine_reviewed if mod else 0,
        "genuine_removed": mod.genuine_removed if mod else 0,
        "genuine_accounts_banned": mod.genuine_banned if mod else 0,
        "genuine_accounts_purged": _genuine_purged(c) if c is not None else 0,
        "total_genuine_actions": st.genuine_actions,
        "total_genuine_removed": st.genuine_removed,
        "total_genuine_banned": st.genuine_banned,
        "share_genuine_removed": (
            st.genuine_removed / st.genuine_actions if st.genuine_actions else 0.0
        ),
        "share_genuine_accounts_banned": st.genuine_banned / audience if audience else 0.0,
        "share_removals_genuine": st.genuine_removed / removals if removals else 0.0,
        "genuine_revenue_lost": st.genuine_revenue_lost / model.scale,
    }


def _account_metrics(model: ClickFarmModel, rec, spend: int) -> dict[str, float]:
    """The account market's hour and totals (zeros when the scenario has none).

    ``account_sales_share_of_spend`` is what the account trade kept (sales to farms and
    profiles sold to clients, less buy-backs) over the clients' spend so far.
    """
    am = model.account_market
    hour = rec.accounts if rec is not None else None
    if am is None:
        return NO_ACCOUNT_MARKET
    t, money = am.total, model.money
    kept = t.sales + t.profile_sales - t.buybacks
    return {
        "accounts_made": hour.created if hour else 0,
        "accounts_sold": (hour.sold + hour.profiles) if hour else 0,
        "accounts_for_sale": int(am.stock_ident.size),
        "account_price_new": money(am.new_price()),
        "account_price_mean": hour.price_mean / model.scale if hour else 0.0,
        "account_scarcity": am.scarcity,
        "total_accounts_sold": t.sold + t.profiles,
        "total_account_sales": money(kept),
        "account_sales_share_of_spend": kept / spend if spend else 0.0,
    }
