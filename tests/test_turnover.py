"""Workers enter, leave and learn (docs/ODD.md 7.27): the rules by hand, the mechanism by
its direction, and the bookkeeping (ledger, determinism, bad input)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.core import rules
from sim.run.outputs import run_scenario
from sim.scenario.errors import ScenarioError
from sim.scenario.load import load_scenario

SCENARIO = "microtask_turnover"
DAYS = 14
GROUP = "workers.apac_workers"


def _run(*overrides: str, seed: int = 11, days: float = DAYS):
    return run_scenario(SCENARIO, seed=seed, days=days, overrides=list(overrides))


@pytest.fixture(scope="module")
def reference():
    return _run()


# -- the rules, against hand computations --------------------------------------------
def test_memory_halves_after_its_half_life():
    d = rules.memory_decay(48)
    assert d**48 == pytest.approx(0.5)
    earned, hours = rules.update_memory(np.array([10.0]), np.array([4.0]), 2.0, 1.0, 0.5)
    assert earned[0] == 7.0 and hours[0] == 3.0  # 0.5 x 10 + 2, 0.5 x 4 + 1
    rate = rules.remembered_rate(np.array([7.0, 5.0]), np.array([3.0, 0.0]))
    assert rate.tolist() == [7.0 / 3.0, 0.0]


def test_entry_needs_expected_earnings_above_the_outside_option():
    p = rules.entry_probability(3.0, np.array([2.0, 3.0, 4.0, 0.0]), 0.1, 2.0)
    # gain 3/2 - 1 = 0.5: 0.1 x (1 - e^-1); no gain: 0; no outside option: the full rate
    assert p[0] == pytest.approx(0.1 * (1 - math.exp(-1.0)))
    assert p[1] == 0.0 and p[2] == 0.0 and p[3] == pytest.approx(0.1)


def test_workers_leave_after_their_patience_of_low_earnings():
    streak = rules.low_earnings_streak(np.array([0, 2, 5]), np.array([1.0, 1.0, 3.0]), 2.0)
    assert streak.tolist() == [1, 3, 0]  # below, below, recovered
    assert rules.leaves(streak, 3).tolist() == [False, True, False]


def test_learning_curve_is_bounded():
    speed = rules.learned_speed(np.array([1.0, 2.0, 1.0]), np.array([0, 300, 10**9]), 0.5, 300)
    assert speed[0] == 1.0
    assert speed[1] == pytest.approx(2.0 * (1 + 0.5 * (1 - math.exp(-1.0))))
    assert speed[2] == pytest.approx(1.5)


def test_tiers_by_hours_in_the_last_week():
    tiers = rules.activity_tier(np.array([12.0, 5.0, 4.9, 1.0, 0.5, 0.0]))
    assert tiers.tolist() == [0, 0, 1, 1, 2, 2]


# -- the mechanism, by direction --------------------------------------------------------
def test_lower_pay_shrinks_the_workforce(reference):
    half = [
        f"recruiters.microtask_broker.pays.{a}={p}"
        for a, p in {"like": 0.01, "follow": 0.01, "share": 0.02, "comment": 0.075}.items()
    ]
    cut = _run(*half).summary["workforce"]
    ref = reference.summary["workforce"]
    assert cut["enrolled_end"] < 0.8 * ref["enrolled_end"]
    assert cut["left"] > ref["left"]


def test_a_better_outside_option_shrinks_the_workforce(reference):
    better = _run(f"{GROUP}.turnover.outside_option_per_hour=2.22").summary["workforce"]
    ref = reference.summary["workforce"]
    assert better["enrolled_end"] < 0.8 * ref["enrolled_end"]
    assert better["joined"] < ref["joined"]


def test_people_join_once_the_earnings_remembered_beat_their_outside_option(reference):
    ts = reference.timeseries
    # exits first shrink the crowded market; those who stay earn more and others follow
    assert ts["workers_enrolled"].min() < ts["workers_enrolled"].iloc[0]
    assert ts["workers_joined"].sum() > 0
    assert ts["workers_joined"][ts["hour"] % 24 != 0].sum() == 0  # churn is daily
    first_join = ts.index[ts["workers_joined"] > 0][0]
    remembered = ts["remembered_hourly_earnings"]
    assert remembered[first_join] > remembered[: first_join - 24].min()


def test_experience_raises_speed_and_unlocks_qualified_tasks(reference):
    ts = reference.timeseries
    no_learning = _run(f"{GROUP}.learning.max_speedup=0").timeseries
    assert ts["mean_speed"].iloc[-1] > 1.2 * ts["mean_speed"].iloc[1]
    # without learning, speed rises only by selection (the faster earn more and stay)
    assert ts["mean_speed"].iloc[-1] > 1.15 * no_learning["mean_speed"].iloc[-1]
    # nobody has 100 tasks at the start: the review work waits for experienced workers
    assert ts["share_qualified_tasks"].iloc[1] == 0.0
    assert reference.summary["workforce"]["share_qualified_tasks"] > 0.0
    out_of_reach = _run("campaigns.expert_reviews.min_experience_tasks=1000000", days=2)
    assert out_of_reach.summary["workforce"]["share_qualified_tasks"] == 0.0
    assert out_of_reach.summary["campaigns"]["expert_reviews"]["delivered"] == 0


def test_tiers_partition_the_enrolled_workers(reference):
    w = reference.summary["workforce"]
    tiers = w["tiers_last_7_days"]
    assert sum(t["workers"] for t in tiers.values()) == w["enrolled_end"]
    assert sum(t["share"] for t in tiers.values()) == pytest.approx(1.0)
    assert tiers["regular"]["workers"] > 0 and tiers["occasional"]["workers"] > 0


# -- bookkeeping ------------------------------------------------------------------------
def test_ledger_balances_and_the_same_seed_gives_the_same_run(reference):
    assert reference.summary["ledger_balanced"]
    again = _run()
    assert again.timeseries.equals(reference.timeseries)
    other = _run(seed=12)
    assert not other.timeseries["workers_enrolled"].equals(reference.timeseries["workers_enrolled"])


def test_turnover_is_off_unless_configured():
    plain = run_scenario("baseline_microtask_market", seed=1, days=1)
    assert "workforce" not in plain.summary
    ts = plain.timeseries
    assert (ts["workers_joined"] == 0).all() and (ts["workers_left"] == 0).all()
    assert (ts["workers_enrolled"] == ts["workers_enrolled"].iloc[0]).all()


def test_a_bad_turnover_field_is_a_located_error():
    with pytest.raises(ScenarioError) as info:
        load_scenario(SCENARIO, [f"{GROUP}.turnover.patience_days=0"])
    assert "patience_days" in str(info.value)


def test_bots_with_turnover_are_refused():
    with pytest.raises(ScenarioError, match="bots neither join, leave nor learn") as info:
        load_scenario("bots_vs_click_workers", ["workers.bots.turnover.reserve=10"])
    assert info.value.field == "workers.bots.turnover"
