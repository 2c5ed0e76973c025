"""ECharts options for the live views, built from a run (plain dictionaries, no Solara).

ECharts draws in the browser from these options; its script ships with Solara's
offline assets, so nothing is fetched from the network. Every option turns animation
off: a view redrawn every hour of model time should show the new state at once.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.core.model import ClickFarmModel
from sim.scenario.schema import Scenario
from sim.ui.flows import (
    CLIENT,
    MARGINS_NODE,
    NODE_COLOURS,
    WORKERS_NODE,
    MoneyGraph,
)

FONT = "Roboto, Helvetica, Arial, sans-serif"
LINE_COLOURS = ["#2563eb", "#059669", "#dc2626", "#f59e0b", "#7c3aed", "#0891b2", "#db2777"]
STATE_COLOURS = {
    "working this hour": "#059669",
    "idle": "#93c5fd",
    "some accounts banned": "#f59e0b",
    "every account banned": "#dc2626",
}
KIND_COLOURS = {
    "recruiter": "#334155",
    "influencer relaying": "#7c3aed",
    "influencer quiet": "#c4b5fd",
}


def to_json(option: dict[str, Any]) -> str:
    """Compact JSON for the browser (NaN and infinities become null)."""
    return json.dumps(option, separators=(",", ":"), allow_nan=False, default=_jsonable)


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot send {type(value).__name__} to a chart")


def sig(value: float, digits: int = 5) -> float:
    """Round to a few significant digits (smaller messages to the browser)."""
    value = float(value)
    if value == 0 or not math.isfinite(value):
        return 0.0 if not math.isfinite(value) else value
    return round(value, digits - 1 - int(math.floor(math.log10(abs(value)))))


PRESENTER_MIN_HEIGHT = 220
"""No chart in presenter mode is shorter than this (px)."""
PRESENTER_MIN_FONT = 14
"""No text in presenter mode is smaller than this (px)."""
_TEXT_PARTS = {
    "xAxis": ("axisLabel", "nameTextStyle"),
    "yAxis": ("axisLabel", "nameTextStyle"),
    "legend": ("textStyle", "selectorLabel"),
    "title": ("textStyle", "subtextStyle"),
    "tooltip": ("textStyle",),
    "dataZoom": ("textStyle",),
    "series": ("label", "edgeLabel"),
}


def large_type(option: dict[str, Any], smallest: int = PRESENTER_MIN_FONT) -> dict[str, Any]:
    """A copy of ``option`` in which no text is smaller than ``smallest`` px.

    Every ``fontSize`` below it is raised, and axis labels, axis names, legends, titles
    and series labels that rely on ECharts' defaults (12 px) get it explicitly.
    """

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            out = {k: walk(v) for k, v in node.items()}
            size = out.get("fontSize")
            if isinstance(size, int | float) and size < smallest:
                out["fontSize"] = smallest
                line = out.get("lineHeight")
                if isinstance(line, int | float):  # keep the lines of a label apart
                    out["lineHeight"] = max(line, round(smallest * 1.25))
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    out = walk(option)
    out["textStyle"] = {**out.get("textStyle", {}), "fontSize": smallest}
    for component, parts in _TEXT_PARTS.items():
        items = out.get(component)
        for item in items if isinstance(items, list) else [items] if items else []:
            for part in parts:
                style = item.setdefault(part, {})
                style["fontSize"] = max(style.get("fontSize", 0), smallest)
    return out


def _base(**extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "animation": False,
        "textStyle": {"fontFamily": FONT},
        "toolbox": {"right": 8, "top": 0, "feature": {"saveAsImage": {"title": "PNG"}}},
    }
    out.update(extra)
    return out


# ------------------------------------------------------------------ event markers
@dataclass(frozen=True)
class EventMarker:
    """A scenario event as the charts mark it: its id, at the hour it takes effect."""

    label: str
    hour: int


def event_markers(scenario: Scenario, hours: int | None = None) -> tuple[EventMarker, ...]:
    """The scenario's ``events:`` in order of hour, those after ``hours`` left out."""
    events = sorted(scenario.events, key=lambda e: e.hour)
    return tuple(EventMarker(e.id, e.hour) for e in events if hours is None or e.hour <= hours)


def merged_markers(
    labelled: Iterable[tuple[str, Sequence[EventMarker]]],
) -> tuple[EventMarker, ...]:
    """Markers of several runs on one chart.

    An event that not all of the runs share is labelled with those that have it
    (``purge (B)``).
    """
    labelled = list(labelled)
    owners: dict[EventMarker, list[str]] = {}
    for run_label, markers in labelled:
        for m in markers:
            owners.setdefault(m, []).append(run_label)
    return tuple(
        m if len(runs) == len(labelled) else EventMarker(f"{m.label} ({', '.join(runs)})", m.hour)
        for m, runs in sorted(owners.items(), key=lambda item: item[0].hour)
    )


