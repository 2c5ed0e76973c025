"""The headline figures of a run: the summary's first table, one column each in sweeps.

Kept apart from :mod:`sim.run.outputs` so that checking a sweep file, which needs these
names, does not import the model.
"""

from __future__ import annotations

HEADLINE = (
    "total_ordered",
    "total_delivered",
    "share_delivered",
    "total_expired",
    "total_refused",
    "total_refilled",
    "total_surviving",
    "total_removed",
    "total_banned",
    "total_client_spend",
    "total_worker_income",
    "worker_share_of_spend",
    "recruiter_margin",
    "removal_cost_clients",
    "removal_cost_recruiters",
    "removal_cost_workers",
    "cost_per_1000_surviving",
    "total_reach",
    "workers_never_found_work",
    "hourly_pay_mean",
    "hourly_pay_median",
    "activity_gini",
    "top10_share_of_tasks",
    "objectives_reached",
    "objectives_due",
    "total_unpaid_hours",
    "total_hours_working",
    "total_hours_searching",
    "total_hours_waiting",
    "unpaid_value_at_market_wage",
    "points_only_actions",
    "points_cost_saved",
    "paid_twin_spend",
)
