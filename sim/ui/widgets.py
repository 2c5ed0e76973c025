"""Pieces the three tabs share: charts, tables, error boxes and the live views of a run."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from typing import Any

import solara
import solara.lab

from sim.ui import charts, compare, links
from sim.ui.compare import HEADLINES, fmt
from sim.ui.ensemble import Ensemble
from sim.ui.flows import money_graph
from sim.ui.session import (
    MAX_UPLOAD_BYTES,
    LiveRun,
    Setup,
    friendly_error,
)
from sim.ui.state import (
    MODES,
    current_link,
    ensemble_error,
    ensemble_job,
    ensemble_size,
    go_to_slide,
    guarded,
    mode,
    page_base,
    platform_side,
    selected,
    slide,
    start_ensemble,
    watch_model,
)

log = logging.getLogger("sim.ui")


def locked(run: LiveRun, build: Callable[[], Any]) -> Any:
    """Call ``build`` while holding the run's lock and return what it returns."""
    with run.lock:
        return build()


@solara.component
def PayView(run: LiveRun, height: int = 330):
    """A histogram of the workers' effective hourly pay in ``run`` (unpaid hours if unpaid).

    Args:
        run: The live run whose model is drawn.
        height: The chart's height in pixels.
    """
    watch_model()
    solara.Text("Workers' effective hourly pay", classes=["cf-section"])
    option = safe_option(
        run, "pay", lambda: locked(run, lambda: charts.pay_histogram_option(run.model))
    )
    if option is not None:
        chart(option, "chart-pay", height, run)


@solara.component_vue("keys.vue")
def KeyListener(active: bool = False, event_key: Callable[[dict], None] | None = None):
    """An invisible listener for the presenter's keyboard shortcuts (keys.vue).

    Arrows, Page Up/Down, Home, End, space, S, R, 1-4 and Escape are passed on; F
    toggles full screen in the browser. Keys typed into form fields or with Ctrl, Alt
    or Meta held are ignored.

    Args:
        active: Whether key presses are handled at all.
        event_key: Called with ``{"key": ...}`` for each handled key.
    """
    pass


@solara.component_vue("upload.vue")
def UploadButton(
    label: str = "Upload a scenario file",
    max_bytes: int = MAX_UPLOAD_BYTES,
    event_upload: Callable[[dict], None] | None = None,
):
    """A button that opens a file picker and also accepts a dropped file (upload.vue).

    Args:
        label: The button's text.
        max_bytes: Files larger than this are not read; the event carries
            ``error="too large"`` and no text.
        event_upload: Called with ``{name, size, text}`` once the file is read, or
            with ``text=None`` and an ``error`` when it is too large or unreadable.
    """
    pass


@solara.component_vue("paste.vue")
def PasteBox(
    value: str = "",
    max_bytes: int = MAX_UPLOAD_BYTES,
    event_edit: Callable[[dict], None] | None = None,
):
    """A text area for pasted scenario YAML that checks its size before sending (paste.vue).

    Args:
        value: The text shown; a change from the server replaces what is in the box.
        max_bytes: Text larger than this is not sent; the event carries only its size.
        event_edit: Called on each edit with ``{text, size}``; ``text`` is None when
            the text is over ``max_bytes``.
    """
    pass


def too_large_message(what: str, size: int) -> str:
    """The error for text over the app's limit (a scenario file is a few kB)."""
    return (
        f"{what}: {size / 1e6:,.1f} MB is larger than the {MAX_UPLOAD_BYTES // 1000:,} kB the "
        "app accepts; expected a scenario file (nothing was loaded)"
    )


@solara.component
def Fold(title: str, children: list | None = None, open_by_default: bool = False):
    """A section that renders its contents only while open (keeps the page light)."""
    is_open, set_open = solara.use_state(open_by_default)
    with solara.Column(gap="0px", classes=["cf-fold"]) as main:
        solara.Button(
            ("▾ " if is_open else "▸ ") + title,
            text=True,
            on_click=lambda: set_open(not is_open),
            classes=["cf-fold-button"],
        )
        if is_open:
            solara.Column(children=children or [], gap="0px")
    return main


def esc(value: Any) -> str:
    """``value`` as text, HTML-escaped."""
    return html.escape(str(value))