def event_mark_line(markers: Sequence[EventMarker], hours_per_unit: float = 24.0) -> dict:
    """An ECharts ``markLine``: a dashed vertical line and the event's id at each marker.

    The x-axis is in days (``hours_per_unit`` 24) or in hours (1). An event takes
    effect at the start of its hour, as in the CLI's figures.
    """
    return {
        "silent": True,
        "symbol": ["none", "none"],
        "animation": False,
        "lineStyle": {"color": "#4b5563", "type": "dashed", "width": 1},
        "label": {
            "show": True,
            "position": "insideEndTop",
            "formatter": "{b}",
            "fontSize": 11,
            "color": "#374151",
            "backgroundColor": "rgba(255,255,255,0.8)",
        },
        "data": [{"name": m.label, "xAxis": sig(m.hour / hours_per_unit, 6)} for m in markers],
    }


# ------------------------------------------------------------------ time series
TIMESERIES_PANELS: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "Actions (cumulative)",
        [
            ("total_delivered", "delivered"),
            ("total_surviving", "surviving moderation"),
            ("total_removed", "removed"),
        ],
    ),
    (
        "Money (cumulative, {cur})",
        [
            ("total_client_spend", "client spend"),
            ("total_worker_income", "workers' income"),
            ("points_cost_saved", "points work priced by the paid twin"),
        ],
    ),
    ("Workers active each hour", [("active_workers", "active workers")]),
    (
        "Effective hourly pay ({cur}/h)",
        [
            ("hourly_pay_p90", "90th percentile"),
            ("hourly_pay_median", "median"),
            ("hourly_pay_p10", "10th percentile"),
        ],
    ),
    ("Accounts banned (cumulative)", [("total_banned", "accounts banned")]),
    ("Unpaid hours (cumulative)", [("total_unpaid_hours", "unpaid hours")]),
]


def _downsample(n: int, limit: int = 1500) -> slice:
    return slice(None, None, max(1, math.ceil(n / limit)))


def _band_series(
    band: tuple[Sequence[float], Sequence[float]],
    days: list[float],
    pick: slice,
    axis: int,
    label: str,
    colour: int,
) -> list[dict[str, Any]]:
    """A shaded band as two stacked lines: the low edge (invisible) and the width above it."""
    low = [sig(v) for v in band[0]][pick]
    width = [sig(h - lo) for lo, h in zip(band[0], band[1], strict=True)][pick]
    common = {
        "type": "line",
        "name": label,  # the legend toggles the band with its line
        "xAxisIndex": axis,
        "yAxisIndex": axis,
        "showSymbol": False,
        "stack": f"band-{axis}-{colour}",
        "color": LINE_COLOURS[colour % len(LINE_COLOURS)],
        "lineStyle": {"opacity": 0},
        "tooltip": {"show": False},
        "silent": True,
    }
    return [
        {**common, "data": [[d, v] for d, v in zip(days, low, strict=True)]},
        {
            **common,
            "areaStyle": {"opacity": 0.22, "color": LINE_COLOURS[colour % len(LINE_COLOURS)]},
            "data": [[d, v] for d, v in zip(days, width, strict=True)],
        },
    ]


def timeseries_option(
    rows: Sequence[dict[str, float]],
    currency: str,
    panels: list[tuple[str, list[tuple[str, str]]]] | None = None,
    columns: int = 2,
    max_days: float | None = None,
    height: int = 560,
    bands: dict[str, tuple[Sequence[float], Sequence[float]]] | None = None,
    events: Sequence[EventMarker] = (),
) -> dict[str, Any]:
    """Small multiples of the headline metrics against simulated days (``height`` in px).

    With ``bands`` (metric -> hourly low and high values, e.g. the 10th and 90th
    percentile across seeds), each line gets a shaded band in its own colour; ``rows``
    then hold the mean. Each panel marks the ``events`` (see :func:`event_mark_line`).
    """
    panels = panels or TIMESERIES_PANELS
    n = len(rows)
    pick = _downsample(n)
    days = [sig((i + 1) / 24, 6) for i in range(n)][pick]
    nrows = math.ceil(len(panels) / columns)
    cell = (height - 26) / nrows
    width = 100 / columns
    grids, xaxes, yaxes, titles, legends, series = [], [], [], [], [], []
    for k, (title, lines) in enumerate(panels):
        r, c = divmod(k, columns)
        top = r * cell
        left = f"{c * width + 1}%"
        grids.append(
            {
                "left": left,
                "width": f"{width - 4}%",
                "top": round(top + (44 if len(lines) > 1 else 26)),
                "height": round(cell - (44 if len(lines) > 1 else 26) - 24),
                "containLabel": True,
            }
        )
        titles.append(
            {
                "text": title.format(cur=currency),
                "left": left,
                "top": round(top),
                "textStyle": {"fontSize": 13, "fontWeight": "normal"},
            }
        )
        if len(lines) > 1:
            legends.append(
                {
                    "data": [label for _metric, label in lines],
                    # one line whatever the width (a wrapped legend ran into the plot at
                    # 1024 px): what does not fit scrolls behind arrows
                    "type": "scroll",
                    "width": f"{width - 6}%",
                    "left": left,
                    "top": round(top + 20),
                    "itemHeight": 12,  # a scrolling legend clips to its items' height
                    "itemWidth": 16,
                    "pageIconSize": 10,
                    "pageTextStyle": {"fontSize": 11},
                    "textStyle": {"fontSize": 11},
                }
            )
        xaxes.append(
            {
                "type": "value",
                "gridIndex": k,
                "min": 0,
                "max": max_days,
                "name": "day" if r == nrows - 1 else "",
                "nameGap": 20,
                "nameLocation": "middle",
                "splitLine": {"show": False},
            }
        )
        yaxes.append({"type": "value", "gridIndex": k, "splitNumber": 3})
        for j, (metric, label) in enumerate(lines):
            values = [sig(row.get(metric, 0.0)) for row in rows][pick]
            if bands and metric in bands:
                series.extend(_band_series(bands[metric], days, pick, k, label, j))
            series.append(
                {
                    "type": "line",
                    "name": label,
                    "xAxisIndex": k,
                    "yAxisIndex": k,
                    "showSymbol": False,
                    "lineStyle": {"width": 1.6},
                    "color": LINE_COLOURS[j % len(LINE_COLOURS)],
                    "data": [[d, v] for d, v in zip(days, values, strict=True)],
                    **({"markLine": event_mark_line(events)} if events and j == 0 else {}),
                }
            )
    return _base(
        title=titles,
        legend=legends,
        grid=grids,
        xAxis=xaxes,
        yAxis=yaxes,
        series=series,
        tooltip={"trigger": "axis"},
    )


