"""The per-step metrics' shortcuts give numpy's own answers, bit for bit."""

import numpy as np
import pytest

from sim.core import rules
from sim.core.metrics import _mean_speed, pay_percentiles, task_inequality


def test_pay_percentiles_by_hand():
    # n = 5: the 10th percentile lies 0.4 of the way from 1 to 2, the 90th 0.6 from 4 to 10
    p10, median, p90 = pay_percentiles(np.array([10.0, 2.0, 4.0, 1.0, 3.0]))
    assert (p10, median) == (1.4, 3.0) and p90 == pytest.approx(7.6, abs=1e-12)
    assert pay_percentiles(np.array([2.5])) == (2.5, 2.5, 2.5)
    assert pay_percentiles(np.zeros(0)) == (0.0, 0.0, 0.0)


def test_pay_percentiles_are_numpys_to_the_last_bit():
    rng = np.random.default_rng(7)
    for n in (*range(1, 40), 999, 1000, 4321):
        values = rng.lognormal(0.0, 1.5, n) - (0.3 if n % 3 == 0 else 0.0)
        expected = np.percentile(values, [10, 50, 90])
        assert np.array(pay_percentiles(values)).tobytes() == expected.tobytes()


def test_mean_speed_with_everyone_enrolled_is_the_masked_mean():
    rng = np.random.default_rng(3)
    for n in (1, 7, 8192, 8193, 30_001):
        speed = rng.lognormal(0.0, 0.5, n)
        everyone = np.ones(n, dtype=bool)
        assert _mean_speed(speed, everyone, n) == float(speed.mean(where=everyone))
        some = rng.random(n) < 0.5
        some[0] = True
        k = int(some.sum())
        assert _mean_speed(speed, some, k) == float(speed.mean(where=some))


def test_task_inequality_by_hand():
    # sorted 0, 0, 1, 3: Gini = 2 * (3 * 1 + 4 * 3) / (4 * 4) - 5 / 4 = 0.625; top 1 of 4: 3/4
    tasks = np.array([3, 0, 1, 0])
    assert task_inequality(tasks, tasks[tasks > 0]) == (0.625, 0.75)
    nobody = np.zeros(5, dtype=np.int64)
    assert task_inequality(nobody, nobody[nobody > 0]) == (0.0, 0.0)


def test_task_inequality_is_the_rules_to_the_last_bit():
    rng = np.random.default_rng(11)
    for n in (1, 2, 9, 10, 11, 57, 2_000, 30_000):
        tasks = rng.poisson(0.3, n) * rng.integers(0, 400, n)
        ordered = np.sort(tasks).astype(np.float64)
        expected = (
            rules.gini(ordered, presorted=True),
            rules.top_share(ordered, 0.10, presorted=True),
        )
        got = task_inequality(tasks, tasks[tasks > 0])
        assert np.array(got).tobytes() == np.array(expected).tobytes()
