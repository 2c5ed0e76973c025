"""The market: hand-checked rules, and one directional test per mechanism."""

import numpy as np
import pytest

from sim import ClickFarmModel
from sim.core import rules
from sim.run.outputs import run_scenario


# -- rules against hand computations ---------------------------------------------------
def test_value_per_hour_counts_search_time_and_conviction():
    # 0.02 a task, 0.5 min a task at speed 1, plus 0.5 min of search: 60 tasks an hour
    v = rules.value_per_hour(
        np.array([0.02]),
        np.array([0.0]),
        np.array([0.5]),
        np.array([0.5]),
        np.array([1.0]),
        np.array([1.0]),
        np.array([0.0]),
        np.array([0.0]),
        np.array([1.0]),
    )
    assert v[0] == pytest.approx(1.2)
    # 2 points worth 0.01 each, conviction 1.5/h doubled by the cause
    v = rules.value_per_hour(
        np.array([0.0]),
        np.array([2.0]),
        np.array([1.0]),
        np.array([0.0]),
        np.array([2.0]),
        np.array([0.0]),
        np.array([0.01]),
        np.array([1.5]),
        np.array([2.0]),
    )
    assert v[0] == pytest.approx(60 * 0.02 / 0.5 + 3.0)


def test_largest_remainder_is_exact():
    assert rules.largest_remainder(10, np.array([1, 1, 1])).tolist() == [4, 3, 3]
    # 3.5, 1.75, 1.75: floors 3, 1, 1, and the two largest remainders get the rest
    assert rules.largest_remainder(7, np.array([0.5, 0.25, 0.25])).tolist() == [3, 2, 2]
    assert rules.largest_remainder(5, np.array([0.0, 0.0])).tolist() == [0, 0]


def test_survival_and_cost_plus_price():
    # no history: the prior; 1,000 delivered, 400 removed, prior 0.8 with weight 200
    assert rules.survival_estimate(0, 0, 0.8, 200) == pytest.approx(0.8)
    assert rules.survival_estimate(1000, 400, 0.8, 200) == pytest.approx((600 + 160) / 1200)
    # cost 1,000 units, markup 0.5, survival 0.75: 1,000 * 1.5 / 0.75 = 2,000
    assert rules.cost_plus_price(np.array([1000, 0]), 0.5, 0.75).tolist() == [2000, 0]
    assert rules.cost_plus_price(np.array([3]), 0.5, 1.0).tolist() == [5]  # 4.5 rounded up


def test_adaptive_pay_and_price_blend():
    floor, cap = np.array([50, 0]), np.array([400, 0])
    up = rules.adjust_pay(np.array([100, 0]), True, False, 0.1, floor, cap)
    assert up.tolist() == [110, 0]  # points-only actions stay unpaid
    down = rules.adjust_pay(np.array([100, 0]), False, True, 0.1, floor, cap)
    assert down.tolist() == [90, 0]
    assert rules.adjust_pay(np.array([395, 0]), True, False, 0.1, floor, cap).tolist()[0] == 400
    assert (
        rules.adjust_pay(np.array([2, 0]), True, False, 0.1, np.array([0]), np.array([9]))[0] == 3
    )  # always at least one unit up
    assert rules.blend_price(np.array([100, 100]), np.array([200, 0]), 0.5).tolist() == [150, 100]


def test_client_shares_favour_the_cheapest_surviving_action():
    shares = rules.client_shares(np.array([1.0, 2.0, np.inf]), 1.0)
    assert shares[2] == 0 and shares.sum() == pytest.approx(1)
    assert shares[0] / shares[1] == pytest.approx(np.e)
    assert rules.client_shares(np.array([1.0, 1.0]), 4.0).tolist() == [0.5, 0.5]


def test_relay_probability_rises_with_pay():
    p = rules.relay_probability(np.array([0.2, 0.2, 0.9]), np.array([1.0, 2.0, 2.0]), np.ones(3))
    assert p.tolist() == pytest.approx([0.2, 0.4, 1.0])


# -- mechanisms ------------------------------------------------------------------------
def _head(result):
    return result.timeseries.iloc[-1]


