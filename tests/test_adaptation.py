"""Adaptation over time: the timeline of events, the platform's capacity policy and the
farms' tactics against detection."""

import numpy as np
import pytest

from sim import ClickFarmModel
from sim.core import rules
from sim.run.outputs import run_scenario
from sim.scenario.errors import ScenarioError
from sim.scenario.load import load_scenario

ARMS = "purge_arms_race"
# keep the upgrade, the detector's retraining (tests/test_organic.py) and the account
# market (tests/test_accounts.py: farms buy aged accounts to replace purged ones) out of the way
LATE_UPGRADE = [
    "events.detector_upgrade.hour=287",
    "platform.detection.retraining=null",
    "account_market=null",
    "recruiters.like_farm.tactics.repertoire=[drip_feed, more_accounts, older_accounts]",
]
NO_TACTICS = [
    "recruiters.like_farm.tactics.repertoire=[]",
    "recruiters.click_network.tactics.repertoire=[]",
]


def _survival(result, first_day, last_day):
    ts = result.timeseries
    hours = (ts["hour"] > first_day * 24) & (ts["hour"] <= last_day * 24)
    part = ts[hours]
    return 1 - part["actions_removed"].sum() / part["actions_delivered"].sum()


def test_policy_rules_against_hand_computations():
    # 14,400 flagged in a day, 60 reviews an hour: 10 moderators review them all
    assert rules.moderators_for(14_400, 1.0, 60 * 24) == 10
    assert rules.moderators_for(14_401, 1.0, 60 * 24) == 11
    assert rules.moderators_for(14_400, 0.5, 60 * 24) == 5
    # a review costs 1.5/60 = 0.025; removing a fake saves 0.95 x (0.05 - 0.004) = 0.0437
    assert rules.revenue_policy(10, 0.95, 0.05, 0.004, 1.5, 60) == 10
    assert rules.revenue_policy(10, 0.95, 0.02, 0.004, 1.5, 60) == 0


def test_a_purge_lowers_fake_survival_and_adapting_farms_recover_part_of_it():
    purge = run_scenario(ARMS, overrides=LATE_UPGRADE)
    no_purge = run_scenario(ARMS, overrides=LATE_UPGRADE + ["events.purge.trust_below=0"])
    rigid = run_scenario(ARMS, overrides=LATE_UPGRADE + NO_TACTICS)
    assert purge.summary["events"][0]["effect"] > 0  # accounts were banned at the purge
    assert no_purge.summary["events"][0]["effect"] == 0
    # before the purge nothing differs; after it, less of the fake engagement survives
    assert _survival(purge, 0, 4) == pytest.approx(_survival(no_purge, 0, 4))
    assert _survival(purge, 6, 8) < _survival(no_purge, 6, 8) - 0.05
    # farms that adopt tactics win part of it back; farms that cannot adapt do not
    assert _survival(purge, 8, 12) > _survival(rigid, 8, 12) + 0.02
    assert purge.summary["tactics"] and not rigid.summary["tactics"]


def test_tactics_are_recorded_hour_by_hour():
    result = run_scenario(ARMS, overrides=LATE_UPGRADE)
    adopted = result.timeseries["tactics_adopted"].to_numpy()
    assert adopted[0] == 0 and (np.diff(adopted) >= 0).all() and adopted[-1] > 0
    first = result.summary["tactics"][0]
    assert first["recruiter"] == "like_farm" and first["tactic"] == "drip_feed"
    assert first["removal_rate"] > 0.4  # above its threshold
    assert adopted[first["hour"]] >= 1


def test_raising_the_reputational_cost_raises_moderation():
    cheap = run_scenario(
        ARMS, days=3, overrides=["platform.moderation.reputation_cost_per_fake=0.01"]
    )
    dear = run_scenario(
        ARMS, days=3, overrides=["platform.moderation.reputation_cost_per_fake=0.2"]
    )
    assert cheap.timeseries["moderators_employed"].iloc[-1] == 0  # not worth a moderator's wage
    assert dear.timeseries["moderators_employed"].iloc[-1] > 0
    assert dear.summary["headline"]["total_removed"] > cheap.summary["headline"]["total_removed"]