# ------------------------------------------------------------------ money
def money_sankey_option(graph: MoneyGraph, currency: str) -> dict[str, Any]:
    """A Sankey of the money, with each destination's share of the clients' spend."""
    spend = graph.spend
    nodes = []
    client_money = {WORKERS_NODE, "influencers", MARGINS_NODE, "bot software developer"}
    for name, kind in graph.nodes.items():
        value = max(graph.into(name), graph.out_of(name))
        share = ""
        if spend and name in client_money:
            share = f" · {graph.into(name) / spend:.1%} of spend"
        elif spend and name == "platform":
            promotion = sum(
                v for (a, b), v in graph.links.items() if b == name and graph.nodes[a] == CLIENT
            )
            if promotion:
                share = f" · {promotion / spend:.1%} of spend"
        nodes.append(
            {
                "name": name,
                "itemStyle": {"color": NODE_COLOURS.get(kind, "#999")},
                "label": {
                    "formatter": f"{name}\n{_money(graph.money(value), currency)}{share}",
                    "offset": [0, 0],  # echart.vue moves labels apart from here
                },
            }
        )
    for name, loss in graph.losses.items():
        source = f"own funds of {name}"
        nodes.append(
            {
                "name": source,
                "itemStyle": {"color": "#9ca3af"},
                "label": {
                    "formatter": f"{source}\n(a loss of {_money(graph.money(loss), currency)})",
                    "offset": [0, 0],
                },
            }
        )
    links = [
        {"source": s, "target": t, "value": sig(graph.money(v), 7)}
        for (s, t), v in graph.links.items()
    ]
    for name, loss in graph.losses.items():
        links.append({"source": f"own funds of {name}", "target": name, "value": graph.money(loss)})
    return _base(
        tooltip={"trigger": "item"},
        series=[
            {
                "type": "sankey",
                "left": 10,
                "right": 150,
                "top": 30,
                "bottom": 10,
                "nodeGap": 14,
                "nodeAlign": "justify",
                "layoutIterations": 0,
                "emphasis": {"focus": "adjacency"},
                "lineStyle": {"color": "gradient", "opacity": 0.35, "curveness": 0.5},
                "label": {
                    "fontSize": 11,
                    "lineHeight": 14,
                    # narrow enough to fit between columns: longer names wrap
                    "width": 96,
                    "overflow": "break",
                    "backgroundColor": "rgba(255,255,255,0.75)",
                    "padding": [1, 3],
                    "borderRadius": 3,
                },
                "data": nodes,
                "links": links,
            }
        ],
    )


def _money(value: float, currency: str) -> str:
    if value == 0:
        return f"0 {currency}"
    if abs(value) >= 100:
        return f"{value:,.0f} {currency}"
    if abs(value) >= 1:
        return f"{value:,.2f} {currency}"
    return f"{value:.3g} {currency}"


