"""The projector's two charts, built from the UI's own chart options (plain Python).

The money diagram is the Explore tab's Sankey (:func:`sim.ui.charts.money_sankey_option`)
and the network is its recruitment network (:func:`sim.ui.charts.network_option`), with
the agents students drive drawn larger, outlined and labelled with their nicknames.
Both are ECharts options the projector page draws with the bundled ECharts copy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.core.model import ClickFarmModel

NETWORK_SAMPLE = 150
"""Simulated workers drawn beside the students' own (a readable network on a projector)."""
STUDENT_COLOUR = "#dc2626"


def student_nodes(players: list[Any]) -> dict[str, str]:
    """Network node id -> nickname for the players who drive a worker or a broker."""
    prefix = {"worker": "w", "broker": "r"}
    return {
        f"{prefix[p.role]}{p.agent}": p.nickname
        for p in players
        if p.role in prefix and p.agent is not None
    }


def highlight(option: dict[str, Any], nodes: dict[str, str]) -> dict[str, Any]:
    """Outline the students' nodes and add a series that labels them with nicknames."""
    labels = []
    for series in option["series"]:
        for item in series.get("data", []):
            if isinstance(item, dict) and item.get("id") in nodes:
                item["itemStyle"] = {"borderColor": STUDENT_COLOUR, "borderWidth": 3}
                item["symbolSize"] = max(item.get("symbolSize", 8), 16)
                item["name"] = f"{nodes[item['id']]}: {item['name']}"
                labels.append({"value": item["value"], "name": nodes[item["id"]]})
    option["series"].append(
        {
            "type": "scatter",
            "name": "students",
            "silent": True,
            "symbolSize": 0,
            "data": labels,
            "label": {
                "show": True,
                "formatter": "{b}",
                "position": "top",
                "color": STUDENT_COLOUR,
                "fontWeight": "bold",
                "fontSize": 16,
            },
            "z": 5,
        }
    )
    return option


def options(model: ClickFarmModel, view: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The money Sankey and the highlighted network, in presenter-mode type sizes.

    Args:
        model: The session's model (read under the session's lock).
        view: The engine's lecturer view (for the players and their agents).
    """
    from sim.ui.charts import large_type, money_sankey_option, network_option
    from sim.ui.flows import money_graph
    from sim.ui.session import sample_workers

    money = large_type(money_sankey_option(money_graph(model), model.spec.currency.code))
    students = [p.agent for p in view.players if p.role == "worker" and p.agent is not None]
    sample = np.union1d(sample_workers(model, NETWORK_SAMPLE), np.asarray(students, dtype=int))
    network = highlight(network_option(model, sample.astype(np.int64)), student_nodes(view.players))
    return money, large_type(network)