def test_halving_pay_lowers_the_share_delivered():
    # at a fifth of the baseline's pay the market still clears; halve it again and the
    # tasks are worth less than many workers' reservation wage
    pays = {"like": 0.004, "follow": 0.004, "share": 0.008, "comment": 0.02, "post": 0.032}
    fifth = [f"recruiters.microtask_broker.pays.{k}={v}" for k, v in pays.items()]
    half = [f"recruiters.microtask_broker.pays.{k}={v / 2}" for k, v in pays.items()]
    full = run_scenario("baseline_microtask_market", seed=4, days=3, overrides=fifth)
    cut = run_scenario("baseline_microtask_market", seed=4, days=3, overrides=half)
    assert _head(cut)["share_delivered"] < _head(full)["share_delivered"] - 0.05
    assert _head(cut)["total_expired"] > _head(full)["total_expired"]


def test_workers_who_can_reach_better_paid_work_earn_more():
    paid_now = ["recruiters.dhaka_like_farm.pay_hold_hours=0"]
    overrides = paid_now + ["workers.click_workers.also_works_for=[dhaka_like_farm]"]
    alone = run_scenario("us2016_content_farms", seed=2, days=2, overrides=paid_now)
    multi = run_scenario("us2016_content_farms", seed=2, days=2, overrides=overrides)

    def earned(r):
        return r.agents.query("group == 'click_workers'")["money_earned"].sum()

    # the Dhaka farm pays 16 times more per like than the bottom-market network
    assert earned(multi) > 1.5 * earned(alone)


def _bots(overrides, seed=3, days=3):
    return run_scenario("bots_vs_click_workers", seed=seed, days=days, overrides=overrides)


HEAVY = ["platform.moderation.moderators=40", "platform.detection.bias=-3"]
HUMAN = "campaigns.human_posts"


def test_a_refill_guarantee_under_heavy_moderation_costs_the_recruiter():
    base = ["recruiters.click_farm.capital=200", f"{HUMAN}.price_per_action.post=0.02"]
    guarantee = base + ["recruiters.click_farm.refill_days=3"]
    no_refill = _bots(base + HEAVY)
    light = _bots(guarantee + ["platform.moderation.moderators=2"])
    heavy = _bots(guarantee + HEAVY)

    def margin(r):
        return r.agents.query("kind == 'recruiter' and group == 'click_farm'")["money_earned"].iloc[
            0
        ]

    assert _head(heavy)["removal_cost_recruiters"] > _head(light)["removal_cost_recruiters"]
    assert _head(heavy)["total_refilled"] > _head(light)["total_refilled"]
    assert margin(heavy) < margin(no_refill)
    # the client gets its removed posts replaced, so it bears less of the removals
    assert _head(heavy)["removal_cost_clients"] < _head(no_refill)["removal_cost_clients"]


def test_a_client_moves_its_orders_away_from_the_farm_whose_work_is_removed():
    bad_panel = [
        "recruiters.refill_panel.pricing.rule=fixed",  # same price as its competitor
        "recruiters.refill_panel.refill_days=0",
        "workers.panel_workers.count=300",
        "workers.panel_workers.accounts.age_days.mean=1",
        "workers.panel_workers.accounts.trust=0.01",
        "workers.dhaka_workers.accounts.age_days.mean=2000",
        "workers.dhaka_workers.accounts.trust=0.95",
        "platform.moderation.moderators=40",
    ]
    result = run_scenario("us2016_content_farms", seed=5, days=6, overrides=bad_panel)
    model = result.model
    panel = model.spec.recruiters.index(
        next(r for r in model.spec.recruiters if r.id == "refill_panel")
    )
    likes = [o for o in model.orders if o.tag == "likes_on_posts"]
    first = [o for o in likes if o.placement == likes[0].placement]
    last = [o for o in likes if o.placement == likes[-1].placement]

    def panel_share(orders):
        total = sum(int(o.quantities.sum()) for o in orders)
        return sum(int(o.quantities.sum()) for o in orders if o.recruiter == panel) / total

    assert panel_share(first) == pytest.approx(0.5, abs=0.01)
    assert panel_share(last) < panel_share(first) - 0.2