def html_table(rows: list[dict[str, Any]], columns: list[str], cls: str = "cf-table") -> str:
    """An escaped HTML table of ``rows`` in ``columns`` order; missing cells are blank."""
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{esc(r.get(c, ''))}</td>" for c in columns) + "</tr>" for r in rows
    )
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def table(rows: list[dict[str, Any]], columns: list[str], testid: str) -> None:
    """A table whose test id travels inside its HTML.

    A ``solara.HTML`` element reused for new content can keep the attributes it was
    first drawn with; the content itself is always replaced, so the id goes there.
    """
    solara.HTML(
        tag="div",
        unsafe_innerHTML=f'<div data-testid="{esc(testid)}">{html_table(rows, columns)}</div>',
    )


@solara.component_vue("echart.vue")
def EChart(
    option_json: str = "{}",
    option_key: str = "",
    attributes: dict | None = None,
    event_select_node: Callable[[dict], None] | None = None,
):
    """An ECharts chart drawn in the browser (echart.vue).

    Args:
        option_json: The chart's option as a JSON string.
        option_key: While this stays the same from one option to the next, the chart
            is updated in place rather than rebuilt.
        attributes: HTML attributes of the chart's element (style, test id).
        event_select_node: Called with ``{id, name, kind}`` of a clicked item.
    """
    pass


def chart(
    option: dict | str,
    testid: str,
    height: int,
    run: LiveRun | None = None,
    on_click=None,
    key: str = "",
):
    """An ECharts view; options travel as one JSON string (cheap to diff and to send).

    While ``key`` stays the same, the browser updates the chart in place instead of
    rebuilding it: give a key only when the option's structure (series, axes) is fixed.
    """
    if mode.value == "Present":  # read from the back of the room
        height = max(height, charts.PRESENTER_MIN_HEIGHT)
        if isinstance(option, dict):
            option = charts.large_type(option)
    attributes = {"style": f"height: {height}px; width: 100%", "data-testid": testid}
    if run is not None:
        attributes["data-hour"] = str(run.steps)
    text = option if isinstance(option, str) else charts.to_json(option)
    full_key = f"{id(run)}:{key}" if key else ""
    return EChart(
        option_json=text, option_key=full_key, attributes=attributes, event_select_node=on_click
    )


def error_box(message: str | None, text: str | None = None, testid: str = "error") -> None:
    """An inline error; with the YAML text, also the offending line and its neighbours."""
    if not message:
        return
    snippet = ""
    if text:
        line = _line_of(message)
        if line:
            lines = text.splitlines()
            lo, hi = max(1, line - 2), min(len(lines), line + 2)
            parts = []
            for n in range(lo, hi + 1):
                mark = "cf-bad-line" if n == line else ""
                parts.append(
                    f'<div class="{mark}"><span class="cf-lineno">{n}</span>'
                    f"{esc(lines[n - 1])}</div>"
                )
            snippet = f'<pre class="cf-snippet">{"".join(parts)}</pre>'
    solara.HTML(
        tag="div",
        unsafe_innerHTML=f'<div class="cf-error-text">{esc(message)}</div>{snippet}',
        classes=["cf-error"],
        attributes={"data-testid": testid, "role": "alert"},
    )


def _line_of(message: str) -> int | None:
    head = message.split(": ", 1)[0]
    tail = head.rsplit(":", 1)
    if len(tail) == 2 and tail[1].isdigit():
        return int(tail[1])
    return None


@solara.component
def ModeSwitch():
    """Toggle buttons for the app's modes; entering Present returns to the current slide."""

    def switch(value: str) -> None:
        if value == "Present" and mode.value != "Present":
            go_to_slide(slide.value)
        mode.set(value)

    solara.ToggleButtonsSingle(value=mode.value, values=MODES, on_value=switch, dense=True)


@solara.component
def Tiles(run: LiveRun, keys: tuple[str, ...] | None = None, short: bool = False):
    """A row of tiles, one headline figure of the run so far in each.

    Args:
        run: The live run whose summary is shown.
        keys: Which headline figures, in order; default eight of them, from actions
            delivered to cost per 1,000 surviving.
        short: Use the short labels, with the currency moved into the label.
    """
    watch_model()
    cur = run.currency
    row = run.summary_row()
    keys = keys or (
        "total_delivered",
        "total_surviving",
        "total_banned",
        "total_client_spend",
        "worker_share_of_spend",
        "hourly_pay_median",
        "total_unpaid_hours",
        "cost_per_1000_surviving",
    )
    kinds = {k: kind for k, _label, kind in HEADLINES}
    parts = []
    for key in keys:
        value = row.get(key) if row else None
        kind = kinds[key]
        label = (compare.SHORT if short else compare.LABELS)[key]
        if short and kind in ("money", "rate"):  # the unit moves to the label
            label += f" ({cur}{'/h' if kind == 'rate' else ''})"
            shown = fmt(value, kind, "").strip().removesuffix("/h").strip()
        else:
            shown = fmt(value, kind, cur)
        parts.append(
            f'<div class="cf-tile" data-key="{key}"><div class="v">{esc(shown)}</div>'
            f'<div class="k">{esc(label)}</div></div>'
        )
    solara.HTML(
        tag="div",
        unsafe_innerHTML="".join(parts),
        classes=["cf-tiles"],
        attributes={"data-testid": "tiles"},
    )


