"""Influencer cascades on the follower network: the rule, the spreading, and what users read.

The runs are a scaled-down influencer pyramid (3,000 followers, 30 influencers, 2 days) so
that the whole file stays within a few seconds.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from sim.core import rules
from sim.core.cascade import graph_to_csr, neighbours_of
from sim.run.outputs import cascades_frame, run_scenario
from sim.scenario.errors import ScenarioError
from sim.scenario.load import load_scenario, shipped_scenarios

PYRAMID = "ps2017_influencer_pyramid"
NET = "recruiters.click_platform.influencers.network"
SMALL = ["workers.followers.count=3000", "recruiters.click_platform.influencers.count=30"]


SHIPPED = load_scenario(PYRAMID).recruiters[1].influencers.network.model_dump(exclude_unset=True)


def pyramid(seed: int = 11, days: int = 2, **network):
    """The small pyramid with the shipped network block changed by ``network`` (None: drop)."""
    block = {k: v for k, v in {**SHIPPED, **network}.items() if v is not None}
    return run_scenario(
        PYRAMID, seed=seed, days=days, overrides=[*SMALL, f"{NET}={json.dumps(block)}"]
    )


def cascades(result) -> dict:
    return result.summary["cascades"]


# ---------------------------------------------------------------- the rule, by hand
def test_hop_relay_probability_by_hand():
    # 0.2 at hop 0; halved at each hop: 0.1 at hop 1, 0.05 at hop 2
    got = rules.hop_relay_probability(np.array([0.2, 0.2, 0.2]), np.array([0.5, 0.5, 0.5]), 2)
    assert got == pytest.approx([0.05, 0.05, 0.05])
    assert rules.hop_relay_probability(np.array([0.3]), np.array([1.0]), 0) == pytest.approx(0.3)
    assert rules.hop_relay_probability(np.array([0.9]), np.array([2.0]), 3) == pytest.approx(1.0)


def test_ties_are_gathered_both_ways_over_worker_rows():
    # path 0-1-2 laid on worker rows 5, 7, 9 of ten
    graph = nx.path_graph(3)
    matrix = graph_to_csr(graph, np.array([5, 7, 9]), 10)
    indptr, indices = matrix.indptr.astype(np.int64), matrix.indices.astype(np.int64)
    source, target = neighbours_of(indptr, indices, np.array([7, 5]))
    pairs = sorted(zip(source.tolist(), target.tolist(), strict=True))
    assert pairs == [(0, 5), (0, 9), (1, 7)]  # row 7 reaches 5 and 9; row 5 reaches 7


# ---------------------------------------------------------------- directional
def test_higher_per_hop_probability_gives_larger_cascades():
    low, high = pyramid(relay_probability_per_hop=0.02), pyramid(relay_probability_per_hop=0.2)
    assert cascades(high)["size_mean"] > 3 * cascades(low)["size_mean"]
    assert cascades(high)["share_of_engagement"] > cascades(low)["share_of_engagement"]


def test_a_denser_network_gives_larger_cascades():
    def erdos_renyi(degree: float):
        return pyramid(generator="erdos_renyi", mean_degree=degree, edges_per_node=None)

    sparse, dense = erdos_renyi(2.0), erdos_renyi(12.0)
    assert cascades(dense)["follower_ties"] > 4 * cascades(sparse)["follower_ties"]
    assert cascades(dense)["size_mean"] > 2 * cascades(sparse)["size_mean"]


def test_hop_limit_zero_means_no_cascade_engagement_and_the_run_of_no_network():
    none = pyramid(max_hops=0)
    c = cascades(none)
    assert c["followers_reached"] == c["actions_from_cascades"] == 0
    assert c["share_of_engagement"] == 0.0
    assert none.timeseries["total_cascade_actions"].iloc[-1] == 0
    off = run_scenario(PYRAMID, seed=11, days=2, overrides=[*SMALL, f"{NET}=null"])
    assert "cascades" not in off.summary
    # the graph's seed is spawned, not drawn: the model's own stream is untouched
    kept = {k: v for k, v in none.summary.items() if k != "cascades"}
    assert kept == off.summary
    assert none.summary["headline"]["total_delivered"] > 0


def test_same_seed_same_cascades():
    a, b = pyramid(seed=4), pyramid(seed=4)
    assert a.summary == b.summary
    assert cascades_frame(a.model).equals(cascades_frame(b.model))
    assert cascades(a)["relays"] > 0
    other = pyramid(seed=5)
    assert not cascades_frame(other.model).equals(cascades_frame(a.model))


def test_ledger_balances_and_unpaid_cascades_leave_the_pay_with_the_platform():
    paid, unpaid = pyramid(), pyramid(influencer_paid_for_cascades=False)
    for result in (paid, unpaid):
        assert result.summary["ledger_balanced"]
        assert result.summary["headline"]["total_worker_income"] == 0  # followers unpaid
    # the same run (pay to influencers moves no follower): only who keeps the money differs
    assert cascades(paid) == cascades(unpaid)
    assert cascades(paid)["actions_from_cascades"] > 0
    tiers_paid = paid.summary["net_income_by_tier"]
    tiers_unpaid = unpaid.summary["net_income_by_tier"]
    kept = tiers_paid["influencers"] - tiers_unpaid["influencers"]
    assert kept > 0
    assert tiers_unpaid["recruiters"] - tiers_paid["recruiters"] == pytest.approx(kept)


# ---------------------------------------------------------------- bad input
def broken(tmp_path: Path, old: str, new: str) -> Path:
    text = shipped_scenarios()[PYRAMID].read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "bad.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_a_parameter_the_generator_does_not_use_is_a_located_error(tmp_path: Path):
    path = broken(tmp_path, "generator: barabasi_albert", "generator: watts_strogatz")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    text = str(info.value)
    assert "\n" not in text
    assert "edges_per_node" in text and "expected only: neighbours, rewire_probability" in text
    assert info.value.line is not None and info.value.file == str(path)


def test_an_unknown_generator_exits_2_with_one_line(tmp_path: Path):
    path = broken(tmp_path, "generator: barabasi_albert", "generator: small_world")
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert f"{path}:" in lines[0] and "barabasi_albert" in lines[0]


def test_too_many_ties_are_refused_before_any_graph_is_built():
    with pytest.raises(ScenarioError, match="ties; expected at most 1,000,000"):
        load_scenario(PYRAMID, ["workers.followers.count=500000", f"{NET}.edges_per_node=5"])


def test_the_influencer_who_started_a_cascade_is_paid_for_it():
    result = pyramid(relay_probability_per_hop=0.2)
    agents = result.agents
    influencers = agents[agents.kind == "influencer"].set_index("influencer")
    followers = agents[agents.kind != "influencer"]
    own = followers.groupby("influencer").tasks_done.sum().reindex(influencers.index).fillna(0)
    # at most 1.40 EUR an action (a share, at twice its typed pay): an influencer earning
    # more per action of its own community was paid for followers its cascades reached
    assert (influencers.money_earned / own.clip(lower=1)).max() > 1.40


def test_the_memory_estimate_counts_the_follower_ties():
    from sim.scenario.budget import BYTES_PER_TIE, estimate_memory

    with_net = estimate_memory(load_scenario(PYRAMID))
    without = estimate_memory(load_scenario(PYRAMID, [f"{NET}=null"]))
    # Barabasi-Albert with 3 ties per new follower over 20,000 followers: 3 x 19,997
    assert with_net.total - without.total == 3 * 19_997 * BYTES_PER_TIE
