"""Cascades: followers relay an influencer's call to their own followers on a real network.

Each influencer network with a ``network:`` block gets a follower graph, built once by
networkx (the scenario names the generator) over the network's workers and kept as CSR
arrays (``scipy.sparse``), so that spreading a call is a few vectorised gathers per hop.

When an influencer relays, its whole community gets the call (hop 0). A follower reached
at hop ``h`` then passes it to each follower of theirs with probability
``rules.hop_relay_probability`` (independent cascade, Kempe, Kleinberg & Tardos 2003),
for at most ``max_hops`` hops. A cascade only reaches followers who have no live call in
front of them: one still within its attention window has already seen a post and neither
takes the new call nor passes it on. Every call carries the influencer it started from:
that influencer is credited with the actions it brings (docs/ODD.md, "Cascades").
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx
import numpy as np
from scipy import sparse

from sim.core import rules
from sim.scenario.schema import FollowerNetwork, Scenario

NEVER = -(10**9)  # the hour of a call nobody ever got


def build_graph(spec: FollowerNetwork, n: int, seed: int) -> nx.Graph:
    """The follower graph over ``n`` nodes, drawn by the generator the scenario names.

    Args:
        spec: The validated ``network:`` block.
        n: Followers (nodes).
        seed: Seed for networkx, derived from the model's generator.

    Raises:
        ValueError: An unknown generator (validation makes this unreachable from a file).
    """
    if spec.generator == "barabasi_albert":
        return nx.barabasi_albert_graph(n, spec.edges_per_node, seed=seed)
    if spec.generator == "watts_strogatz":
        return nx.watts_strogatz_graph(n, spec.neighbours, spec.rewire_probability, seed=seed)
    if spec.generator == "erdos_renyi":
        return nx.fast_gnp_random_graph(n, min(spec.mean_degree / max(n - 1, 1), 1.0), seed=seed)
    if spec.generator == "powerlaw_cluster":
        return nx.powerlaw_cluster_graph(
            n, spec.edges_per_node, spec.triangle_probability, seed=seed
        )
    raise ValueError(f"unknown network generator {spec.generator!r}")


def graph_to_csr(graph: nx.Graph, rows: np.ndarray, size: int) -> sparse.csr_array:
    """The graph's ties, both ways, as a ``size`` x ``size`` CSR matrix over worker rows.

    Node ``i`` of the graph is worker row ``rows[i]``.
    """
    ties = np.array(graph.edges(), dtype=np.int64).reshape(-1, 2)
    a, b = rows[ties[:, 0]], rows[ties[:, 1]]
    src, dst = np.concatenate([a, b]), np.concatenate([b, a])
    ones = np.ones(src.size, dtype=np.int8)
    return sparse.csr_array((ones, (src, dst)), shape=(size, size))


def neighbours_of(
    indptr: np.ndarray, indices: np.ndarray, nodes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Every tie leaving ``nodes``: the position in ``nodes`` it leaves from, and its target.

    Vectorised CSR gather: no Python loop over nodes.
    """
    start, stop = indptr[nodes], indptr[nodes + 1]
    degree = stop - start
    source = np.repeat(np.arange(nodes.size), degree)
    # positions start[i], start[i] + 1, ... for each node, laid end to end
    first = np.cumsum(degree) - degree
    offset = np.arange(int(degree.sum())) - np.repeat(first, degree)
    return source, indices[np.repeat(start, degree) + offset]


@dataclass
class CascadeLog:
    """One row per relay by an influencer with a follower network: how far its call went."""

    hour: list[np.ndarray] = field(default_factory=list)
    influencer: list[np.ndarray] = field(default_factory=list)
    reached: list[np.ndarray] = field(default_factory=list)  # followers past the community
    depth: list[np.ndarray] = field(default_factory=list)  # hops of the farthest, 0 = none

    def add(self, hour: int, influencer: np.ndarray, reached: np.ndarray, depth: np.ndarray):
        """Record the cascades that started this hour."""
        self.hour.append(np.full(influencer.size, hour, dtype=np.int64))
        self.influencer.append(influencer)
        self.reached.append(reached)
        self.depth.append(depth)

    def column(self, name: str) -> np.ndarray:
        """One column over every cascade so far."""
        parts = getattr(self, name)
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


