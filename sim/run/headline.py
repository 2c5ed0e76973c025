"""The headline figures of a run: the summary's first table, one column each in sweeps.

Kept apart from :mod:`sim.run.outputs` so that checking a sweep file, which needs these
names, does not import the model.
"""

from __future__ import annotations

HEADLINE = (
    "total_delivered",
    "total_surviving",
    "total_removed",
    "total_banned",
    "total_client_spend",
    "total_worker_income",
    "worker_share_of_spend",
    "cost_per_1000_surviving",
    "total_reach",
    "hourly_pay_mean",
    "hourly_pay_median",
    "activity_gini",
    "top10_share_of_tasks",
    "objectives_reached",
    "objectives_due",
    "total_unpaid_hours",
    "unpaid_value_at_market_wage",
    "points_only_actions",
    "points_cost_saved",
)
