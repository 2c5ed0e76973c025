"""Where the money goes, node by node: the graph behind the Sankey diagram.

The ledger books flows between tiers (clients, recruiters, workers...). A Sankey needs
one node per recruiter so that a chain of sub-contractors shows as a chain, so the
recruiter-to-recruiter payments are rebuilt here from the orders' pools: every payment
down a chain is ``actions delivered x price at that level``, exactly as the model books
it, and the totals per destination equal ``sim.run.outputs.money_destinations``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sim.core.model import ClickFarmModel
from sim.scenario.load import to_minor

CLIENT, RECRUITER, INFLUENCERS, WORKERS, MARGINS = (
    "client",
    "recruiter",
    "influencers",
    "workers",
    "margins",
)
PLATFORM, MODERATORS, SOFTWARE, ADVERTISERS = "platform", "moderators", "software", "advertisers"

NODE_COLOURS = {
    CLIENT: "#6b7280",
    RECRUITER: "#f59e0b",
    INFLUENCERS: "#8b5cf6",
    WORKERS: "#059669",
    MARGINS: "#b45309",
    PLATFORM: "#2563eb",
    MODERATORS: "#0d9488",
    SOFTWARE: "#db2777",
    ADVERTISERS: "#9ca3af",
}

WORKERS_NODE = "workers"
INFLUENCERS_NODE = "influencers"
MARGINS_NODE = "kept by recruiters"
PLATFORM_NODE = "platform"
MODERATORS_NODE = "moderators (wages)"
SOFTWARE_NODE = "bot software developer"
ESCROW_NODE = "still in escrow"
HELD_NODE = "workers' pay on hold"
ADVERTISERS_NODE = "advertisers (engagement)"


@dataclass
class MoneyGraph:
    """Nodes (name -> kind) and links ((source, target) -> ledger units)."""

    scale: int
    nodes: dict[str, str] = field(default_factory=dict)
    links: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    spend: int = 0
    """What the clients paid in all (order prices and promotion), in ledger units."""
    losses: dict[str, int] = field(default_factory=dict)
    """Recruiters that paid out more than they received (would not show in a Sankey)."""

    def add(self, source: str, source_kind: str, target: str, target_kind: str, units: int):
        """Add ``units`` to the link from ``source`` to ``target``; nothing if not positive.

        Each node keeps the kind it was first added with.
        """
        if units <= 0:
            return
        self.nodes.setdefault(source, source_kind)
        self.nodes.setdefault(target, target_kind)
        self.links[(source, target)] += int(units)

    def into(self, name: str) -> int:
        """Ledger units on all links into ``name``."""
        return sum(v for (_s, t), v in self.links.items() if t == name)

    def out_of(self, name: str) -> int:
        """Ledger units on all links out of ``name``."""
        return sum(v for (s, _t), v in self.links.items() if s == name)

    def money(self, units: int) -> float:
        """Ledger units as an amount of currency."""
        return units / self.scale

    def destinations(self) -> dict[str, float]:
        """Where the clients' money ended: workers, influencers, margins, platform...

        The recruiters' margins are net of the losses some of them paid from their own funds
        (a sub-contractor buying software from its capital), as in ``summary.json``.
        """
        ends = (WORKERS_NODE, INFLUENCERS_NODE, MARGINS_NODE, SOFTWARE_NODE, ESCROW_NODE, HELD_NODE)
        units = {name: self.into(name) for name in ends}
        units[MARGINS_NODE] -= sum(self.losses.values())
        out = {name: self.money(v) for name, v in units.items() if v}
        promotion = sum(
            v
            for (s, t), v in self.links.items()
            if t == PLATFORM_NODE and self.nodes.get(s) == CLIENT
        )
        if promotion:
            out["platform (promotion)"] = self.money(promotion)
        return out


def _unique(name: str, taken: dict[str, str]) -> str:
    out, n = name, 2
    while out in taken:
        out = f"{name} ({n})"
        n += 1
    return out


def money_graph(model: ClickFarmModel, platform_side: bool = True) -> MoneyGraph:
    """The money flows of the run so far, one node per client and per recruiter."""
    s = model.spec
    graph = MoneyGraph(scale=model.scale)
    names: dict[str, str] = {}
    client_node = {}
    for c in sorted({c.client for c in s.campaigns}):
        client_node[c] = _unique(c, names)
        names[client_node[c]] = CLIENT
    rec_node = {}
    for i, r in enumerate(s.recruiters):
        rec_node[i] = _unique(r.name or r.id, names)
        names[rec_node[i]] = RECRUITER
    held_by_leaf = model.workforce.held_by_leaf()
    withheld_by_leaf = model.workforce.withheld_by_leaf
    in_escrow = model.market.escrow_held_by_order()
    for o in model.orders:
        client = client_node[s.campaigns[o.campaign].client]
        # what the client paid the recruiter: at delivery, or released from escrow
        # (refills are the recruiter's own cost, refunds never reached it)
        paid = o.spent - o.promotion_spent
        graph.spend += paid
        graph.add(client, CLIENT, rec_node[o.recruiter], RECRUITER, paid)
        if in_escrow.get(o.index):
            graph.add(client, CLIENT, ESCROW_NODE, MARGINS, in_escrow[o.index])
            graph.spend += in_escrow[o.index]
        for p in o.pools:
            payer = rec_node[p.chain[0]]
            for level, rec in enumerate(p.chain[1:], start=1):
                units = int(p.delivered @ p.chain_prices[level])
                graph.add(payer, RECRUITER, rec_node[rec], RECRUITER, units)
                payer = rec_node[rec]
            graph.add(payer, RECRUITER, WORKERS_NODE, WORKERS, int(p.delivered @ p.pay))
            graph.add(
                payer,
                RECRUITER,
                INFLUENCERS_NODE,
                INFLUENCERS,
                int(p.delivered @ p.influencer_pay),
            )
    for i, r in enumerate(s.recruiters):
        if model.market.software_paid[i] and r.software_cost > 0:
            price = to_minor(r.software_cost, graph.scale)
            graph.add(rec_node[i], RECRUITER, SOFTWARE_NODE, SOFTWARE, price)
        graph.add(rec_node[i], RECRUITER, SOFTWARE_NODE, SOFTWARE, model.market.tactic_paid[i])
        # pay on hold has not reached the workers yet; withheld pay went back to the farm
        held, withheld = int(held_by_leaf[i]), int(withheld_by_leaf[i])
        if held or withheld:
            graph.links[(rec_node[i], WORKERS_NODE)] -= held + withheld
            graph.add(rec_node[i], RECRUITER, HELD_NODE, MARGINS, held)
    campaign_client = {c.id: client_node[c.client] for c in s.campaigns}
    for (tag, unit, _src, dst, purpose), units in model.ledger.tagged_flows.items():
        if unit == "money" and purpose == "promotion" and dst == "platform":
            graph.add(campaign_client[tag], CLIENT, PLATFORM_NODE, PLATFORM, units)
            graph.spend += units
    for i in range(len(s.recruiters)):
        node = rec_node[i]
        if node not in graph.nodes:
            continue
        kept = graph.into(node) - graph.out_of(node)
        if kept > 0:
            graph.add(node, RECRUITER, MARGINS_NODE, MARGINS, kept)
        elif kept < 0:
            graph.losses[node] = -kept
    if platform_side:
        flows = model.ledger.total_flows
        engagement = flows.get(("money", "world", "platform", "engagement ad revenue"), 0)
        wages = flows.get(("money", "platform", "moderators", "moderator wages"), 0)
        graph.add(ADVERTISERS_NODE, ADVERTISERS, PLATFORM_NODE, PLATFORM, engagement)
        graph.add(PLATFORM_NODE, PLATFORM, MODERATORS_NODE, MODERATORS, wages)
    return graph
