"""The workforce's fast paths give exactly the numbers of the rules they stand for."""

import numpy as np

from sim import ClickFarmModel
from sim.core import rules
from sim.core.workforce import _Pools


def _model_with_open_pools(scenario: str) -> ClickFarmModel:
    model = ClickFarmModel(scenario, rng=3, overrides=["days=2"])
    while model.running and not model.market.open_pools():
        model.step()
    assert model.market.open_pools()
    return model


def test_value_matrix_is_value_per_hour_element_for_element():
    for scenario in ("fillon2017_points", "ps2017_influencer_pyramid"):
        model = _model_with_open_pools(scenario)
        wf, w, market = model.workforce, model.workers, model.market
        pools = market.open_pools()
        desc = wf._describe(pools, model.steps, market)
        status = wf.status_multiplier()
        rows = np.arange(w.size)
        reach = wf.reach[:, desc.market]
        got = wf._values(rows, desc, reach, status)
        worth = wf.point_worth if status is None else wf.point_worth * status
        expected = rules.value_per_hour(
            desc.money[:, None],
            desc.points[:, None],
            desc.task_minutes[:, None],
            w.search_minutes[None, :] * desc.search_mult[:, None],
            w.speed[None, :],
            w.w_money[None, :],
            worth[None, :],
            wf.conviction_per_hour[None, :],
            desc.cause[:, None],
        )
        in_reach = reach[w.group].T
        assert np.array_equal(got[in_reach], expected[in_reach])
        assert np.all(got[~in_reach] == -np.inf)


def test_best_pool_is_the_first_highest_open_one_like_argmax():
    wf = ClickFarmModel("baseline_microtask_market", rng=3, overrides=["days=1"]).workforce
    values = np.array(
        [[1.0, 5.0, 2.0, -np.inf], [3.0, 5.0, 1.0, -np.inf], [3.0, 0.0, 7.0, -np.inf]]
    )
    rows = np.arange(4)
    desc = _Pools(*(np.zeros(3) for _ in range(6)))  # only ``min_tasks`` (none) is read
    best, value = wf._pick(values, rows, desc, np.array([True, True, False]))
    assert best[:3].tolist() == [1, 0, 0]  # pool 2 is closed; ties go to the first pool
    assert value.tolist() == [3.0, 5.0, 2.0, -np.inf]


def test_first_come_serves_arrivals_in_full_until_the_pool_runs_dry():
    # arrivals 2, 0, 3, 1 want 4, 3, 5, 2: with 9 tasks, 2 and 0 get all, 3 gets what is left
    got = rules.first_come(np.array([3, 2, 4, 5]), 9, np.array([2, 0, 3, 1]))
    assert got.tolist() == [3, 0, 4, 2]
    assert rules.first_come(np.array([3, 2]), 0, np.array([1, 0])).tolist() == [0, 0]
    assert rules.first_come(np.array([0, 2, 1]), 2, np.array([0, 1, 2])).tolist() == [0, 2, 0]
    rng = np.random.default_rng(5)
    for size in rng.integers(1, 200, 300):  # some beyond the arrivals summed first
        wanted = rng.poisson(3.0, size)
        arrival = rng.permutation(wanted.size)
        available = int(rng.integers(0, wanted.sum() + 2))
        in_order = wanted[arrival]
        before = np.cumsum(in_order) - in_order
        expected = np.empty_like(wanted)
        expected[arrival] = np.clip(available - before, 0, in_order)
        assert np.array_equal(rules.first_come(wanted, available, arrival), expected)