def test_escrow_moves_the_cost_of_removals_from_client_to_recruiter():
    common = HEAVY + ["recruiters.click_farm.capital=300"]
    delivery = _bots(common)
    escrow = _bots(common + [f"{HUMAN}.payment=escrow", f"{HUMAN}.escrow_hold_hours=24"])
    assert _head(escrow)["removal_cost_clients"] < _head(delivery)["removal_cost_clients"]
    assert _head(escrow)["removal_cost_recruiters"] > _head(delivery)["removal_cost_recruiters"]


def test_held_pay_is_withheld_from_workers_whose_accounts_are_banned():
    strict = HEAVY + ["platform.detection.strikes_to_ban=1"]
    paid = _bots(strict)
    held = _bots(strict + ["recruiters.click_farm.pay_hold_hours=24"])
    assert _head(held)["removal_cost_workers"] > 0 == _head(paid)["removal_cost_workers"]
    assert _head(held)["worker_share_of_spend"] < _head(paid)["worker_share_of_spend"]


def test_a_recruiter_refuses_orders_it_cannot_pay_for_and_stays_solvent():
    result = run_scenario(
        "us2016_content_farms",
        seed=1,
        days=2,
        overrides=["recruiters.dhaka_like_farm.pays.like=0.02"],  # above the client's price
    )
    model = result.model
    assert (
        result.summary["campaigns"]["likes_on_posts"]["by_recruiter"].get(
            "dhaka_like_farm", {"ordered": 0}
        )["ordered"]
        == 0
    )
    assert _head(result)["total_refused"] == 0  # the competitor took the whole order
    alone = run_scenario(
        "us2016_content_farms",
        seed=1,
        days=2,
        overrides=[
            "recruiters.dhaka_like_farm.pays.like=0.02",
            "campaigns.likes_on_posts.competitors=[]",
        ],
    )
    assert alone.summary["campaigns"]["likes_on_posts"]["refused"] > 0
    for m in (model, alone.model):
        assert (m.ledger.balances["money"][m.recruiter_account] >= 0).all()
        assert m.metrics["worker_share_of_spend"] <= 1


def test_adaptive_pay_rises_when_tasks_go_unfilled_and_delivers_more():
    low = [f"recruiters.microtask_broker.pays.{k}=0.002" for k in ("like", "follow", "share")]
    adaptive = low + [
        "recruiters.microtask_broker.pricing.rule=adaptive",
        "recruiters.microtask_broker.pricing.adjust_every_hours=6",
        "recruiters.microtask_broker.pricing.pay_step=0.3",
    ]
    fixed = run_scenario("baseline_microtask_market", seed=6, days=3, overrides=low)
    moving = run_scenario("baseline_microtask_market", seed=6, days=3, overrides=adaptive)
    assert _head(moving)["pay_index"] > 1.5
    assert _head(moving)["total_delivered"] > _head(fixed)["total_delivered"]


def test_a_buyer_who_reorders_ends_with_more_surviving_posts():
    once = _bots(HEAVY + [f"{HUMAN}.reorder=false"])
    again = _bots(HEAVY)
    a, b = once.summary["campaigns"]["human_posts"], again.summary["campaigns"]["human_posts"]
    assert b["reorders"] > 0 == a["reorders"]
    assert b["surviving"] > a["surviving"] and b["spend"] > a["spend"]
    assert b["spend"] <= 150  # within the budget


def test_the_points_saving_is_priced_by_the_paid_twin():
    base = run_scenario("fillon2017_points", seed=3, days=3)
    dearer = run_scenario(
        "fillon2017_points",
        seed=3,
        days=3,
        overrides=[f"paid_alternative.recruiter.pays.{k}=0.002" for k in ("like", "share")],
    )
    weaker = run_scenario(
        "fillon2017_points", seed=3, days=3, overrides=["workers.supporters.motivation.points=0.1"]
    )
    a, b, c = _head(base), _head(dearer), _head(weaker)
    assert a["total_client_spend"] == 0 and a["paid_twin_spend"] > 0
    assert b["points_cost_saved"] > a["points_cost_saved"]  # a dearer paid market
    assert c["points_only_actions"] < a["points_only_actions"]
    assert c["points_cost_saved"] < a["points_cost_saved"]  # fewer actions to pay for


