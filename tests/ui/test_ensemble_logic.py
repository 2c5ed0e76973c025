"""Ensembles without the browser: seeds, bands and the seed-spread test, by hand."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from sim.ui.ensemble import Ensemble, SeedRun, beyond_spread, ensemble_seeds, run_ensemble
from sim.ui.session import Setup


def fake(values_by_seed: dict[int, list[float]]) -> Ensemble:
    runs = tuple(SeedRun(s, {"m": np.array(v, dtype=float)}) for s, v in values_by_seed.items())
    return Ensemble(Setup(), runs)


def test_seeds_start_with_the_master_and_are_reproducible():
    seeds = ensemble_seeds(7, 5)
    assert seeds[0] == 7 and len(set(seeds)) == 5
    assert seeds == ensemble_seeds(7, 5)
    assert ensemble_seeds(7, 3) == seeds[:3]
    assert ensemble_seeds(8, 5)[1:] != seeds[1:]
    with pytest.raises(ValueError):
        ensemble_seeds(7, 0)


def test_band_is_the_mean_and_the_10th_and_90th_percentile():
    ens = fake({s: [0.0, float(s)] for s in range(11)})  # final values 0..10
    mean, low, high = ens.band("m").end
    assert (mean, low, high) == (5.0, 1.0, 9.0)


def test_a_difference_counts_only_when_it_beats_the_seed_spread():
    a = fake({s: [float(s)] for s in range(11)})  # spread 1..9: width 8
    near = fake({s: [float(s) + 5] for s in range(11)})
    far = fake({s: [float(s) + 9] for s in range(11)})
    assert not beyond_spread(a, near, "m")
    assert beyond_spread(a, far, "m")


def test_an_ensemble_of_the_model_varies_with_the_seed_and_can_be_stopped():
    setup = Setup("baseline_microtask_market").change("days", 0.5)
    seeds = ensemble_seeds(setup.scenario().seed, 3)
    with ThreadPoolExecutor(2) as pool:
        ens = run_ensemble(setup, seeds, executor=pool)
        assert ens is not None and ens.seeds == seeds
        finals = ens.finals("total_removed")  # delivery is full: removals vary
        assert len(set(finals)) > 1, "different seeds, different runs"
        again = run_ensemble(setup, seeds, executor=pool)
        assert np.array_equal(again.finals("total_removed"), finals)
        assert run_ensemble(setup, seeds, executor=pool, should_stop=lambda: True) is None
