"""Figures say the same numbers as the summary, written the same way."""

from __future__ import annotations

import matplotlib.pyplot as plt

from sim.run.figures import plot_wage_distribution
from sim.run.outputs import run_scenario
from sim.ui import charts


def test_wage_figure_shows_the_summarys_median_and_who_is_left_out():
    result = run_scenario("baseline_microtask_market", days=1)
    fig = plot_wage_distribution(result)
    ax = fig.axes[0]
    median = result.summary["headline"]["hourly_pay_median"]
    labels = [line.get_label() for line in ax.get_lines()]
    assert f"median {median:.4g} USD/h" in labels
    title = ax.get_title(loc="left")
    agents = result.agents
    humans = agents[agents["kind"] == "micro_worker"]
    online = int((humans["hours_online"] > 0).sum())
    assert f"{online:,} workers who were online" in title
    if online < len(humans):
        assert f"of {len(humans):,} never were and are left out" in title
    plt.close(fig)


def test_value_bars_use_thousands_separators():
    option = charts.unpaid_value_option(
        {
            "total_worker_income": 0.0,
            "points_cost_saved": 2379.5,
            "unpaid_value_at_market_wage": 1872.26,
        },
        "EUR",
    )
    shown = [d["label"]["formatter"] for d in option["series"][0]["data"]]
    assert shown == ["0 EUR", "2,380 EUR", "1,872 EUR"]