def test_proportional_capacity_follows_the_flagged_volume():
    policy = [
        "platform.moderation.policy=proportional",
        "platform.moderation.review_share=0.5",
    ]
    lenient = run_scenario(ARMS, days=3, overrides=policy + ["platform.detection.bias=-8"])
    strict = run_scenario(ARMS, days=3, overrides=policy + ["platform.detection.bias=-5"])
    assert (
        strict.timeseries["moderators_employed"].iloc[-1]
        > lenient.timeseries["moderators_employed"].iloc[-1]
    )


def test_events_take_effect_at_their_hour():
    events = [
        "events=["
        "{id: more_mods, hour: 10, kind: moderation, moderators: 40},"
        "{id: closed, hour: 25, kind: shutdown, recruiter: click_network},"
        "{id: cheaper, hour: 5, kind: pay_shock, recruiter: like_farm, factor: 0.5}"
        "]",
        "platform.moderation.policy=fixed",
    ]
    model = ClickFarmModel(ARMS, rng=1, days=2, overrides=events)
    while model.running:
        model.step()
        if model.hour == 9:
            assert model.moderation.moderators == 10
        if model.hour == 10:
            assert model.moderation.moderators == 40
    assert model.market.posted_pay[0, 0] == 500  # 0.001 halved, in millionths
    network = model.market.index["click_network"]
    assert not model.market.active[network]
    after = [o for o in model.orders if o.recruiter == network and o.start >= 25]
    assert not after  # no orders placed with a recruiter that shut down
    closed = next(e for e in model.timeline.applied if e.id == "closed")
    assert closed.effect > 0 and model.metrics["total_expired"] >= closed.effect


def test_a_recruiter_that_enters_trades_only_from_its_hour():
    overrides = [
        "events=[{id: opening, hour: 24, kind: enter, recruiter: click_network}]",
    ]
    result = run_scenario(ARMS, seed=1, days=2, overrides=overrides)
    starts = [o.start for o in result.model.orders if o.tag == "network_clicks"]
    assert starts and min(starts) >= 24


@pytest.mark.parametrize(
    ("override", "field", "expected"),
    [
        ("events.purge.hour=-5", "events.purge.hour", "expected a number >= 0"),
        ("events.purge.hour=2.5", "events.purge.hour", "expected a whole number"),
        ("events.purge.trust_below=null", "events.purge", "needs trust_below"),
        ("events.purge.factor=2", "events.purge.factor", "does not use factor"),
        (
            "events=[{id: x, hour: 3, kind: shutdown, recruiter: nobody}]",
            "events.x.recruiter",
            "names recruiter 'nobody'",
        ),
        ("events.purge.kind=flood", "events.purge.kind", "expected 'purge'"),
    ],
)
def test_a_bad_event_is_refused_with_file_line_and_field(override, field, expected):
    with pytest.raises(ScenarioError) as err:
        load_scenario(ARMS, [override])
    text = str(err.value)
    assert field in text and expected in text
    assert "purge_arms_race.yaml" in text or "--set" in text


def test_an_event_hour_is_a_sweep_field(tmp_path):
    from sim.scenario.load import resolve_path
    from sim.sweeps.spec import load_sweep

    sweep = tmp_path / "purge_hour.yaml"
    sweep.write_text(
        "name: purge_hour\n"
        f"scenario: {resolve_path(ARMS).resolve()}\n"
        "days: 2\n"
        "parameters:\n"
        "  events.purge.hour: {values: [10, 30]}\n"
        "  events.purge.trust_below: {values: [0.3, 0.6]}\n"
        "design: grid\n"
        "seed: 1\n"
    )
    spec = load_sweep(sweep)
    assert {p.key for p in spec.parameters} == {"events.purge.hour", "events.purge.trust_below"}
    point = spec.point_scenario(["events.purge.hour=30", "events.purge.trust_below=0.6"])
    purge = next(e for e in point.events if e.id == "purge")
    assert (purge.hour, purge.trust_below) == (30, 0.6)
