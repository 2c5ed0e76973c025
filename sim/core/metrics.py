"""Per-step metrics: what the model reports every hour (names are the columns of the
time series, documented in docs/ODD.md "Observation")."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.core import rules
from sim.scenario.load import to_minor
from sim.scenario.schema import ACTION_TYPES

if TYPE_CHECKING:
    from sim.core.model import ClickFarmModel

METRICS = (
    "hour",
    "day",
    "actions_ordered",
    "actions_delivered",
    "actions_flagged",
    "actions_reviewed",
    "actions_removed",
    "actions_surviving",
    "accounts_banned",
    "accounts_opened",
    "active_workers",
    "client_spend",
    "income_recruiters",
    "income_influencers",
    "income_workers",
    "income_moderators",
    "income_platform",
    "points_issued",
    "total_delivered",
    "total_removed",
    "total_surviving",
    "total_banned",
    "total_client_spend",
    "total_worker_income",
    "worker_share_of_spend",
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
    "unpaid_value_at_market_wage",
    "points_only_actions",
    "points_cost_saved",
    "ad_revenue",
    "ad_revenue_from_engagement",
)


def collect_step_metrics(model: ClickFarmModel) -> dict[str, float]:
    c, t, led, w = model.step_counts, model.totals, model.ledger, model.workers
    money = model.money
    net = led.tier_net("money")
    spend = sum(
        a
        for (u, src, _d, p), a in led.step_flows.items()
        if u == "money" and src == "clients" and p != "unspent budget"
    )
    t["delivered"] = t.get("delivered", 0) + c.get("delivered", 0)
    t["removed"] = t.get("removed", 0) + c.get("removed", 0)
    t["banned"] = t.get("banned", 0) + c.get("banned", 0)
    t["spend"] = t.get("spend", 0) + spend
    t["reach"] = t.get("reach", 0.0) + c.get("reach_organic", 0.0) + c.get("reach_promoted", 0.0)
    t["unpaid_hours"] = t.get("unpaid_hours", 0.0) + c.get("unpaid_hours", 0.0)
    t["points_only"] = t.get("points_only", np.zeros(len(ACTION_TYPES), dtype=np.int64)) + c.get(
        "points_only_actions", 0
    )
    surviving_total = t["delivered"] - t["removed"]
    human = ~w.is_bot
    earned = led.balances["money"][model.worker_accounts]
    worked = human & (w.hours_online > 0)
    hourly = earned[worked] / w.hours_online[worked] / model.scale
    worker_income_total = int(earned[human].sum())
    ref = model.scenario.market_reference
    ref_prices = np.array(
        [to_minor(ref.price_per_action.get(a, 0), model.scale) for a in ACTION_TYPES],
        dtype=np.int64,
    )
    ad_step = sum(
        a if d == "platform" else -a
        for (u, _s, d, p), a in led.step_flows.items()
        if u == "money" and p.startswith(("base ad revenue", "engagement ad revenue"))
    )
    tasks_sorted = np.sort(w.tasks_done[human])  # sorted once; both measures re-sort cheaply
    # an objective is due once its deadline has passed (or it was reached before)
    due = [o for o in model.objective_orders if o.objective_reached or model.hour + 1 >= o.end]
    return {
        "hour": model.hour,
        "day": model.hour // 24,
        "actions_ordered": model.ordered_total,
        "actions_delivered": c.get("delivered", 0),
        "actions_flagged": c.get("flagged", 0),
        "actions_reviewed": c.get("reviewed", 0),
        "actions_removed": c.get("removed", 0),
        "actions_surviving": c.get("delivered", 0) - c.get("removed", 0),
        "accounts_banned": c.get("banned", 0),
        "accounts_opened": c.get("accounts_opened", 0),
        "active_workers": c.get("active_workers", 0),
        "client_spend": money(spend),
        "income_recruiters": money(net.get("recruiters", 0)),
        "income_influencers": money(net.get("influencers", 0)),
        "income_workers": money(net.get("workers", 0)),
        "income_moderators": money(net.get("moderators", 0)),
        "income_platform": money(net.get("platform", 0)),
        "points_issued": int(sum(a for (u, *_rest), a in led.step_flows.items() if u == "points")),
        "total_delivered": t["delivered"],
        "total_removed": t["removed"],
        "total_surviving": surviving_total,
        "total_banned": t["banned"],
        "total_client_spend": money(t["spend"]),
        "total_worker_income": money(worker_income_total),
        "worker_share_of_spend": worker_income_total / t["spend"] if t["spend"] else 0.0,
        "hourly_pay_mean": float(hourly.mean()) if hourly.size else 0.0,
        "hourly_pay_median": float(np.median(hourly)) if hourly.size else 0.0,
        "hourly_pay_p10": float(np.percentile(hourly, 10)) if hourly.size else 0.0,
        "hourly_pay_p90": float(np.percentile(hourly, 90)) if hourly.size else 0.0,
        "activity_gini": rules.gini(tasks_sorted),
        "top10_share_of_tasks": rules.top_share(tasks_sorted, 0.10),
        "cost_per_1000_surviving": (
            money(t["spend"]) * 1000 / surviving_total if surviving_total else 0.0
        ),
        "reach": c.get("reach_organic", 0.0) + c.get("reach_promoted", 0.0),
        "total_reach": t["reach"],
        "objectives_reached": sum(o.objective_reached for o in due),
        "objectives_due": len(due),
        "unpaid_hours": c.get("unpaid_hours", 0.0),
        "total_unpaid_hours": t["unpaid_hours"],
        "unpaid_value_at_market_wage": t["unpaid_hours"] * float(ref.wage_per_hour),
        "points_only_actions": int(t["points_only"].sum()),
        "points_cost_saved": money(int(t["points_only"] @ ref_prices)),
        "ad_revenue": money(ad_step),
        "ad_revenue_from_engagement": money(c.get("ad_revenue_engagement", 0)),
    }