def safe_option(run: LiveRun, key: Any, build: Callable[[], dict]) -> dict | None:
    """The run's cached result of ``build`` under ``key``.

    If building fails, the error is logged and an error box is shown instead, and
    None is returned.
    """
    try:
        return run.cached(key, build)
    except Exception as exc:
        log.exception("view %s failed", key)
        error_box(f"this view could not be drawn: {friendly_error(exc)}")
        return None


@solara.component
def TimeSeriesView(run: LiveRun, height: int = 560, compact: bool = False):
    """The headline metrics day by day; ``compact``: only actions and money (presenter)."""
    watch_model()
    solara.Text("Headline metrics over time", classes=["cf-section"])
    panels = charts.TIMESERIES_PANELS[:2] if compact else None
    option = safe_option(
        run,
        ("timeseries", compact, height),
        lambda: charts.timeseries_option(
            run.rows,
            run.currency,
            panels=panels,
            max_days=run.max_steps / 24,
            height=height,
            events=charts.event_markers(run.scenario, run.max_steps),
        ),
    )
    if option is not None:
        chart(option, "chart-timeseries", height, run, key=f"timeseries:{height}:{compact}")


@solara.component
def MoneyView(run: LiveRun, height: int = 360, shares: bool = True):
    """A Sankey diagram of where the clients' money has gone so far.

    Before any money is spent it shows a hint, or, when the work is unpaid (points or
    a cause), the unpaid hours instead. A checkbox adds the platform's side.

    Args:
        run: The live run whose money flows are drawn.
        height: The Sankey chart's height in pixels.
        shares: Also show a bar of each destination's share of the spend.
    """
    watch_model()
    solara.Text("Where the money goes", classes=["cf-section"])
    side = platform_side.value

    def build() -> dict[str, Any]:
        with run.lock:
            graph = money_graph(run.model, platform_side=side)
        return {"graph": graph}

    built = safe_option(run, ("money", side), build)
    if built is None:
        return
    graph = built["graph"]
    paying = any(
        any(c.price_per_action.values()) or c.promotion_per_day or c.budget
        for c in run.scenario.campaigns
    )
    if graph.spend <= 0 and (paying or not run.steps):
        solara.Text("No money has been spent yet: step or play the model.")
        return
    if graph.spend <= 0:
        row = run.summary_row()
        solara.HTML(
            tag="div",
            unsafe_innerHTML=(
                "<p><b>No client money changed hands.</b> The work was paid in points or "
                f"done for a cause: {row.get('total_unpaid_hours', 0.0):,.1f} unpaid hours so "
                "far.</p>"
            ),
            attributes={"data-testid": "money-empty"},
        )
        chart(charts.unpaid_value_option(row, run.currency), "chart-sankey", 170, run)
        return
    chart(charts.money_sankey_option(graph, run.currency), "chart-sankey", height, run)
    solara.Checkbox(
        label="include the platform's side (advertising income, moderators' wages)",
        value=platform_side,
    )
    if shares:
        chart(
            charts.shares_option([("all campaigns", graph.destinations())], run.currency),
            "chart-shares",
            120,
            run,
        )


def campaign_rows(run: LiveRun) -> list[dict[str, Any]]:
    """One formatted row per campaign: delivered, removed, surviving, spend, unit cost."""
    from sim.run.outputs import campaign_table

    with run.lock:
        table = campaign_table(run.model)
    cur = run.currency
    return [
        {
            "campaign": name,
            "client": c["client"],
            "delivered": f"{c['delivered']:,}",
            "removed": f"{c['removed']:,}",
            "surviving": f"{c['surviving']:,}",
            "spend": fmt(c["spend"], "money", cur),
            "per 1,000 surviving": fmt(c["cost_per_1000_surviving"], "money", cur),
        }
        for name, c in table.items()
    ]


