"""Figures say the same numbers as the summary, written the same way."""

from __future__ import annotations

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
    online = humans[humans["hours_online"] > 0]
    worked = int((online["tasks_done"] > 0).sum())
    # pay is shown for those who did a task; the title says who is left out and why
    assert f"Effective hourly pay of {worked:,} workers" in title
    assert f"{len(humans) - len(online):,} never online" in title
    assert f"{len(online) - worked:,} who never found a task are left out" in title


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