@pytest.mark.parametrize("name", ["fillon2017_points", "us2016_content_farms"])
def test_online_time_is_working_searching_or_waiting_in_every_pay_mode(name):
    result = run_scenario(name, seed=2, days=2)
    h = _head(result)
    humans = result.agents.query("kind == 'micro_worker'")
    online = humans["hours_online"].sum()
    parts = h["total_hours_working"] + h["total_hours_searching"] + h["total_hours_waiting"]
    assert parts == pytest.approx(online, rel=1e-9)
    assert h["total_hours_searching"] > 0 and h["total_hours_waiting"] > 0


def test_mesa_solara_viz_drives_the_model():
    solara = pytest.importorskip("solara")
    pytest.importorskip("altair")
    import ipyvuetify as v
    from mesa.visualization.solara_viz import ModelController, ModelCreator

    model = solara.reactive(ClickFarmModel("bots_vs_click_workers", rng=1, days=1))
    params = solara.reactive({})
    # the parameter panel accepts the constructor and fills the parameters Reset uses
    _, panel = solara.render(
        ModelCreator(
            model,
            {
                "spec": "bots_vs_click_workers",
                "days": 0.5,
                "rng": 3,
                "platform__moderation__moderators": {  # a keyword override (``**kwargs``)
                    "type": "SliderInt",
                    "value": 7,
                    "min": 0,
                    "max": 50,
                    "step": 1,
                    "label": "Moderators",
                },
            },
            model_parameters=params,
        ),
        handle_error=False,
    )
    assert params.value["platform__moderation__moderators"] == 7
    panel.find(v.Slider).widget.v_model = 9  # the user drags the slider
    assert params.value["platform__moderation__moderators"] == 9
    _, rc = solara.render(
        ModelController(
            model,
            model_parameters=params,
            play_interval=solara.reactive(100),
            render_interval=solara.reactive(1),
            use_threads=solara.reactive(False),
        ),
        handle_error=False,
    )
    rc.find(v.Btn, children=["Step"]).widget.click()
    assert model.value.steps == 1
    rc.find(v.Btn, children=["Reset"]).widget.click()
    assert model.value.steps == 0 and model.value.max_steps == 12
    assert model.value.spec.platform.moderation.moderators == 9
    rc.find(v.Btn, children=["Step"]).widget.click()
    assert model.value.steps == 1
    model.value.ledger.check_balanced()


def test_the_model_records_its_state_at_step_zero():
    model = ClickFarmModel("bots_vs_click_workers", rng=1, days=1)
    frame = model.datacollector.get_model_vars_dataframe()
    assert len(frame) == 1 and frame["hour"].iloc[0] == 0
    assert frame["total_delivered"].iloc[0] == 0


def test_rate_cards_over_time_record_adaptive_pay():
    result = run_scenario("ps2017_influencer_pyramid", seed=1, days=4)
    rates = result.rates
    platform = rates.query("recruiter == 'click_platform' and action == 'like'")
    assert platform["hour"].iloc[0] == 0 and platform["influencer_pay"].iloc[0] == 0.5
    # the typed pay moves at each daily adjustment and stays within its bounds
    assert platform["hour"].nunique() > 1
    assert platform["influencer_pay"].between(0.25, 0.60).all()
    fixed = run_scenario(
        "ps2017_influencer_pyramid",
        seed=1,
        days=4,
        overrides=["recruiters.click_platform.pricing.rule=fixed"],
    ).rates
    assert fixed.query("recruiter == 'click_platform'")["hour"].eq(0).all()


def test_points_go_through_the_ledger():
    result = run_scenario("fillon2017_points", seed=2, days=2)
    model = result.model
    issued = result.summary["points_issued"]
    assert issued > 0
    assert issued == int(model.workers.points.sum())
    assert int(model.ledger.balances["points"][model.worker_accounts].sum()) == issued


def test_reorders_belong_to_their_own_placement():
    result = _bots(HEAVY)
    for campaign in ("bot_posts", "human_posts"):
        row = result.summary["campaigns"][campaign]
        orders = [o for o in result.model.orders if o.tag == campaign]
        assert row["placements"] == 1
        assert row["reorders"] == len(orders) - 1