@solara.component
def CampaignsView(run: LiveRun):
    """A table of the run's campaigns so far (see ``campaign_rows``), or an error box."""
    watch_model()
    solara.Text("Per campaign", classes=["cf-section"])
    try:
        rows = run.cached("campaigns", lambda: campaign_rows(run))
    except Exception as exc:
        log.exception("campaign table failed")
        error_box(f"the campaign table could not be built: {friendly_error(exc)}")
        return
    if not rows:
        return
    solara.HTML(
        tag="div",
        unsafe_innerHTML=html_table(rows, list(rows[0])),
        attributes={"data-testid": "campaigns-table"},
    )


@solara.component
def GroupsView(run: LiveRun):
    """Accounts banned in each worker group (bots against people, say)."""
    watch_model()
    solara.Text("Accounts banned, by worker group", classes=["cf-section"])
    rows = run.cached("groups", lambda: charts.group_rows(run.model))  # under the run lock
    solara.HTML(
        tag="div",
        unsafe_innerHTML=html_table(rows, list(rows[0])) if rows else "",
        attributes={"data-testid": "groups-table"},
    )


@solara.component
def NetworkView(run: LiveRun, height: int = 470):
    """The recruitment network of a sample of workers; clicking a node selects that agent.

    Args:
        run: The live run whose network is drawn.
        height: The chart's height in pixels.
    """
    watch_model()
    solara.Text("The recruitment network", classes=["cf-section"])
    layout = solara.use_memo(lambda: charts.network_layout(run.model, run.sample), [id(run)])
    chosen = selected.value

    def build():
        with run.lock:
            return charts.network_option(run.model, run.sample, layout, chosen)

    option = safe_option(run, ("network", chosen), build)
    if option is None:
        return
    total = run.model.workers.size
    shown = run.sample.size
    solara.Text(
        f"Showing {shown:,} of {total:,} workers (an even sample of every group)"
        if shown < total
        else f"All {total:,} workers",
        classes=["cf-hint"],
    )

    def clicked(event: dict) -> None:
        # echart.vue sends {id, name, kind} of the clicked item
        agent = charts.node_to_agent(str(event.get("id") or ""))
        if agent is not None:
            selected.set(agent)

    chart(option, "chart-network", height, run, on_click=clicked, key="network")
    solara.Text("Click a node to inspect it; scroll to zoom, drag to pan.", classes=["cf-hint"])


@solara.component
def GamificationView(run: LiveRun):
    """The points leaderboard and collective objectives, when the scenario has any.

    Shows nothing for a scenario without badges, a leaderboard or objectives.
    """
    watch_model()
    with run.lock:
        board = charts.leaderboard_rows(run.model)
        objectives = charts.objective_rows(run.model)
    g = run.scenario.gamification
    gamified = bool(g.badges or g.leaderboard_size or objectives or board)
    if not gamified:
        return
    with solara.Column(classes=["cf-panel"]):
        solara.Text("Points, leaderboard and objectives", classes=["cf-section"])
        with solara.Columns([1, 1], gutters_dense=True, classes=["cf-pair"]):
            with solara.Column():
                solara.Text("Leaderboard (top 10 by points)", classes=["cf-hint"])
                if board:
                    solara.HTML(
                        tag="div",
                        unsafe_innerHTML=html_table(board, list(board[0])),
                        attributes={"data-testid": "leaderboard"},
                    )
                else:
                    solara.Text("No points earned yet.")
            with solara.Column():
                solara.Text("Collective objectives", classes=["cf-hint"])
                if objectives:
                    shown = objectives[-12:]
                    parts = []
                    for o in shown:
                        pct = min(o["progress"], 1.0)
                        colour = {"reached": "#059669", "missed": "#dc2626"}.get(
                            o["state"], "#2563eb"
                        )
                        parts.append(
                            f"<div style='margin:4px 0'><div>{esc(o['objective'])}: "
                            f"{o['delivered']:,} of {o['target']:,} ({esc(o['state'])})</div>"
                            f"<div class='cf-progress'><div style='width:{pct:.1%};"
                            f"background:{colour}'></div></div></div>"
                        )
                    reached = sum(o["state"] == "reached" for o in objectives)
                    closed = sum(o["state"] in ("reached", "missed") for o in objectives)
                    solara.HTML(
                        tag="div",
                        unsafe_innerHTML=f"<div><b>{reached} reached of {closed} closed</b>"
                        f" (latest {len(shown)} shown)</div>" + "".join(parts),
                        attributes={"data-testid": "objectives"},
                    )
                else:
                    solara.Text("No objective has opened yet.")