def shares_option(
    bars: list[tuple[str, dict[str, float]]], currency: str, height_per_bar: int = 46
) -> dict[str, Any]:
    """Of each unit of money the clients spent, how much reached each destination."""
    order = [
        WORKERS_NODE,
        "influencers",
        MARGINS_NODE,
        "platform (promotion)",
        "bot software developer",
    ]
    names = sorted({k for _, d in bars for k in d}, key=lambda k: (order + [k]).index(k))
    colours = {
        WORKERS_NODE: NODE_COLOURS["workers"],
        "influencers": NODE_COLOURS["influencers"],
        MARGINS_NODE: NODE_COLOURS["margins"],
        "platform (promotion)": NODE_COLOURS["platform"],
        "bot software developer": NODE_COLOURS["software"],
    }
    series = []
    for name in names:
        data = []
        for _label, dest in bars:
            total = sum(dest.values())
            share = dest.get(name, 0.0) / total if total else 0.0
            data.append(
                {
                    "value": sig(share, 4),
                    "label": {"formatter": f"{share:.1%}" if share >= 0.04 else ""},
                }
            )
        series.append(
            {
                "type": "bar",
                "name": name,
                "stack": "share",
                "color": colours.get(name, "#999"),
                "data": data,
                "label": {
                    "show": True,
                    "color": "#fff",
                    "fontWeight": "bold",
                },
                "barWidth": 26,
            }
        )
    return _base(
        tooltip={"trigger": "axis", "axisPointer": {"type": "shadow"}},
        # one line, scrolling if need be: a second line ran into the axis labels
        legend={"bottom": 0, "type": "scroll", "pageIconSize": 10},
        grid={"left": 10, "right": 20, "top": 28, "bottom": 34, "containLabel": True},
        title={
            "text": f"Of each 1 {currency} the clients spent",
            "textStyle": {"fontSize": 13, "fontWeight": "normal"},
        },
        xAxis={"type": "value", "min": 0, "max": 1, "axisLabel": {"formatter": "{value}"}},
        yAxis={"type": "category", "inverse": True, "data": [label for label, _ in bars]},
        series=series,
    )


def unpaid_value_option(row: dict[str, float], currency: str) -> dict[str, Any]:
    """When no money moves: what the work was paid against what it was worth."""
    bars = [
        ("paid to the workers", row.get("total_worker_income", 0.0), "#059669"),
        ("the same actions at market prices", row.get("points_cost_saved", 0.0), "#dc2626"),
        (
            "their unpaid hours at the reference wage",
            row.get("unpaid_value_at_market_wage", 0.0),
            "#f59e0b",
        ),
    ]
    return _base(
        title={
            "text": f"What the work was worth ({currency})",
            "textStyle": {"fontSize": 13, "fontWeight": "normal"},
        },
        tooltip={"trigger": "axis", "axisPointer": {"type": "shadow"}},
        grid={"left": 10, "right": 60, "top": 30, "bottom": 10, "containLabel": True},
        xAxis={"type": "value"},
        yAxis={"type": "category", "inverse": True, "data": [b[0] for b in bars]},
        series=[
            {
                "type": "bar",
                "barWidth": 22,
                "label": {"show": True, "position": "right"},
                "data": [
                    {
                        "value": round(float(v), 2),
                        "itemStyle": {"color": c},
                        # thousands separators, the same rounding as every money figure
                        "label": {"formatter": _money(float(v), currency)},
                    }
                    for _n, v, c in bars
                ],
            }
        ],
    )


# ------------------------------------------------------------------ network
def worker_states(model: ClickFarmModel, idx: np.ndarray) -> list[str]:
    """Each worker's state: working this hour, idle, or locked out by bans."""
    w, acc = model.workers, model.accounts
    owned = np.bincount(acc.owner, minlength=w.size)[idx]
    banned = np.bincount(acc.owner[acc.banned], minlength=w.size)[idx]
    out = []
    for k, i in enumerate(idx):
        if w.accounts_alive[i] <= 0 or (owned[k] and banned[k] >= owned[k]):
            out.append("every account banned")
        elif banned[k]:
            out.append("some accounts banned")
        elif w.active_now[i]:
            out.append("working this hour")
        else:
            out.append("idle")
    return out


