"""The same seed gives identical outputs; different seeds give different ones."""

import pandas as pd
import pytest

from sim.run.outputs import run_scenario

from .conftest import SCENARIOS


@pytest.mark.parametrize("name", SCENARIOS)
def test_same_seed_same_outputs(name):
    a = run_scenario(name, seed=7, days=2)
    b = run_scenario(name, seed=7, days=2)
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries, check_exact=True)
    pd.testing.assert_frame_equal(a.agents, b.agents, check_exact=True)
    assert a.summary == b.summary


@pytest.mark.parametrize("name", SCENARIOS)
def test_different_seeds_differ(name):
    a = run_scenario(name, seed=1, days=2)
    b = run_scenario(name, seed=2, days=2)
    assert not a.agents["speed"].equals(b.agents["speed"])
    assert not a.timeseries.drop(columns="seed").equals(b.timeseries.drop(columns="seed"))


def test_default_seed_is_the_scenarios_and_is_recorded():
    result = run_scenario("bots_vs_click_workers", days=1)
    assert result.summary["seed"] == 10000
    assert result.manifest["seed"] == 10000
    assert (result.timeseries["seed"] == 10000).all()