# ------------------------------------------------------------------ ensembles
@solara.component
def EnsembleControls(setups: tuple[Setup, ...], what: str):
    """A "Run N seeds" button for ``setups``, with progress and Cancel while it runs."""
    n = ensemble_size.value
    with solara.Column(gap="4px", classes=["cf-ensemble"]):
        with solara.Row(gap="6px", style={"align-items": "center", "flex-wrap": "wrap"}):
            with solara.Column(style={"width": "90px", "flex": "0 0 90px"}):
                solara.InputInt("Seeds", value=ensemble_size, continuous_update=False)
            solara.Button(
                f"Run {n} seeds",
                on_click=guarded(lambda: start_ensemble(setups)),
                outlined=True,
                disabled=ensemble_job.pending,
            )
            if ensemble_job.pending:
                solara.Button("Cancel", on_click=ensemble_job.cancel, text=True)
        solara.Text(
            f"Runs {what} on {n} seeds (the first is the seed above), two at a time, and "
            "shows the mean and the 10th–90th percentile band.",
            classes=["cf-hint"],
        )
        if ensemble_job.pending:
            done = round((ensemble_job.progress or 0) * n * len(setups) / 100)
            solara.HTML(
                tag="div",
                unsafe_innerHTML=f"{done} of {n * len(setups)} runs done",
                attributes={"data-testid": "ensemble-progress"},
            )
            solara.ProgressLinear(ensemble_job.progress or True)
        elif ensemble_job.cancelled:
            solara.Text("Cancelled.", classes=["cf-hint"])
        if ensemble_job.error:
            error_box(f"the ensemble failed: {friendly_error(ensemble_job.exception)}")
        error_box(ensemble_error.value, testid="ensemble-error")


def band_chart(
    ensembles: tuple[Ensemble, ...],
    labels: tuple[str, ...],
    testid: str,
    height: int,
    metric: str | None = None,
) -> None:
    """Draw mean lines with 10th–90th percentile bands.

    With no ``metric``, every headline series of the first ensemble; with one, that
    metric for each ensemble on one panel, labelled by ``labels``.
    """
    first = ensembles[0]
    cur = first.setup.scenario().currency.code
    if metric is None:
        keys = [m for _title, lines in charts.TIMESERIES_PANELS for m, _label in lines]
        found = {k: first.band(k) for k in keys if k in first.runs[0].metrics}
        panels = None
    else:
        found = {label: e.band(metric) for e, label in zip(ensembles, labels, strict=True)}
        panels = [(compare.LABELS[metric], [(label, label) for label in labels])]
    hours = min(len(b.mean) for b in found.values())
    markers = charts.merged_markers(
        (label, charts.event_markers(e.setup.scenario(), hours))
        for e, label in zip(ensembles, labels, strict=True)
    )
    rows = [{k: float(b.mean[i]) for k, b in found.items()} for i in range(hours)]
    bands = {k: (b.low[:hours].tolist(), b.high[:hours].tolist()) for k, b in found.items()}
    option = charts.timeseries_option(
        rows,
        cur,
        panels=panels,
        columns=2 if metric is None else 1,
        max_days=first.runs[0].metrics[next(iter(first.runs[0].metrics))].size / 24,
        height=height,
        bands=bands,
        events=markers,
    )
    chart(option, testid, height)


# ------------------------------------------------------------------ links
@solara.component_vue("copylink.vue")
def CopyLinkButton(query: str = "", event_origin: Callable[[dict], None] | None = None):
    """A field with this page's link and a button that copies it (copylink.vue).

    Args:
        query: The query string appended to the page's address.
        event_origin: Called once mounted with ``{"base": ...}``, the page's origin
            and path as the browser sees them.
    """
    pass


@solara.component
def LinkBar(qr: bool = False):
    """Copy link (and, in presenter mode, its QR code) for the run on screen."""
    watch_model()
    query = links.to_query(current_link())
    if not links.link_fits(query):
        solara.Text(
            "This set-up is too long for a link: export the scenario YAML instead.",
            classes=["cf-hint"],
        )
        return

    def remember(info: dict) -> None:
        base = str(info.get("base") or "")[:300]
        if base.startswith(("http://", "https://")):
            page_base.set(base)

    CopyLinkButton(query=query, event_origin=remember)
    if qr and page_base.value:
        url = f"{page_base.value}?{query}"
        solara.HTML(
            tag="div",
            unsafe_innerHTML=links.qr_svg(url, scale=3),
            classes=["cf-qr"],
            attributes={"data-testid": "link-qr", "title": url},
        )