def network_layout(model: ClickFarmModel, sample: np.ndarray, max_influencers: int = 60):
    """Fixed node positions for the recruitment network, the same on every call.

    Recruiters sit in the middle, influencers around them and workers outside, each
    worker next to whoever recruited it. No random numbers are drawn.
    """
    s, w = model.spec, model.workers
    depth = {}
    for i, r in enumerate(s.recruiters):
        d, cur = 0, r.parent
        while cur is not None:
            d += 1
            cur = s.recruiters[model.market.index[cur]].parent
        depth[i] = d
    community = w.community[sample]
    shown_inf = np.zeros(0, dtype=np.int64)
    if model.influencers.network.size:
        sizes = model.community_sizes
        top = np.argsort(-sizes, kind="stable")[:max_influencers]
        shown_inf = np.unique(np.concatenate([top, community[community >= 0]]))
        if shown_inf.size > max_influencers * 2:
            shown_inf = np.sort(top)
    shown_set = set(shown_inf.tolist())
    # each worker hangs from its influencer if shown, else from its leaf recruiter
    parent_of_worker = []
    for k, i in enumerate(sample):
        c = int(community[k])
        if c >= 0 and c in shown_set:
            parent_of_worker.append(("i", c))
        else:
            parent_of_worker.append(("r", int(model.leaves[w.market[i]])))
    # angular sectors: one per leaf recruiter, sized by what hangs below it
    leaf_load: dict[int, float] = {}
    for k, (_kind, _p) in enumerate(parent_of_worker):
        leaf = int(model.leaves[w.market[sample[k]]])
        leaf_load[leaf] = leaf_load.get(leaf, 0) + 1
    for j in shown_inf:
        leaf = int(model.influencers.network[j])
        leaf_load[leaf] = leaf_load.get(leaf, 0) + 1
    for leaf in model.leaves:
        leaf_load.setdefault(int(leaf), 1)
    total = sum(leaf_load.values())
    start, sector = 0.0, {}
    for leaf in sorted(leaf_load):
        span = 2 * math.pi * leaf_load[leaf] / total
        sector[leaf] = (start, start + span)
        start += span
    pos: dict[str, tuple[float, float]] = {}

    def at(angle: float, radius: float) -> tuple[float, float]:
        return (sig(radius * math.cos(angle), 4), sig(radius * math.sin(angle), 4))

    # influencers spread over their leaf's sector; workers under their parent's sub-sector
    members: dict[tuple[str, int], list[int]] = {}
    for k, parent in enumerate(parent_of_worker):
        members.setdefault(parent, []).append(k)
    for leaf, (a0, a1) in sector.items():
        infl = [int(j) for j in shown_inf if int(model.influencers.network[j]) == leaf]
        direct = members.get(("r", leaf), [])
        slots: list[tuple[str, int, int]] = [
            ("i", j, len(members.get(("i", j), [])) + 1) for j in infl
        ]
        if direct:
            slots.append(("r", leaf, len(direct)))
        weight = sum(x[2] for x in slots) or 1
        a = a0
        for kind, ident, load in slots:
            span = (a1 - a0) * load / weight
            if kind == "i":
                pos[f"i{ident}"] = at(a + span / 2, 0.55)
            kids = members.get((kind, ident), [])
            for n, k in enumerate(kids):
                ring = 0.78 + 0.09 * (n % 3)
                pos[f"w{int(sample[k])}"] = at(a + span * (n + 0.5) / max(len(kids), 1), ring)
            a += span
    # recruiters: at the middle of their leaves' sectors, closer to the centre when higher up
    for i in range(len(s.recruiters)):
        leaves = _leaves_below(model, i)
        angles = [(sector[lf][0] + sector[lf][1]) / 2 for lf in leaves if lf in sector]
        if not angles:
            continue
        x = sum(math.cos(a) for a in angles) / len(angles)
        y = sum(math.sin(a) for a in angles) / len(angles)
        span = sum(sector[lf][1] - sector[lf][0] for lf in leaves if lf in sector)
        # a recruiter whose workers surround it on all sides sits straight above the centre
        angle = math.pi / 2 if span > 1.5 * math.pi else math.atan2(y, x)
        roots = [j for j in range(len(s.recruiters)) if depth[j] == 0]
        radius = (0.3 + 0.12 * depth[i]) if len(roots) > 1 else 0.28 * depth[i]
        pos[f"r{i}"] = at(angle, radius)
    return pos, shown_inf, parent_of_worker


def _leaves_below(model: ClickFarmModel, i: int) -> list[int]:
    out, stack = [], [i]
    while stack:
        cur = stack.pop()
        kids = model.market.structure.children[cur]
        if not kids:
            out.append(cur)
        stack.extend(kids)
    return out


