"""Market, pay, motivation and detection rules against hand computations."""

import math

import numpy as np
import pytest

from sim.core import rules


def test_affordable_quantities_keeps_targets_within_budget():
    # 100 likes at 3 units + 10 posts at 50 units = 800 units: fits a budget of 1,000
    assert rules.affordable_quantities([100, 10], [3, 50], 1000).tolist() == [100, 10]
    # a budget of 400 buys half of each target (floor of pro rata)
    assert rules.affordable_quantities([100, 10], [3, 50], 400).tolist() == [50, 5]
    # 333 / 800 of each target, floored: 41 likes and 4 posts cost 323 <= 333
    q = rules.affordable_quantities([100, 10], [3, 50], 333)
    assert q.tolist() == [41, 4] and int(q @ np.array([3, 50])) <= 333
    assert rules.affordable_quantities([5], [7], None).tolist() == [5]


def test_pay_and_points_are_exact_integers():
    counts = np.array([[2, 1], [0, 3]])
    assert rules.pay_for_counts(counts, [60, 1_000]).tolist() == [1_120, 3_000]
    # urgency 3 triples the points of an urgent task (1 point -> 3)
    assert rules.points_for_counts(counts, [1, 1], urgency=3).tolist() == [9, 9]
    assert rules.pay_for_counts(counts, [60, 1_000]).dtype == np.int64


def test_search_multiplier_and_tasks_per_session():
    assert rules.search_multiplier(1.0) == 1.0
    assert rules.search_multiplier(0.25) == 4.0
    assert rules.search_multiplier(0.0) == 20.0  # floored at 5% fill
    # a 30-minute session, 1.5-minute tasks at speed 1 and 0.5 minutes search: 15 tasks
    assert rules.tasks_per_session(30, 1.5, np.array([1.0]), np.array([0.5]))[0] == 15
    # twice as fast halves only the working part: 30 / (0.75 + 0.5) = 24
    assert rules.tasks_per_session(30, 1.5, np.array([2.0]), np.array([0.5]))[0] == 24


def test_hourly_value_combines_money_points_and_conviction():
    v = rules.hourly_value(
        money_rate=np.array([100.0]),
        points_rate=np.array([10.0]),
        w_money=np.array([1.0]),
        w_points=np.array([0.5]),
        w_conviction=np.array([0.2]),
        point_value=np.array([4.0]),
        status_multiplier=np.array([1.5]),
        conviction_value=np.array([50.0]),
        cause_multiplier=2.0,
    )
    # 1*100 + 0.5*10*4*1.5 + 0.2*50*2 = 100 + 30 + 20
    assert v[0] == pytest.approx(150.0)
    assert rules.decides_to_work(np.array([150.0, 149.9]), np.array([150.0, 150.0])).tolist() == [
        True,
        False,
    ]


def test_badge_proximity_and_status():
    # badges at 50, 200, 500 points
    prox = rules.badge_proximity(
        np.array([0, 25, 50, 125, 499, 500, 900]), np.array([200, 50, 500])
    )
    assert prox.tolist() == pytest.approx([0.0, 0.5, 0.0, 0.5, 299 / 300, 0.0, 0.0])
    status = rules.status_multiplier(
        np.array([0.5]), np.array([1.0]), badge_gradient=1.0, leaderboard_bonus=0.5
    )
    assert status[0] == pytest.approx(2.0)
    assert rules.objective_multiplier(0.75, 2.0) == pytest.approx(2.5)
    assert rules.objective_multiplier(1.7, 2.0) == pytest.approx(3.0)


def test_fatigue_rises_with_work_and_recovers_with_rest():
    f = rules.update_fatigue(
        np.array([0.2, 0.2, 0.95]),
        np.array([1.0, 0.0, 1.0]),
        np.array([0.15, 0.15, 0.15]),
        np.array([0.1, 0.1, 0.1]),
    )
    assert f.tolist() == pytest.approx([0.35, 0.18, 1.0])


def test_online_probability_and_diurnal_cycle():
    assert rules.diurnal_factor(np.array([20, 44]))[0] == pytest.approx(1.0)
    assert rules.diurnal_factor(np.array([20, 44]))[1] == pytest.approx(1.0)  # wraps by day
    assert rules.diurnal_factor(np.array([3]))[0] == pytest.approx(0.1)
    p = rules.online_probability(np.array([0.5]), np.array([0.8]), np.array([0.25]))
    assert p[0] == pytest.approx(0.3)


def test_detection_signals_and_flag_probability():
    assert rules.burstiness(300, 100) == 0.75
    assert rules.burstiness(0, 0) == 0.0
    assert rules.centralisation(np.array([10, 0, 0])) == 1.0
    assert rules.centralisation(np.array([5, 5, 5, 5])) == 0.25
    assert rules.young_account_signal(np.array([0.0, 30.0]), 30.0).tolist() == pytest.approx(
        [1.0, math.exp(-1)]
    )
    assert rules.multiple_accounts_signal(np.array([1, 4])).tolist() == [0.0, 0.75]
    weights = {"a": 2.0, "b": -1.0}
    p = rules.flag_probability(-1.0, weights, {"a": np.array([1.0]), "b": np.array([1.0])})
    assert p[0] == pytest.approx(0.5)  # -1 + 2 - 1 = 0
    assert rules.review_capacity(10, 60.0) == 600


def test_inequality_measures():
    assert rules.gini(np.array([1, 1, 1, 1])) == pytest.approx(0.0)
    assert rules.gini(np.array([0, 0, 0, 4])) == pytest.approx(0.75)
    assert rules.top_share(np.array([1, 1, 1, 7] + [0] * 6), 0.1) == pytest.approx(0.7)
    assert rules.top_share(np.zeros(3), 0.1) == 0.0


def test_settling_pays_what_the_rate_card_rule_says():
    # market.settle pays a delivery with a shortcut (one column read, or none); it must
    # give exactly rules.pay_for_counts for any counts and card, shared rates or not
    from sim.core.market import _pay_for_delivery
    from sim.core.records import Delivery, K

    gen = np.random.default_rng(5)
    for _ in range(300):
        kinds = np.sort(gen.choice(K, size=gen.integers(1, K + 1), replace=False))
        counts = np.zeros((gen.integers(1, 40), K), dtype=np.int64)
        counts[:, kinds] = gen.integers(0, 5, size=(counts.shape[0], kinds.size))
        counts[0, kinds] += 1  # every listed type was delivered at least once
        card = gen.choice([0, 0, 20_000, 20_000, 40_000, 160_000], size=K).astype(np.int64)
        d = Delivery(
            None,
            None,
            np.arange(counts.shape[0]),
            counts.sum(axis=1),
            counts,
            counts.sum(axis=0),
            np.zeros(K, dtype=np.int64),
        )
        expected = rules.pay_for_counts(counts, card)
        got = _pay_for_delivery(d, card, kinds.tolist())
        if got is None:
            assert not expected.any()
        else:
            assert got.dtype == np.int64 and got.tolist() == expected.tolist()
