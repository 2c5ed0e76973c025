"""The claims docs/teaching.md makes about what the slides show, rerun on the model.

The class plan quotes numbers from the slides' runs; these tests check the direction and
rough size of every effect it relies on, so the plan cannot silently drift from the model.
"""

from __future__ import annotations

import functools

import pytest

from sim.run.outputs import campaign_table
from sim.ui import whatifs
from sim.ui.flows import money_graph
from sim.ui.session import LiveRun, Setup
from sim.ui.story import SLIDES


def slide_setup(scenario: str) -> Setup:
    slide = next(s for s in SLIDES if s.scenario == scenario)
    setup = Setup(scenario)
    return setup.change("days", slide.days) if slide.days else setup


@functools.cache
def finished(scenario: str, whatif: str | None = None) -> LiveRun:
    setup = slide_setup(scenario)
    if whatif is not None:
        setup = setup.with_changes(list(whatifs.build(whatif, setup.scenario()).changes))
    run = LiveRun(setup)
    run.run_to_end()
    return run


def headline(scenario: str, whatif: str | None = None) -> dict:
    return finished(scenario, whatif).summary()["headline"]


def test_every_slide_whatif_applies_to_its_case():
    for slide in SLIDES:
        if slide.scenario is None:
            continue
        for name in slide.whatifs:
            whatifs.build(name, slide_setup(slide.scenario).scenario())


def test_ordinary_market_pays_workers_most_of_each_dollar_but_little_per_hour():
    h = headline("baseline_microtask_market")
    assert h["worker_share_of_spend"] == pytest.approx(0.91, abs=0.02)
    assert 2.5 < h["hourly_pay_median"] < 3.31  # a little over 3, below the reference wage
    assert h["top10_share_of_tasks"] > 0.9  # "almost all of it"
    points = headline("baseline_microtask_market", "pay_in_points")
    assert points["total_worker_income"] == 0
    assert points["total_client_spend"] == pytest.approx(h["total_client_spend"], rel=1e-3)
    assert points["total_unpaid_hours"] > 1.7 * h["total_unpaid_hours"]
    more = headline("baseline_microtask_market", "double_moderators")
    assert more["total_removed"] == pytest.approx(h["total_removed"], rel=0.1)


def test_farms_keep_as_much_as_their_workers_and_moderators_are_the_bottleneck():
    run = finished("us2016_content_farms")
    shares = money_graph(run.model).destinations()
    spend = sum(shares.values())
    # The recruiters keep about as much as reaches all their workers.
    assert shares["kept by recruiters"] == pytest.approx(shares["workers"], rel=0.25)
    assert 0.3 < shares["workers"] / spend < 0.5
    assert 0.3 < shares["kept by recruiters"] / spend < 0.5
    assert 0.1 < shares["platform (promotion)"] / spend < 0.25
    h = run.summary()["headline"]
    assert h["hourly_pay_median"] < 0.05
    doubled = headline("us2016_content_farms", "double_moderators")
    assert doubled["total_removed"] > 1.7 * h["total_removed"]
    assert doubled["total_banned"] > 1.4 * h["total_banned"]
    # Refills win part of it back: survivors fall by far less than the extra removals.
    assert doubled["total_refilled"] > 2 * h["total_refilled"]
    lost = h["total_surviving"] - doubled["total_surviving"]
    assert 0 < lost < 0.7 * (doubled["total_removed"] - h["total_removed"])
    assert doubled["cost_per_1000_surviving"] > 1.05 * h["cost_per_1000_surviving"]
    bots = headline("us2016_content_farms", "to_bots")
    # Saturated moderators remove as much from bots as from people.
    assert bots["total_removed"] == pytest.approx(h["total_removed"], rel=0.1)
    assert bots["total_surviving"] == pytest.approx(h["total_surviving"], rel=0.1)
    assert bots["cost_per_1000_surviving"] < 0.8 * h["cost_per_1000_surviving"]


def test_pyramid_money_stops_at_influencers_and_survives_moderation():
    run = finished("ps2017_influencer_pyramid")
    shares = money_graph(run.model).destinations()
    h = run.summary()["headline"]
    assert h["total_worker_income"] == 0
    assert 0.55 < shares["influencers"] / sum(shares.values()) < 0.75  # "two thirds"
    assert h["total_removed"] < 0.07 * h["total_delivered"]
    farms = headline("us2016_content_farms")
    assert h["cost_per_1000_surviving"] > 10 * farms["cost_per_1000_surviving"]
    bots = headline("ps2017_influencer_pyramid", "to_bots")
    assert bots["total_surviving"] < 0.1 * h["total_surviving"]


def test_points_campaign_extracts_unpaid_work():
    h = headline("fillon2017_points")
    assert h["total_client_spend"] == 0
    assert h["total_unpaid_hours"] > 50
    assert 80 < h["points_cost_saved"] < 200
    assert h["unpaid_value_at_market_wage"] > 2 * h["points_cost_saved"]
    assert h["objectives_reached"] >= h["objectives_due"] / 2  # most are met
    # The slide's own seed misses some (other seeds may meet all: the plan says so).
    assert h["objectives_reached"] < h["objectives_due"]


def test_people_survive_moderation_far_better_than_bots():
    table = campaign_table(finished("bots_vs_click_workers").model)
    bots, people = table["bot_posts"], table["human_posts"]
    for side in (bots, people):
        assert side["delivered"] == side["ordered"]  # every seller delivers what it is asked
        assert side["reorders"] > 0  # buyers pay again for what moderators remove
    # The bots' buyer re-orders until its budget is gone; the people's buyer orders less.
    assert bots["spend"] == pytest.approx(150, abs=0.01)
    assert people["spend"] < bots["spend"]
    assert bots["ordered"] > people["ordered"]
    assert people["surviving"] > 5 * bots["surviving"]
    assert bots["cost_per_1000_surviving"] > 5 * people["cost_per_1000_surviving"]


def test_more_moderators_cost_the_platform_more_than_they_save():
    def platform(run: LiveRun) -> tuple[int, int, int, float]:
        flows = run.model.ledger.total_flows
        wages = flows.get(("money", "platform", "moderators", "moderator wages"), 0)
        ads = flows.get(("money", "world", "platform", "engagement ad revenue"), 0)
        back = flows.get(("money", "platform", "world", "engagement ad revenue reversed"), 0)
        return wages, ads, back, run.summary()["headline"]["total_reach"]

    wages, ads, back, reach = platform(finished("us2016_content_farms"))
    wages2, ads2, back2, reach2 = platform(finished("us2016_content_farms", "double_moderators"))
    assert wages2 == 2 * wages
    # The drawn arrow moves less than the wages; net of reversals the platform earns less.
    assert ads2 < ads and ads - ads2 < wages2 - wages
    assert back2 > back and ads2 - back2 < ads - back
    assert reach2 < 0.9 * reach
