"""A reseller that moves its orders between bots and people (tactics to_people, to_bots)."""

import numpy as np
import pytest

from sim import ClickFarmModel
from sim.run.outputs import run_scenario
from sim.scenario.errors import ScenarioError
from sim.scenario.load import load_scenario
from sim.scenario.schema import ACTION_TYPES

from .inprocess import run_cli

RESELLER = "bots_to_people"
WEAK = ["events=[]"]  # one moderator all along
DAYS = 6
LIKES = np.array([6000 if a == "like" else 0 for a in ACTION_TYPES])


def _bot_share(result, first_day, last_day):
    ts = result.timeseries
    part = ts[(ts["hour"] > first_day * 24) & (ts["hour"] <= last_day * 24)]
    by_bots = (part["bot_share_of_delivered"] * part["actions_delivered"]).sum()
    return by_bots / part["actions_delivered"].sum()


def test_the_split_follows_the_tactic_by_hand():
    model = ClickFarmModel(RESELLER)
    market, st = model.market, model.market.structure
    top = market.index["engagement_reseller"]
    bots = st.leaf_of_recruiter[market.index["bot_shop"]]
    people = st.leaf_of_recruiter[market.index["click_farm"]]
    assert st.bots[bots] == 2000 and st.bots[people] == 0
    # by headcount: 2,000 bots and 3,000 people share 6,000 likes 2,400 / 3,600
    pools = market._split(top, LIKES, market.quote[top])
    assert [int(p.remaining.sum()) for p in pools] == [2400, 3600]
    # its cost per like is the headcount-weighted charge: 0.4 x 0.002 + 0.6 x 0.012 = 0.008
    assert int(market.cost_per_action(top)[0]) == 8000  # ledger units (1e6 a dollar)
    market.tactics_adopted[top] = 1  # to_people
    pools = market._split(top, LIKES, market.quote[top])
    assert [int(p.remaining.sum()) for p in pools] == [0, 6000]
    assert int(market.cost_per_action(top)[0]) == 12000  # the click farm's charge alone


def test_stronger_moderation_moves_the_reseller_from_bots_to_people():
    weak = run_scenario(RESELLER, days=DAYS, overrides=WEAK)
    strong = run_scenario(RESELLER, days=DAYS)
    # same until the platform hires: bots deliver 40% of the likes
    assert _bot_share(weak, 0, 3) == pytest.approx(0.4)
    assert _bot_share(strong, 0, 3) == pytest.approx(0.4)
    # with four moderators the bots' likes are removed, and the reseller moves to people
    assert [t["tactic"] for t in strong.summary["tactics"]] == ["to_people"]
    assert not weak.summary["tactics"]
    assert _bot_share(strong, 4, DAYS) == 0.0
    assert _bot_share(weak, 4, DAYS) == pytest.approx(0.4)
    # people cost more: the reseller's cost-plus price, and so the client's spend, rises
    day = strong.timeseries.groupby("day")["client_spend"].sum()
    assert day[5] > 1.4 * day[2]
    weak_day = weak.timeseries.groupby("day")["client_spend"].sum()
    assert weak_day[5] == pytest.approx(weak_day[2])


def test_to_bots_moves_orders_the_other_way():
    # a reseller that tolerates almost no removals tries people first, then bots only
    back_and_forth = [
        "recruiters.engagement_reseller.tactics.repertoire=[to_people, to_bots]",
        "recruiters.engagement_reseller.tactics.removal_threshold=0.01",
    ]
    result = run_scenario(RESELLER, days=DAYS, overrides=back_and_forth)
    changes = result.summary["tactics"]
    assert [t["tactic"] for t in changes] == ["to_people", "to_bots"]
    moved, back = changes[0]["hour"] // 24, changes[1]["hour"] // 24
    assert _bot_share(result, moved, back) == 0.0
    assert _bot_share(result, back, DAYS) == 1.0


@pytest.mark.parametrize(
    ("override", "field", "expected"),
    [
        (
            "recruiters.click_farm.tactics.repertoire=[to_people]",
            "recruiters.click_farm.tactics.repertoire.0",
            "expected a top-level recruiter with sub-recruiters",
        ),
        (
            "recruiters.engagement_reseller.tactics.repertoire=[drip_feed]",
            "recruiters.engagement_reseller.tactics.repertoire.0",
            "expected a bottom-level recruiter",
        ),
        (
            "recruiters.engagement_reseller.tactics.cost_per_action={to_people: 0.001}",
            "recruiters.engagement_reseller.tactics.cost_per_action.to_people",
            "costs nothing itself",
        ),
    ],
)
def test_a_misplaced_routing_tactic_is_refused(override, field, expected):
    with pytest.raises(ScenarioError) as err:
        load_scenario(RESELLER, [override])
    text = str(err.value)
    assert field in text and expected in text


def test_to_bots_without_bots_is_refused_in_one_line(capsys, monkeypatch, tmp_path):
    outcome = run_cli(
        capsys,
        monkeypatch,
        "run",
        RESELLER,
        "--out",
        tmp_path / "out",
        "--set",
        "recruiters.engagement_reseller.tactics.repertoire=[to_bots]",
        "--set",
        "workers.bots.kind=human",
    )
    assert outcome.code == 2
    lines = outcome.stderr.strip().splitlines()
    assert len(lines) == 1 and "no bot workers work below 'engagement_reseller'" in lines[0]
    assert "bots_to_people.yaml" in lines[0] or "--set" in lines[0]
    assert not (tmp_path / "out").exists()