def network_option(
    model: ClickFarmModel,
    sample: np.ndarray,
    layout: tuple | None = None,
    selected: tuple[str, int] | None = None,
) -> dict[str, Any]:
    """The recruitment network, workers coloured by state; click a node to inspect it.

    Drawn as points and straight links on fixed positions (cheaper for the browser to
    redraw every hour than a graph layout); scroll to zoom, drag to pan.
    """
    s, w = model.spec, model.workers
    pos, shown_inf, parent_of_worker = layout or network_layout(model, sample)
    groups: dict[str, list[dict[str, Any]]] = {
        name: [] for name in list(STATE_COLOURS) + list(KIND_COLOURS)
    }
    links: list[tuple[str, str]] = []
    chosen = f"{selected[0][0]}{selected[1]}" if selected else None
    labels = []
    for i, r in enumerate(s.recruiters):
        ident = f"r{i}"
        if ident not in pos:
            continue
        groups["recruiter"].append(
            {
                "id": ident,
                "name": f"{r.name or r.id} ({r.kind.replace('_', ' ')})",
                "value": list(pos[ident]),
                "symbol": "roundRect",
                "symbolSize": 22,
            }
        )
        labels.append({"value": list(pos[ident]), "name": r.name or r.id})
        if r.parent is not None:
            links.append((f"r{model.market.index[r.parent]}", ident))
    hour = model.hour
    sizes = model.community_sizes
    big = float(sizes.max()) if sizes.size and sizes.max() > 0 else 1.0
    for j in shown_inf:
        j = int(j)
        relaying = (hour - model.influencers.last_relay[j]) < model.influencers.attention[j]
        groups["influencer relaying" if relaying else "influencer quiet"].append(
            {
                "id": f"i{j}",
                "name": f"influencer {j}: {int(sizes[j]):,} followers",
                "value": list(pos[f"i{j}"]),
                "symbol": "diamond",
                "symbolSize": round(7 + 14 * math.sqrt(sizes[j] / big), 1),
            }
        )
        links.append((f"r{int(model.influencers.network[j])}", f"i{j}"))
    states = worker_states(model, sample)
    tasks = w.tasks_done[sample]
    most = float(tasks.max()) if tasks.size and tasks.max() > 0 else 1.0
    for k, i in enumerate(sample):
        i = int(i)
        ident = f"w{i}"
        kind = "bot" if w.is_bot[i] else "worker"
        item = {
            "id": ident,
            "name": f"{kind} {i}: {states[k]}, {int(tasks[k]):,} tasks",
            "value": list(pos[ident]),
            "symbolSize": round(4 + 8 * math.sqrt(tasks[k] / most), 1),
        }
        if w.is_bot[i]:
            item["symbol"] = "triangle"
        groups[states[k]].append(item)
        parent_kind, parent = parent_of_worker[k]
        links.append((f"{parent_kind}{parent}", ident))
    for items in groups.values():
        for item in items:
            if item["id"] == chosen:
                item["itemStyle"] = {"borderColor": "#111", "borderWidth": 3}
                item["symbolSize"] = max(item["symbolSize"], 14)
    colours = {**STATE_COLOURS, **KIND_COLOURS}
    series: list[dict[str, Any]] = [
        {
            "type": "lines",
            "coordinateSystem": "cartesian2d",
            "silent": True,
            "lineStyle": {"color": "#9ca3af", "opacity": 0.4, "width": 0.7},
            "data": [
                {"coords": [list(pos[a]), list(pos[b])]} for a, b in links if a in pos and b in pos
            ],
        }
    ]
    for name, items in groups.items():
        series.append(
            {
                "type": "scatter",
                "name": name,
                "itemStyle": {"color": colours[name]},
                "data": items,
                "z": 3 if name == "recruiter" else 2,
            }
        )
    series.append(
        {
            "type": "scatter",
            "silent": True,
            "symbolSize": 0,
            "data": labels,
            "label": {
                "show": True,
                "formatter": "{b}",
                "position": "bottom",
                "distance": 12,
                "fontSize": 11,
                "fontWeight": "bold",
                "backgroundColor": "rgba(255,255,255,0.8)",
                "padding": [1, 3],
            },
            "z": 4,
        }
    )
    axis = {"show": False, "min": -1.12, "max": 1.12}
    return _base(
        tooltip={"trigger": "item", "formatter": "{b}"},
        legend={
            "data": list(groups),
            "bottom": 0,
            "itemWidth": 12,
            "textStyle": {"fontSize": 11},
        },
        grid={"left": 4, "right": 4, "top": 24, "bottom": 56},
        xAxis={**axis},
        yAxis={**axis},
        dataZoom=[
            {"type": "inside", "xAxisIndex": 0, "filterMode": "none"},
            {"type": "inside", "yAxisIndex": 0, "filterMode": "none"},
        ],
        series=series,
    )


def node_to_agent(node_id: str) -> tuple[str, int] | None:
    """``"w12"`` -> ``("worker", 12)``: what a click on the network selects."""
    kinds = {"w": "worker", "r": "recruiter", "i": "influencer", "m": "moderator"}
    if not node_id or node_id[0] not in kinds or not node_id[1:].isdigit():
        return None
    return kinds[node_id[0]], int(node_id[1:])


# ------------------------------------------------------------------ pay distribution
def pay_values(model: ClickFarmModel) -> tuple[np.ndarray, str]:
    """Effective hourly pay of human workers who did a task (or online workers' unpaid hours).

    Pay counts the same workers as the summary's median: those who were online and did at
    least one task (see ``sim.core.metrics``); :func:`never_found_a_task` counts the rest.
    """
    w = model.workers
    earned = model.ledger.balances["money"][model.worker_accounts] / model.scale
    online = (~w.is_bot) & (w.hours_online > 0)
    worked = online & (w.tasks_done > 0)
    pay = earned[worked] / w.hours_online[worked]
    pays_money = any(any(r.pays.values()) for r in model.spec.recruiters)
    if (pay.size and np.any(pay > 0)) or (pays_money and not w.hours_unpaid.any()):
        return pay, "pay"  # (before anyone is online, a paid market is still a paid market)
    return w.hours_unpaid[online], "unpaid"