class Cascades:
    """The follower networks and the call in front of each follower.

    Args:
        scenario: The validated scenario.
        community: Each worker's influencer (-1 outside influencer networks).
        group: Each worker's group index.
        offset: First influencer index of each influencer network, by recruiter id.
        n_influencers: Influencers of all networks together.
        attention: Hours a call stays in front of a follower, per influencer.
        rng: The model's generator: each graph's seed comes from a child spawned from it,
            so building the graphs draws nothing from the model's own stream.
    """

    def __init__(
        self,
        scenario: Scenario,
        community: np.ndarray,
        group: np.ndarray,
        offset: dict[str, int],
        n_influencers: int,
        attention: np.ndarray,
        rng: np.random.Generator,
    ) -> None:
        n = community.size
        self.community, self.attention = community, attention
        self.call_hour = np.full(n, NEVER, dtype=np.int64)
        self.call_from = np.maximum(community, 0)  # the influencer whose call it is
        self.depth = np.zeros(n, dtype=np.int64)  # hops from that influencer's community
        # per influencer: its network's cascade parameters
        self.base = np.zeros(n_influencers)
        self.decay = np.ones(n_influencers)
        self.max_hops = np.zeros(n_influencers, dtype=np.int64)
        self.paid = np.ones(n_influencers, dtype=bool)
        self.networked = np.zeros(n_influencers, dtype=bool)
        networks = [
            r for r in scenario.recruiters if r.influencers and r.influencers.network is not None
        ]
        matrix = sparse.csr_array((n, n), dtype=np.int8)
        for r, child in zip(networks, rng.spawn(len(networks)), strict=True):
            spec = r.influencers.network
            sl = slice(offset[r.id], offset[r.id] + r.influencers.count)
            self.base[sl], self.decay[sl] = spec.relay_probability_per_hop, spec.decay_per_hop
            self.max_hops[sl], self.paid[sl] = spec.max_hops, spec.influencer_paid_for_cascades
            self.networked[sl] = True
            groups = [g for g, w in enumerate(scenario.workers) if w.recruiter == r.id]
            rows = np.flatnonzero(np.isin(group, groups))
            graph = build_graph(spec, rows.size, int(child.integers(2**32)))
            matrix = matrix + graph_to_csr(graph, rows, n)
        matrix.sort_indices()  # neighbours in row order: the draws do not depend on scipy
        self.indptr = matrix.indptr.astype(np.int64)
        self.indices = matrix.indices.astype(np.int64)
        self.ties = int(self.indices.size // 2)
        self.log = CascadeLog()
        self.reached_this_hour = 0

    def degree(self) -> np.ndarray:
        """Each worker's number of follower ties."""
        return np.diff(self.indptr)

    def spread(self, hour: int, relays: np.ndarray, rng: np.random.Generator) -> None:
        """Deliver this hour's calls: relaying influencers' communities, then the cascades.

        Args:
            hour: The hour simulated.
            relays: Per influencer, whether it relayed this hour.
            rng: The model's generator (nothing is drawn when no hop is allowed).
        """
        self.reached_this_hour = 0
        started = np.flatnonzero(relays & self.networked)
        seeds = np.flatnonzero((self.community >= 0) & relays[np.maximum(self.community, 0)])
        labels = self.community[seeds]
        self.call_hour[seeds], self.call_from[seeds], self.depth[seeds] = hour, labels, 0
        if not started.size:
            return
        reached = np.zeros(relays.size, dtype=np.int64)
        deepest = np.zeros(relays.size, dtype=np.int64)
        taken = np.zeros(self.community.size, dtype=bool)
        taken[seeds] = True
        live = (hour - self.call_hour) < self.attention[self.call_from]
        frontier = seeds
        for hop in range(int(self.max_hops[started].max())):
            keep = hop < self.max_hops[labels]
            frontier, labels = frontier[keep], labels[keep]
            if not frontier.size:
                break
            source, target = neighbours_of(self.indptr, self.indices, frontier)
            chance = rules.hop_relay_probability(self.base[labels], self.decay[labels], hop)
            hit = rng.random(target.size) < chance[source]
            target, origin = target[hit], labels[source[hit]]
            fresh = ~taken[target] & ~live[target]
            target, origin = target[fresh], origin[fresh]
            if target.size:
                # reached by several at once: the call of one of them, chosen at random
                order = rng.permutation(target.size)
                target, first = np.unique(target[order], return_index=True)
                origin = origin[order][first]
            taken[target] = True
            self.call_hour[target], self.call_from[target] = hour, origin
            self.depth[target] = hop + 1
            reached += np.bincount(origin, minlength=relays.size)
            deepest[origin] = hop + 1
            frontier, labels = target, origin
        self.reached_this_hour = int(reached.sum())
        self.log.add(hour, started, reached[started], deepest[started])

    def sees(self, who: np.ndarray, hour: int) -> np.ndarray:
        """Whether each of these followers has a live call in front of them."""
        return (hour - self.call_hour[who]) < self.attention[self.call_from[who]]

    def credit(self, who: np.ndarray, owed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Which influencer each delivering follower's actions are credited to, and its pay.

        Pay for a cascade follower's actions goes to the influencer whose call reached them,
        or to nobody (zero) where the network does not pay for cascades.
        """
        origin = self.call_from[who]
        unpaid = (self.depth[who] > 0) & ~self.paid[origin]
        return origin, np.where(unpaid, 0, owed)

    def cascade_actions(self, who: np.ndarray, done: np.ndarray) -> int:
        """Of these deliveries, the actions done by followers a cascade brought."""
        return int(done[self.depth[who] > 0].sum())