def never_found_a_task(model: ClickFarmModel) -> int:
    """Human workers who were online but never found a task (left out of the pay figure)."""
    w = model.workers
    return int(((~w.is_bot) & (w.hours_online > 0) & (w.tasks_done == 0)).sum())


def histogram(values: np.ndarray, bins: int = 30) -> tuple[list[float], list[int], bool]:
    """Bin centres and counts; logarithmic bins when values span many orders of magnitude."""
    if values.size == 0:
        return [], [], False
    positive = values[values > 0]
    log = positive.size > 0 and positive.max() / positive.min() > 200
    if log:
        edges = np.geomspace(positive.min(), positive.max() * 1.0001, bins + 1)
        counts, _ = np.histogram(positive, edges)
        centres = np.sqrt(edges[:-1] * edges[1:])
    else:
        hi = float(values.max()) if values.max() > values.min() else float(values.min()) + 1
        counts, edges = np.histogram(values, bins=bins, range=(float(values.min()), hi))
        centres = (edges[:-1] + edges[1:]) / 2
    return [sig(c) for c in centres], [int(c) for c in counts], bool(log)


def pay_histogram_option(model: ClickFarmModel) -> dict[str, Any]:
    """The histogram of human workers' effective hourly pay, with median and reference wage.

    When the work is not paid in money, it shows the workers' unpaid hours instead.
    """
    cur = model.spec.currency.code
    values, what = pay_values(model)
    centres, counts, log = histogram(values)
    zero = int((values <= 0).sum()) if log else 0
    marks = []
    if what == "pay" and values.size:
        med = float(np.median(values))
        marks.append(
            {"xAxis": sig(med) if med > 0 or not log else None, "name": f"median {med:.4g} {cur}/h"}
        )
        ref = float(model.spec.market_reference.wage_per_hour)
        marks.append(
            {
                "xAxis": sig(ref),
                "name": f"reference wage {ref:g} {cur}/h",
                "lineStyle": {"color": "#059669", "type": "dotted"},
                "label": {"position": "insideEndTop", "color": "#059669"},
            }
        )
    marks = [m for m in marks if m["xAxis"] is not None]
    if what == "pay":
        title = f"Effective hourly pay of {values.size:,} workers, unpaid search time included"
        idle = never_found_a_task(model)
        if not values.size:
            waiting = "done a task" if idle else "been online"
            title = f"Effective hourly pay: no worker has {waiting} yet"
        if idle:
            title += f"; {idle:,} online who never found a task are left out"
        axis = f"{cur} per hour" + (" (log scale)" if log else "")
        if zero:
            title += f"; {zero:,} earned nothing"
    else:
        title = f"No money paid: unpaid hours of {values.size:,} workers"
        axis = "unpaid hours per worker"
    return _base(
        title={"text": title, "textStyle": {"fontSize": 13, "fontWeight": "normal"}},
        tooltip={"trigger": "axis"},
        grid={"left": 10, "right": 40, "top": 58, "bottom": 30, "containLabel": True},
        xAxis={
            "type": "log" if log else "value",
            "name": axis,
            "nameLocation": "middle",
            "nameGap": 26,
            "scale": True,
        },
        # the name starts at the axis and runs right (centred on it, it was cut at the edge)
        yAxis={"type": "value", "name": "workers", "nameTextStyle": {"align": "left"}},
        series=[
            {
                "type": "line",
                "step": "middle",
                "name": "workers",
                "showSymbol": False,
                "areaStyle": {"opacity": 0.35},
                "color": "#2563eb" if what == "pay" else "#dc2626",
                "data": [[c, n] for c, n in zip(centres, counts, strict=True)],
                "markLine": {
                    "symbol": "none",
                    "label": {"formatter": "{b}", "position": "end", "fontSize": 11},
                    "lineStyle": {"color": "#111", "type": "dashed"},
                    "data": marks,
                },
            }
        ],
    )


# ------------------------------------------------------------------ worker groups
def group_rows(model: ClickFarmModel) -> list[dict[str, Any]]:
    """Per worker group: workers, accounts and how many of them the platform banned."""
    w, acc = model.workers, model.accounts
    account_group = w.group[acc.owner]
    rows = []
    for g, spec in enumerate(model.spec.workers):
        mine = account_group == g
        accounts = int(mine.sum())
        banned = int(acc.banned[mine].sum())
        rows.append(
            {
                "group": spec.id,
                "kind": "bots" if spec.kind == "bot" else "people",
                "workers": f"{int((w.group == g).sum()):,}",
                "accounts": f"{accounts:,}",
                "banned": f"{banned:,}",
                "share banned": f"{banned / accounts:.1%}" if accounts else "—",
            }
        )
    return rows


# ------------------------------------------------------------------ gamification
def leaderboard_rows(model: ClickFarmModel, n: int = 10) -> list[dict[str, Any]]:
    """The ``n`` workers with most points (those with some), with their badge and work.

    Empty when nobody has any points.
    """
    w = model.workers
    if not w.points.any():
        return []
    badges = sorted(model.spec.gamification.badges.items(), key=lambda kv: kv[1])
    top = np.argsort(-w.points, kind="stable")[:n]
    rows = []
    for rank, i in enumerate(top, start=1):
        pts = int(w.points[i])
        if pts <= 0:
            break
        badge = ""
        for name, threshold in badges:
            if pts >= threshold:
                badge = name
        rows.append(
            {
                "rank": rank,
                "worker": int(i),
                "group": model.spec.workers[int(w.group[i])].id,
                "points": pts,
                "badge": badge or "—",
                "tasks": int(w.tasks_done[i]),
                "unpaid hours": round(float(w.hours_unpaid[i]), 2),
            }
        )
    return rows


def objective_rows(model: ClickFarmModel) -> list[dict[str, Any]]:
    """Each collective objective that has opened: target, delivered, progress and state."""
    rows = []
    for o in model.orders:
        if not o.objective or o.status == "pending":
            continue
        target = int(o.quantities.sum())
        done = int(o.delivered.sum())
        if o.objective_reached:
            state = "reached"
        elif o.status == "closed":
            state = "missed"
        else:
            state = f"open, {max(o.end - model.hour - 1, 0)} h left"
        rows.append(
            {
                "objective": o.name,
                "target": target,
                "delivered": done,
                "progress": done / target if target else 0.0,
                "state": state,
            }
        )
    return rows


# ------------------------------------------------------------------ inspector
def history_option(
    frame, fields: Sequence[str], title: str, events: Sequence[EventMarker] = ()
) -> dict[str, Any]:
    """A chart of one agent's ``fields`` by hour, the first on the left axis, others right.

    The scenario's ``events`` are marked at their hour.
    """
    hours = frame["hour"].to_numpy() + 1
    series = []
    for k, name in enumerate(fields):
        series.append(
            {
                "type": "line",
                "name": name.replace("_", " "),
                "showSymbol": False,
                "yAxisIndex": 0 if k == 0 else 1,
                "color": LINE_COLOURS[k % len(LINE_COLOURS)],
                "data": [
                    [int(h), sig(v)] for h, v in zip(hours, frame[name].to_numpy(), strict=True)
                ],
            }
        )
    if series and events:
        series[0]["markLine"] = event_mark_line(events, hours_per_unit=1.0)
    return _base(
        title={"text": title, "textStyle": {"fontSize": 13, "fontWeight": "normal"}},
        tooltip={"trigger": "axis"},
        legend={"bottom": 0},
        grid={"left": 10, "right": 10, "top": 40, "bottom": 40, "containLabel": True},
        xAxis={"type": "value", "name": "hour", "min": 0, "nameLocation": "middle", "nameGap": 22},
        yAxis=[{"type": "value"}, {"type": "value", "splitLine": {"show": False}}],
        series=series,
    )


# ------------------------------------------------------------------ compare
def overlay_option(
    runs: list[tuple[str, Sequence[float]]],
    metric_label: str,
    difference: bool = False,
    max_days: float | None = None,
    events: Sequence[EventMarker] = (),
) -> dict[str, Any]:
    """Two runs' curves of one metric, or (``difference``) the second minus the first.

    ``max_days`` ends the day axis at the runs' length (ECharts would round it up to the
    next tick: day 15 for a 14-day run). The ``events`` are marked at their hour.
    """
    series = []
    if difference and len(runs) == 2:
        (la, a), (lb, b) = runs
        n = min(len(a), len(b))
        diff = [sig(b[i] - a[i]) for i in range(n)]
        series.append(
            {
                "type": "line",
                "name": f"{lb} − {la}",
                "showSymbol": False,
                "color": "#7c3aed",
                "areaStyle": {"opacity": 0.25},
                "data": [[sig((i + 1) / 24, 6), diff[i]] for i in range(n)],
            }
        )
        title = f"Difference: {metric_label} (B − A)"
    else:
        for k, (label, values) in enumerate(runs):
            series.append(
                {
                    "type": "line",
                    "name": label,
                    "showSymbol": False,
                    "color": LINE_COLOURS[k],
                    "data": [[sig((i + 1) / 24, 6), sig(v)] for i, v in enumerate(values)],
                }
            )
        title = metric_label
    if series and events:
        series[0]["markLine"] = event_mark_line(events)
    return _base(
        title={"text": title, "textStyle": {"fontSize": 13, "fontWeight": "normal"}},
        tooltip={"trigger": "axis"},
        legend={"bottom": 0},
        grid={"left": 10, "right": 20, "top": 40, "bottom": 40, "containLabel": True},
        xAxis={
            "type": "value",
            "name": "day",
            "nameLocation": "middle",
            "nameGap": 24,
            "min": 0,
            **({"max": sig(max_days, 6)} if max_days else {}),
        },
        yAxis={"type": "value"},
        series=series,
    )
