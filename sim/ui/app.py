"""The Solara app behind ``clickfarm ui``: Explore, Compare and Present.

Run it with ``clickfarm ui`` (or ``solara run sim.ui.app``). Each browser tab gets its
own state (Solara scopes the reactive variables below to one visitor). Every handler
that touches the model goes through :func:`guarded`, so a failure shows as a message on
the page and never takes the server or the page down.
"""

from __future__ import annotations

import functools
import html
import logging
import time
from collections.abc import Callable
from typing import Any

import solara
import solara.lab

from sim.scenario.errors import ScenarioError
from sim.ui import charts, compare, export, params, story, whatifs
from sim.ui.compare import HEADLINES, Comparison, fmt
from sim.ui.flows import money_graph
from sim.ui.session import (
    AGENT_KINDS,
    MAX_UPLOAD_BYTES,
    LiveRun,
    Setup,
    agent_count,
    agent_fields,
    agent_title,
    check_size,
    friendly_error,
    shipped_titles,
)

log = logging.getLogger("sim.ui")

MODES = ["Explore", "Compare", "Present"]
SPEEDS = [1, 2, 5, 10, 24, 48, 120]
"""Play speeds, in simulated hours per second."""

# ------------------------------------------------------------------ visitor state
setup = solara.reactive(Setup())
live: solara.Reactive[LiveRun | None] = solara.reactive(None)
tick = solara.reactive(0)
load_error: solara.Reactive[str | None] = solara.reactive(None)
load_error_text: solara.Reactive[str | None] = solara.reactive(None)
param_error: solara.Reactive[str | None] = solara.reactive(None)
page_error: solara.Reactive[str | None] = solara.reactive(None)
playing = solara.reactive(False)
to_end = solara.reactive(False)
"""Playing flat out to the end of the run (Run to end) rather than at the chosen speed."""
speed = solara.reactive(5)
selected: solara.Reactive[tuple[str, int] | None] = solara.reactive(None)
mode = solara.reactive("Explore")
pasted = solara.reactive("")
pasted_too_large: solara.Reactive[int | None] = solara.reactive(None)
"""Size in bytes of text pasted over the limit (the box then holds text the server lacks)."""
slide = solara.reactive(0)
comparison: solara.Reactive[Comparison | None] = solara.reactive(None)
compare_error: solara.Reactive[str | None] = solara.reactive(None)
platform_side = solara.reactive(False)
"""Whether the money diagram adds the platform's side (off: the docs say to tick it)."""
run_finished = solara.reactive(False)
"""Whether the current run has ended (changes rarely, unlike ``tick``)."""
run_started = solara.reactive(False)
"""Whether the current run has at least one hour (exports need one)."""


def guarded(handler: Callable) -> Callable:
    """Run an event handler; show any failure on the page instead of raising it."""

    @functools.wraps(handler)
    def wrapper(*args, **kwargs):
        try:
            return handler(*args, **kwargs)
        except Exception as exc:
            log.exception("handler %s failed", getattr(handler, "__name__", handler))
            page_error.set(friendly_error(exc))
            playing.set(False)
            return None

    return wrapper


def watch_model() -> int:
    """Subscribe the calling component to model steps: it redraws after each one."""
    return tick.value


def bump() -> None:
    """Tell the views the model moved on (only the views that show it redraw)."""
    run = live.value
    if run is not None:
        run_finished.set(run.finished)
        run_started.set(run.steps > 0)
    tick.set(tick.value + 1)


def build_run(new: Setup) -> LiveRun:
    scenario = new.scenario()
    check_size(scenario)
    return LiveRun(new, scenario)


def load_setup(new: Setup, *, text_for_errors: str | None = None) -> bool:
    """Validate and build a set-up; on failure keep the current run and say why."""
    try:
        run = build_run(new)
    except ScenarioError as exc:
        load_error_text.set(text_for_errors)  # first, so the message never shows without it
        load_error.set(friendly_error(exc))
        return False
    except Exception as exc:
        log.exception("building the model failed")
        load_error_text.set(text_for_errors)
        load_error.set(f"the model could not be built: {friendly_error(exc)}")
        return False
    playing.set(False)
    to_end.set(False)
    load_error.set(None)
    load_error_text.set(None)
    param_error.set(None)
    page_error.set(None)
    selected.set(None)
    setup.set(new)
    live.set(run)
    bump()
    return True


def change_parameter(new: Setup) -> None:
    """A control changed: rebuild from hour 0, or show the problem next to the controls."""
    try:
        run = build_run(new)
    except Exception as exc:
        param_error.set(friendly_error(exc))
        return
    playing.set(False)
    to_end.set(False)
    param_error.set(None)
    page_error.set(None)
    setup.set(new)
    live.set(run)
    bump()


@guarded
def do_step(hours: int = 1) -> None:
    run = live.value
    if run is not None:
        run.step(hours)
        bump()


@guarded
def do_reset() -> None:
    playing.set(False)
    load_setup(setup.value)


@guarded
def toggle_play() -> None:
    run = live.value
    to_end.set(False)
    if run is None:
        return
    if run.finished:
        playing.set(False)
        return
    playing.set(not playing.value)


@guarded
def run_to_end() -> None:
    """Play as fast as the model goes, redrawing now and then, until the run ends."""
    run = live.value
    if run is None or run.finished:
        return
    to_end.set(True)
    playing.set(True)


def pace(hours_per_second: float) -> tuple[int, float]:
    """Hours per redraw and seconds between redraws for a play speed (≤ 10 redraws/s)."""
    per_tick = max(1, round(hours_per_second / 10))
    return per_tick, per_tick / hours_per_second


# ------------------------------------------------------------------ small pieces
@solara.component_vue("keys.vue")
def KeyListener(active: bool = False, event_key: Callable[[dict], None] | None = None):
    pass


@solara.component_vue("upload.vue")
def UploadButton(
    label: str = "Upload a scenario file",
    max_bytes: int = MAX_UPLOAD_BYTES,
    event_upload: Callable[[dict], None] | None = None,
):
    pass


@solara.component_vue("paste.vue")
def PasteBox(
    value: str = "",
    max_bytes: int = MAX_UPLOAD_BYTES,
    event_edit: Callable[[dict], None] | None = None,
):
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
    return html.escape(str(value))


def html_table(rows: list[dict[str, Any]], columns: list[str], cls: str = "cf-table") -> str:
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{esc(r.get(c, ''))}</td>" for c in columns) + "</tr>" for r in rows
    )
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


@solara.component_vue("echart.vue")
def EChart(
    option_json: str = "{}",
    option_key: str = "",
    attributes: dict | None = None,
    event_select_node: Callable[[dict], None] | None = None,
):
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


# ------------------------------------------------------------------ the page
CSS = """
.cf-root { max-width: 1600px; margin: 0 auto; padding: 8px 16px 40px 16px; }
.cf-title { font-size: 1.45rem; font-weight: 500; margin: 0; }
.cf-sub { color: #555; font-size: 0.9rem; }
.cf-hint { color: #666; font-size: 0.78rem; line-height: 1.2; }
.cf-section { font-weight: 500; font-size: 1.02rem; margin: 10px 0 2px 0; }
.cf-panel { border: 1px solid #e5e7eb; border-radius: 8px; padding: 10px 12px; margin-bottom: 12px;
            background: #fff; }
.cf-sidebar .cf-panel { background: #fafafa; }
.cf-control { margin: 6px 0 10px 0; }
.cf-control-label { font-size: 0.86rem; font-weight: 500; }
.cf-control .v-text-field { padding-top: 0; margin-top: 0; }
.cf-control .v-text-field input { padding: 2px 0; }
.cf-control > .cf-hint { margin-top: 6px; }
.cf-changed .cf-control-label { color: #b45309; }
.cf-tiles { display: flex; flex-wrap: wrap; gap: 8px; }
.cf-tile { border: 1px solid #e5e7eb; border-radius: 8px; padding: 6px 10px; min-width: 150px;
           background: #fff; flex: 1 1 150px; }
.cf-tile .v { font-size: 1.25rem; font-weight: 600; }
.cf-tile .k { font-size: 0.75rem; color: #555; }
.cf-table { border-collapse: collapse; font-size: 0.86rem; width: 100%; }
.cf-table th, .cf-table td { border-bottom: 1px solid #eee; padding: 3px 6px; text-align: left; }
.cf-table td:not(:first-child) { font-variant-numeric: tabular-nums; }
.cf-error { border-left: 4px solid #dc2626; background: #fef2f2; padding: 8px 10px;
            margin: 6px 0; border-radius: 4px; }
.cf-error-text { color: #991b1b; font-family: monospace; font-size: 0.85rem;
                 white-space: pre-wrap; word-break: break-word; }
.cf-snippet { background: #fff; margin: 6px 0 0 0; padding: 4px; font-size: 0.8rem;
              overflow-x: auto; }
.cf-snippet .cf-bad-line { background: #fee2e2; }
.cf-lineno { color: #999; display: inline-block; width: 3em; }
.cf-yaml textarea { font-family: monospace; font-size: 0.8rem; line-height: 1.35;
                   white-space: pre; overflow-x: auto; }
.cf-upload { border: 1px dashed #bbb; border-radius: 6px; padding: 6px; display: flex;
             align-items: center; gap: 8px; flex-wrap: wrap; }
.cf-upload-over { background: #eef2ff; }
.cf-status { font-size: 0.95rem; }
.cf-progress { height: 8px; background: #e5e7eb; border-radius: 4px; overflow: hidden; }
.cf-progress > div { height: 8px; background: #2563eb; }
.cf-slide-title { font-size: 1.85rem; font-weight: 600; line-height: 1.2; margin: 4px 0 10px 0; }
.cf-slide p, .cf-slide li { font-size: 1.15rem; line-height: 1.4; }
.cf-ask { border-left: 6px solid #7c3aed; background: #f5f3ff; padding: 10px 14px;
          font-size: 1.35rem; margin-top: 12px; border-radius: 4px; }
.cf-presenter .cf-tile { min-width: 90px; flex: 1 1 90px; padding: 3px 8px; }
.cf-presenter .cf-tile .v { font-size: 1.3rem; white-space: nowrap; }
.cf-presenter .cf-tile .k { font-size: 0.8rem; }
.cf-presenter .cf-whatif { text-transform: none !important; }
.cf-presenter.cf-root { padding-top: 4px; }
.cf-presenter .cf-table { font-size: 1.05rem; }
.cf-fold-button { justify-content: flex-start !important; text-transform: none !important;
                  font-size: 0.95rem !important; font-weight: 500; padding: 0 4px !important; }
.cf-keys-help { color: #666; font-size: 0.9rem; }
.cf-whatif-explains { font-size: 1rem; color: #333; margin: 6px 0; }
"""


@solara.component
def Page():
    solara.Title("clickfarm: click-farm economies")
    solara.Style(CSS)
    if mode.value == "Present":
        solara.Style("html { font-size: 17px; }")

    def initialise():
        if live.value is None:
            load_setup(setup.value)

    solara.use_effect(initialise, [])
    KeyListener(active=mode.value == "Present", event_key=on_key)
    Player()
    with solara.Column(classes=["cf-root"] + (["cf-presenter"] if mode.value == "Present" else [])):
        if mode.value != "Present":
            Header()
        if page_error.value:
            with solara.Row():
                error_box(page_error.value, testid="page-error")
                solara.Button("Dismiss", text=True, on_click=lambda: page_error.set(None))
        if live.value is None:
            if load_error.value:
                error_box(load_error.value, testid="load-error")
            solara.Text("Building the model…")
            return
        if mode.value == "Explore":
            Explore()
        elif mode.value == "Compare":
            CompareView()
        else:
            Presenter()


@solara.component
def Header():
    with solara.Row(style={"align-items": "center", "justify-content": "space-between"}):
        with solara.Column(gap="0px"):
            solara.HTML(tag="h1", unsafe_innerHTML="clickfarm", classes=["cf-title"])
            solara.Text(
                "Who does the work behind likes, shares and followers, and where the money goes.",
                classes=["cf-sub"],
            )

        ModeSwitch()


@solara.component
def ModeSwitch():
    def switch(value: str) -> None:
        if value == "Present" and mode.value != "Present":
            go_to_slide(slide.value)
        mode.set(value)

    solara.ToggleButtonsSingle(value=mode.value, values=MODES, on_value=switch, dense=True)


@solara.component
def Player():
    """Steps the model in a background thread while Play is on."""

    def loop(cancel):
        run = live.value
        if run is None or not playing.value:
            return
        while not cancel.is_set() and playing.value and not run.finished:
            started = time.perf_counter()
            if to_end.value:
                # flat out: step for about half a second between redraws
                per_tick, interval = 1, 0.0
                while time.perf_counter() - started < 0.5 and not run.finished:
                    run.step(per_tick)
                    per_tick = min(per_tick * 2, 48)
            else:
                per_tick, interval = pace(float(speed.value))
                run.step(per_tick)
            bump()
            rest = interval - (time.perf_counter() - started)
            if rest > 0:
                cancel.wait(rest)
        if run.finished:
            playing.set(False)
        if not playing.value:
            to_end.set(False)

    solara.use_thread(loop, dependencies=[playing.value, live.value], intrusive_cancel=False)


# ------------------------------------------------------------------ Explore
@solara.component
def Explore():
    with solara.Columns([3, 9], gutters_dense=True):
        with solara.Column(classes=["cf-sidebar"], gap="0px"):
            ScenarioChooser()
            RunControls()
            Parameters()
            ExportPanel()
        with solara.Column(gap="0px"):
            Status()
            Dashboard()


@solara.component
def ScenarioChooser():
    titles = solara.use_memo(shipped_titles, [])
    by_title = {t: n for n, t in titles.items()}
    current = setup.value
    pasted_label = "pasted or uploaded: " + current.label if not current.is_shipped else None
    options = list(titles.values()) + ([pasted_label] if pasted_label else [])
    value = titles.get(current.source) if current.is_shipped else pasted_label

    @guarded
    def choose(title: str) -> None:
        if title in by_title:
            load_setup(Setup(by_title[title]))

    @guarded
    def load_pasted() -> None:
        if pasted_too_large.value is not None:
            load_error.set(too_large_message("pasted text", pasted_too_large.value))
            load_error_text.set(None)
            return
        text = pasted.value
        if not text.strip():
            load_error.set("the box is empty; paste a scenario in YAML first")
            load_error_text.set(None)
            return
        load_setup(Setup("pasted scenario", text=text), text_for_errors=text)

    @guarded
    def uploaded(info: dict) -> None:
        name = str(info.get("name") or "uploaded.yaml")[:120]
        text = info.get("text")
        if text is None:
            reason = info.get("error") or "unreadable"
            if reason == "too large":
                load_error.set(too_large_message(name, int(info.get("size") or 0)))
            else:
                load_error.set(f"{name}: the file could not be read as text")
            load_error_text.set(None)
            return
        pasted.set(text)
        pasted_too_large.set(None)
        load_setup(Setup(name, text=text), text_for_errors=text)

    @guarded
    def copy_current() -> None:
        run = live.value
        if run is not None:
            pasted.set(export.scenario_yaml(run))
            pasted_too_large.set(None)

    @guarded
    def edited(info: dict) -> None:
        text = info.get("text")
        if text is None:
            size = int(info.get("size") or 0)
            pasted_too_large.set(size)
            load_error.set(too_large_message("pasted text", size))
            load_error_text.set(None)
            return
        if pasted_too_large.value is not None:
            pasted_too_large.set(None)
            load_error.set(None)
        pasted.set(text)

    with solara.Column(classes=["cf-panel"], gap="4px"):
        solara.Text("Scenario", classes=["cf-section"])
        solara.Select(label="Shipped scenario", values=options, value=value, on_value=choose)
        UploadButton(event_upload=uploaded)
        with solara.Details("Paste or edit YAML", expand=bool(load_error_text.value)):
            PasteBox(value=pasted.value, event_edit=edited)
            with solara.Row(gap="4px", style={"flex-wrap": "wrap"}):
                solara.Button("Load pasted YAML", on_click=load_pasted, outlined=True)
                solara.Button("Copy current", on_click=copy_current, text=True)
        error_box(load_error.value, load_error_text.value, testid="load-error")


@solara.component
def RunControls():
    run = live.value
    done = run_finished.value
    current = setup.value
    seed = run.seed if run is not None else 0

    @guarded
    def set_seed(value: int | None) -> None:
        if value is None or value < 0:
            param_error.set("the seed must be a whole number ≥ 0")
            return
        change_parameter(current.with_seed(int(value)))

    with solara.Column(classes=["cf-panel"], gap="4px"):
        solara.Text("Run", classes=["cf-section"])
        solara.InputInt("Seed", value=seed, on_value=set_seed, continuous_update=False)
        with solara.Row(gap="4px", style={"flex-wrap": "wrap"}):
            solara.Button(
                "Step", on_click=lambda: do_step(1), color="primary", disabled=run is None or done
            )
            solara.Button(
                "Pause" if playing.value else "Play",
                on_click=toggle_play,
                color="primary",
                outlined=True,
                disabled=run is None or (done and not playing.value),
            )
            solara.Button("Reset", on_click=do_reset, outlined=True)
            solara.Button(
                "Run to end", on_click=run_to_end, text=True, disabled=run is None or done
            )
        solara.Select(
            label="Speed (simulated hours per second)",
            values=[str(s) for s in SPEEDS],
            value=str(speed.value),
            on_value=lambda v: speed.set(int(v)),
        )


@solara.component
def Parameters():
    current = setup.value
    try:
        items = params.controls(current)
    except Exception as exc:
        log.exception("controls failed")
        error_box(f"the controls could not be built: {friendly_error(exc)}")
        return
    changed = [c for c in items if c.changed]
    with solara.Column(classes=["cf-panel"], gap="2px"):
        solara.Text("Parameters", classes=["cf-section"])
        solara.Text(
            "Changing a value restarts the run from hour 0 with the same seed.",
            classes=["cf-hint"],
        )
        with solara.Column(gap="0px"):  # a fixed slot, so the sections below keep their state
            error_box(param_error.value, testid="param-error")
        if changed:
            solara.Text(
                f"{len(changed)} changed from the scenario: " + ", ".join(c.label for c in changed),
                classes=["cf-hint"],
            )
            solara.Button(
                "Undo all changes",
                text=True,
                on_click=guarded(
                    lambda: change_parameter(Setup(current.source, current.text, (), current.seed))
                ),
            )
        for section, controls in params.by_section(items).items():
            with Fold(section, open_by_default=False).key(f"fold-{section}"):
                for c in controls:
                    ControlRow(c).key(c.key)


@solara.component
def ControlRow(c: params.Control):
    # What the number box shows; put back to the value in use when a value is refused.
    shown = solara.use_reactive(c.value)

    @guarded
    def apply(raw: Any) -> None:
        if raw is None or raw == c.value:
            return
        try:
            value = c.coerce(raw)
        except (TypeError, ValueError) as exc:
            param_error.set(f"{c.label}: {exc}")
            shown.set(c.value)
            return
        current = setup.value
        new = c.applied(current, value)
        if new != current:
            change_parameter(new)
        if setup.value == current:  # refused (the reason is on screen)
            shown.set(c.value)

    label = c.label + (f" ({c.unit})" if c.unit else "")
    with solara.Column(gap="0px", classes=["cf-control"] + (["cf-changed"] if c.changed else [])):
        solara.Text(label, classes=["cf-control-label"])
        if c.kind == "bool":
            solara.Checkbox(label="yes", value=bool(c.value), on_value=apply)
        else:
            with solara.Row(gap="6px", style={"align-items": "center"}):
                ChangeSlider(c, apply)
                with solara.Column(style={"width": "110px", "flex": "0 0 110px"}):
                    number = solara.InputInt if c.kind == "int" else solara.InputFloat
                    number("", value=shown, on_value=apply, continuous_update=False)
        solara.Text(
            f"{c.help} Valid: {c.range_text()}. Default {params.fmt_number(c.default)} "
            f"from {c.origin}.",
            classes=["cf-hint"],
        )


@solara.component
def ChangeSlider(c: params.Control, apply: Callable[[Any], None]):
    """A slider that applies its value when released (not on every pixel of a drag)."""
    shown = min(max(float(c.value), c.slider_lo), c.slider_hi)
    el = solara.v.Slider(
        v_model=shown,
        min=c.slider_lo,
        max=c.slider_hi,
        step=c.step,
        hide_details=True,
        dense=True,
        thumb_label=False,
        class_="cf-slider",
        style_="flex: 1 1 auto",
    )
    solara.v.use_event(el, "change", lambda *_args: apply(_args[-1]))


@solara.component
def Status():
    watch_model()
    run = live.value
    if run is None:
        return
    s = run.scenario
    hour = run.steps
    state = "finished" if run.finished else ("playing" if playing.value else "paused")
    with solara.Column(classes=["cf-panel"], gap="6px"):
        with solara.Row(style={"align-items": "baseline", "flex-wrap": "wrap"}):
            solara.HTML(tag="span", unsafe_innerHTML=f"<b>{esc(s.title)}</b>")
            solara.HTML(
                tag="span",
                unsafe_innerHTML=(
                    f"hour <b data-testid='hour'>{hour}</b> of {run.max_steps} "
                    f"(day {hour / 24:.1f} of {s.days:g}) · seed {run.seed} · {state}"
                ),
                classes=["cf-status"],
                attributes={"data-testid": "status"},
            )
        if run.error:
            error_box(run.error, testid="run-error")
        Tiles(run)


@solara.component
def Tiles(run: LiveRun, keys: tuple[str, ...] | None = None, short: bool = False):
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


@solara.component
def Dashboard():
    run = live.value
    if run is None:
        return
    with solara.Column(classes=["cf-panel"]):
        TimeSeriesView(run)
    with solara.Columns([1, 1], gutters_dense=True):
        with solara.Column(classes=["cf-panel"]):
            MoneyView(run)
        with solara.Column(classes=["cf-panel"]):
            NetworkView(run)
    with solara.Column(classes=["cf-panel"]), Fold("Per campaign: delivered, removed, cost"):
        CampaignsView(run)
    with solara.Columns([1, 1], gutters_dense=True):
        with solara.Column(classes=["cf-panel"]):
            PayView(run)
        with solara.Column(classes=["cf-panel"]):
            Inspector(run)
    GamificationView(run)
    with solara.Column(classes=["cf-panel"]):
        SummaryTable(run)
    with solara.Column(classes=["cf-panel"]):
        AboutScenario(run)


def safe_option(run: LiveRun, key: Any, build: Callable[[], dict]) -> dict | None:
    try:
        return run.cached(key, build)
    except Exception as exc:
        log.exception("view %s failed", key)
        error_box(f"this view could not be drawn: {friendly_error(exc)}")
        return None


@solara.component
def TimeSeriesView(run: LiveRun, height: int = 560):
    watch_model()
    solara.Text("Headline metrics over time", classes=["cf-section"])
    option = safe_option(
        run,
        "timeseries",
        lambda: charts.timeseries_option(
            run.rows, run.currency, max_days=run.max_steps / 24, height=height
        ),
    )
    if option is not None:
        chart(option, "chart-timeseries", height, run, key=f"timeseries:{height}")


@solara.component
def MoneyView(run: LiveRun, height: int = 360, shares: bool = True):
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
def PayView(run: LiveRun, height: int = 330):
    watch_model()
    solara.Text("Workers' effective hourly pay", classes=["cf-section"])
    option = safe_option(
        run, "pay", lambda: _locked(run, lambda: charts.pay_histogram_option(run.model))
    )
    if option is not None:
        chart(option, "chart-pay", height, run)


def _locked(run: LiveRun, build: Callable[[], Any]) -> Any:
    with run.lock:
        return build()


@solara.component
def Inspector(run: LiveRun):
    solara.Text("Inspector", classes=["cf-section"])
    chosen = selected.value
    kind, index = chosen if chosen else ("worker", None)
    counts = {k: agent_count(run.model, k) for k in AGENT_KINDS}

    @guarded
    def set_kind(value: str) -> None:
        if counts.get(value, 0):
            selected.set((value, 0))

    @guarded
    def set_index(text: str) -> None:
        text = (text or "").strip().replace(",", "")
        if not text:
            return
        if not text.isdigit():
            page_error.set(f"agent numbers are whole numbers from 0; got {text!r}")
            return
        n = counts.get(kind, 0)
        selected.set((kind, min(int(text), max(n - 1, 0))))

    @guarded
    def pick(which: str) -> None:
        with run.lock:
            w = run.model.workers
            if which == "busiest":
                selected.set(("worker", int(w.tasks_done.argmax())))
            elif which == "banned":
                acc = run.model.accounts
                banned = acc.owner[acc.banned]
                if banned.size:
                    selected.set(("worker", int(banned[0])))
                else:
                    page_error.set("no account has been banned yet")
            elif which == "earner":
                earned = run.model.ledger.balances["money"][run.model.worker_accounts]
                selected.set(("worker", int(earned.argmax())))

    with solara.Row(gap="6px", style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.Select(
            label="Kind",
            values=[k for k in AGENT_KINDS if counts[k]],
            value=kind,
            on_value=set_kind,
            style={"max-width": "140px"},
        )
        solara.InputText(
            f"Number (0–{max(counts[kind] - 1, 0):,})",
            value="" if index is None else str(index),
            on_value=set_index,
            continuous_update=False,
            style={"max-width": "150px"},
        )
        solara.Button("Busiest worker", text=True, on_click=lambda: pick("busiest"))
        solara.Button("Top earner", text=True, on_click=lambda: pick("earner"))
        solara.Button("A banned worker", text=True, on_click=lambda: pick("banned"))
    if counts.get(kind, 0) == 0 or (index is not None and index >= counts[kind]):
        solara.Text("Nothing to inspect.")
        return
    InspectorDetails(run, kind, index)


@solara.component
def InspectorDetails(run: LiveRun, kind: str, index: int | None):
    watch_model()
    if index is None:  # nothing chosen yet: follow the busiest worker
        with run.lock:
            tasks = run.model.workers.tasks_done
            index = int(tasks.argmax()) if tasks.size else 0
        solara.Text(
            "Showing the busiest worker so far; click a node or choose an agent.",
            classes=["cf-hint"],
        )
    try:
        state = run.agent_state(kind, index)
        history = run.agent_history(kind, index)
        title = agent_title(run.model, kind, index)
    except Exception as exc:
        log.exception("inspector failed")
        error_box(f"cannot inspect this agent: {friendly_error(exc)}")
        return
    accounts = state.pop("accounts", None)
    rows = [{"field": k.replace("_", " "), "value": _show(v)} for k, v in state.items()]
    parts = [
        f'<div data-testid="inspector-title"><b>{esc(title)}</b></div>',
        f'<div data-testid="inspector-state">{html_table(rows, ["field", "value"])}</div>',
    ]
    if accounts:
        acc_rows = [
            {
                "account": a["account"],
                "age (days)": f"{a['age_days']:.1f}",
                "trust": f"{a['trust']:.2f}",
                "strikes": a["strikes"],
                "banned": "banned" if a["banned"] else "",
            }
            for a in accounts[:12]
        ]
        more = (
            f"<div class='cf-hint'>and {len(accounts) - 12} more accounts</div>"
            if len(accounts) > 12
            else ""
        )
        parts.append(
            "<div style='margin-top:6px'><b>Accounts</b></div>"
            + html_table(acc_rows, list(acc_rows[0]))
            + more
        )
    solara.HTML(tag="div", unsafe_innerHTML="".join(parts))
    fields = agent_fields(kind)
    paid_in_points = kind == "worker" and state.get("points", 0) and not state.get("earnings")
    default = {
        "worker": ("tasks_done", "points") if paid_in_points else ("tasks_done", "earnings"),
        "recruiter": ("balance",),
        "influencer": ("relays", "balance"),
        "moderator": ("reviews", "earnings"),
    }[kind]
    if len(history):
        chart(
            charts.history_option(
                history, [f for f in default if f in fields], f"History of {title}"
            ),
            "chart-history",
            220,
            run,
        )


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.6g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


@solara.component
def GamificationView(run: LiveRun):
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
        with solara.Columns([1, 1], gutters_dense=True):
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


@solara.component
def SummaryTable(run: LiveRun):
    watch_model()
    solara.Text("Summary so far (as clickfarm run reports it)", classes=["cf-section"])
    row = run.summary_row()  # the summary's headline is the last row of metrics
    if not row:
        solara.Text("Step the model to see numbers.")
        return
    cur = run.currency
    rows = [{"metric": label, "value": fmt(row[key], kind, cur)} for key, label, kind in HEADLINES]
    solara.HTML(
        tag="div",
        unsafe_innerHTML=html_table(rows, ["metric", "value"]),
        attributes={"data-testid": "summary-table"},
    )


@solara.component
def AboutScenario(run: LiveRun):
    s = run.scenario
    solara.Text("About this scenario", classes=["cf-section"])
    parts = [f"<p>{esc(s.description)}</p>"]
    if s.sources:
        parts.append(
            "<b>Sources</b><ul>" + "".join(f"<li>{esc(x)}</li>" for x in s.sources) + "</ul>"
        )
    if s.assumptions:
        parts.append(
            "<b>Assumptions</b><ul>"
            + "".join(f"<li>{esc(x)}</li>" for x in s.assumptions)
            + "</ul>"
        )
    solara.HTML(tag="div", unsafe_innerHTML="".join(parts), attributes={"data-testid": "about"})


@solara.component
def ExportPanel():
    run = live.value
    started = run_started.value
    if run is None:
        return
    stem = export.file_stem(run)
    with solara.Column(classes=["cf-panel"], gap="4px"), Fold("Export", open_by_default=False):
        solara.FileDownload(
            lambda: export.scenario_yaml(run).encode(),
            filename=f"{stem}.yaml",
            label="Scenario YAML (re-run with clickfarm run)",
        )
        if not started:
            solara.Text("Step the model to export data and figures.", classes=["cf-hint"])
            return
        solara.Text("Data and figures cover the hours run so far.", classes=["cf-hint"])
        for name in export.TABLES:
            with solara.Row(gap="4px"):
                solara.FileDownload(
                    lambda n=name: export.csv_bytes(run, n),
                    filename=f"{stem}-{name}.csv",
                    label=f"{name} CSV",
                )
                solara.FileDownload(
                    lambda n=name: export.parquet_bytes(run, n),
                    filename=f"{stem}-{name}.parquet",
                    label="Parquet",
                )
        solara.FileDownload(
            lambda: export.summary_json(run), filename=f"{stem}-summary.json", label="summary JSON"
        )
        for name in ("timeseries", "money_flows", "wage_distribution"):
            solara.FileDownload(
                lambda n=name: export.figure_png(run, n),
                filename=f"{stem}-{name}.png",
                label=f"{name} PNG",
            )
        solara.FileDownload(
            lambda: export.bundle(run), filename=f"{stem}.zip", label="Everything (zip)"
        )


# ------------------------------------------------------------------ Compare
compare_kind = solara.reactive("A what-if")
compare_scenario = solara.reactive("")
compare_param = solara.reactive("")
compare_value: solara.Reactive[float | None] = solara.reactive(None)
compare_whatif = solara.reactive("double_moderators")
compare_days: solara.Reactive[float | None] = solara.reactive(None)
compare_metric = solara.reactive("total_surviving")


@solara.lab.task(prefer_threaded=True)
def compare_job(comp: Comparison) -> Comparison:
    def progress(fraction: float) -> None:
        compare_job.progress = 100 * fraction

    comp.run_to_end(should_stop=lambda: not compare_job.is_current(), on_progress=progress)
    compare_metric.set(compare.default_overlay_metric(comp.a.summary(), comp.b.summary()))
    return comp


def start_comparison(a: Setup, b: Setup, label_a: str, label_b: str, explains: str = "") -> None:
    compare_error.set(None)
    try:
        sa, sb = a.scenario(), b.scenario()
        check_size(sa)
        check_size(sb)
        comp = Comparison(
            LiveRun(a, sa, sample_size=50),
            LiveRun(b, sb, sample_size=50),
            label_a,
            label_b,
            explains,
        )
    except Exception as exc:
        compare_error.set(friendly_error(exc))
        return
    comparison.set(comp)
    compare_job(comp)


@solara.component
def CompareView():
    current = setup.value
    titles = solara.use_memo(shipped_titles, [])
    by_title = {t: n for n, t in titles.items()}
    try:
        items = params.controls(current)
        base = current.scenario()
    except Exception as exc:
        error_box(f"the Explore set-up is not valid: {friendly_error(exc)}")
        return
    choices = whatifs.available(base)
    seed = live.value.seed if live.value is not None else base.seed
    labels = {c.label: c for c in items if c.kind != "bool"}

    @guarded
    def run_both() -> None:
        a = current.with_seed(seed)
        days = compare_days.value
        if days is not None:
            a = a.change("days", days)
        label_a = f"A: {_setup_label(current)}"
        explains = ""
        if compare_kind.value == "Another scenario":
            name = by_title.get(compare_scenario.value)
            if name is None:
                compare_error.set("choose the scenario for B")
                return
            b = Setup(name, seed=seed)
            if days is not None:
                b = b.change("days", days)
            label_b = f"B: {name}"
        elif compare_kind.value == "Change one parameter":
            c = labels.get(compare_param.value)
            if c is None or compare_value.value is None:
                compare_error.set("choose a parameter and its new value for B")
                return
            try:
                value = c.coerce(compare_value.value)
            except ValueError as exc:
                compare_error.set(f"{c.label}: {exc}")
                return
            b = c.applied(a, value)
            label_b = f"B: {c.label} = {params.fmt_number(value)}"
            explains = (
                f"B changes {c.label} from {params.fmt_number(c.value)} to "
                f"{params.fmt_number(value)}."
            )
        else:
            w = choices.get(compare_whatif.value)
            if not isinstance(w, whatifs.WhatIf):
                compare_error.set(f"this what-if does not apply here: {w}")
                return
            b = a.with_changes(list(w.changes))
            label_b = f"B: {w.title}"
            explains = w.explains
        start_comparison(a, b, label_a, label_b, explains)

    with solara.Columns([3, 9], gutters_dense=True):
        with solara.Column(classes=["cf-panel"], gap="6px"):
            solara.Text("Set-up A", classes=["cf-section"])
            solara.Text(f"{_setup_label(current)} (from Explore), seed {seed}", classes=["cf-hint"])
            solara.Text("Set-up B", classes=["cf-section"])
            solara.Select(
                "B is",
                values=["A what-if", "Change one parameter", "Another scenario"],
                value=compare_kind,
            )
            with solara.Column(gap="4px").key(f"b-{compare_kind.value}"):
                if compare_kind.value == "Another scenario":
                    solara.Select(
                        "Scenario for B", values=list(titles.values()), value=compare_scenario
                    )
                elif compare_kind.value == "Change one parameter":
                    solara.Select("Parameter", values=list(labels), value=compare_param)
                    c = labels.get(compare_param.value)
                    if c is not None:
                        solara.HTML(
                            tag="div",
                            unsafe_innerHTML=esc(
                                f"In A: {params.fmt_number(c.value)} {c.unit}. "
                                f"Valid: {c.range_text()}."
                            ),
                            classes=["cf-hint"],
                            attributes={"data-testid": "compare-param-hint"},
                        )
                    solara.InputFloat(
                        "New value for B",
                        value=compare_value,
                        optional=True,
                        continuous_update=False,
                    ).key(f"b-value-{compare_param.value}")
                else:
                    applicable = [k for k, w in choices.items() if isinstance(w, whatifs.WhatIf)]
                    by_title = {whatifs.TITLES[k]: k for k in applicable}
                    solara.Select(
                        "What-if",
                        values=list(by_title),
                        value=whatifs.TITLES.get(compare_whatif.value)
                        if compare_whatif.value in applicable
                        else None,
                        on_value=lambda title: compare_whatif.set(by_title[title]),
                    )
                    w = choices.get(compare_whatif.value)
                    if isinstance(w, whatifs.WhatIf):
                        solara.Text(w.explains, classes=["cf-hint"])
                    for k, why in choices.items():
                        if isinstance(why, str):
                            solara.Text(
                                f"{whatifs.TITLES[k]}: not here ({why}).", classes=["cf-hint"]
                            )
            solara.InputFloat(
                "Days for both", value=compare_days, optional=True, continuous_update=False
            )
            solara.Text("Leave blank to run each scenario for its own days.", classes=["cf-hint"])
            solara.Button(
                "Run both", on_click=run_both, color="primary", disabled=compare_job.pending
            )
            error_box(compare_error.value, testid="compare-error")
        with solara.Column(gap="0px"):
            CompareResults()


def _setup_label(s: Setup) -> str:
    changes = len(s.changes)
    return s.label + (f" with {changes} change{'s' if changes > 1 else ''}" if changes else "")


@solara.component
def CompareResults(height: int = 300, compact: bool = False):
    comp = comparison.value
    if compare_job.pending:
        solara.Text("Running both set-ups…")
        solara.ProgressLinear(compare_job.progress or True)
    if compare_job.error:
        error_box(
            f"the comparison failed: {friendly_error(compare_job.exception)}",
            testid="compare-error",
        )
    if comp is None:
        if not compact:
            solara.Text("Choose set-up B and press Run both: both run on the same seed.")
        return
    if compare_job.pending:
        return
    for run in (comp.a, comp.b):
        if run.error:
            error_box(run.error, testid="run-error")
    with solara.Column(classes=["cf-panel"]):
        solara.Text(f"{comp.label_a}   vs   {comp.label_b}", classes=["cf-section"])
        if comp.explains:
            solara.Text(comp.explains, classes=["cf-hint" if compact else "cf-whatif-explains"])
        solara.Text(
            f"Same seed ({comp.a.seed}); A ran {comp.a.steps} hours, B {comp.b.steps} hours.",
            classes=["cf-hint"],
        )
        rows = comp.table()
        if compact:
            keep = {
                "actions removed",
                "actions surviving moderation",
                "accounts banned",
                "client spend",
                "workers' income",
                "workers' share of spend",
                "unpaid hours",
                "cost per 1,000 surviving actions",
            }
            rows = [r for r in rows if r["metric"] in keep]
        solara.HTML(
            tag="div",
            unsafe_innerHTML=html_table(rows, ["metric", "A", "B", "B − A", "change"]),
            attributes={"data-testid": "compare-table"},
        )
    graphs = []
    for run in (comp.a, comp.b):
        with run.lock:
            graphs.append(money_graph(run.model, platform_side=False))
    cur = comp.a.currency
    bars = [(comp.label_a, graphs[0].destinations()), (comp.label_b, graphs[1].destinations())]
    if any(d for _, d in bars):
        with solara.Column(classes=["cf-panel"]):
            chart(charts.shares_option(bars, cur), "chart-compare-shares", 150)
    if compact:
        return
    metric_labels = {label: key for key, label, _ in HEADLINES}
    with solara.Column(classes=["cf-panel"]):
        solara.Select(
            "Metric",
            values=list(metric_labels),
            value=compare.LABELS.get(compare_metric.value),
            on_value=lambda v: compare_metric.set(metric_labels[v]),
        )
        key = compare_metric.value
        series = [
            (comp.label_a, comp.a.metric(key).tolist()),
            (comp.label_b, comp.b.metric(key).tolist()),
        ]
        days = max(comp.a.max_steps, comp.b.max_steps) / 24
        with solara.Columns([1, 1], gutters_dense=True):
            chart(
                charts.overlay_option(series, compare.LABELS[key], max_days=days),
                "chart-compare-overlay",
                height,
            )
            chart(
                charts.overlay_option(series, compare.LABELS[key], difference=True, max_days=days),
                "chart-compare-diff",
                height,
            )
    with solara.Columns([1, 1], gutters_dense=True):
        for run, label, graph in (
            (comp.a, comp.label_a, graphs[0]),
            (comp.b, comp.label_b, graphs[1]),
        ):
            with solara.Column(classes=["cf-panel"]):
                solara.Text(f"Where the money goes: {label}", classes=["cf-section"])
                if graph.links:
                    chart(
                        charts.money_sankey_option(graph, run.currency),
                        f"chart-compare-sankey-{label[0].lower()}",
                        300,
                    )
                else:
                    solara.Text("No money changed hands.")


# ------------------------------------------------------------------ Present
def go_to_slide(index: int) -> None:
    index = min(max(index, 0), len(story.SLIDES) - 1)
    slide.set(index)
    sl = story.SLIDES[index]
    comparison.set(None)
    compare_error.set(None)
    if sl.scenario is None:
        playing.set(False)
        return
    new = Setup(sl.scenario)
    if sl.days is not None:
        new = new.change("days", sl.days)
    if setup.value != new or live.value is None:
        load_setup(new)


@guarded
def run_whatif(number: int) -> None:
    sl = story.SLIDES[slide.value]
    if number < 1 or number > len(sl.whatifs):
        return
    current = setup.value
    w = whatifs.build(sl.whatifs[number - 1], current.scenario())
    playing.set(False)
    start_comparison(
        current,
        current.with_changes(list(w.changes)),
        "A: as documented",
        f"B: {w.title}",
        w.explains,
    )


@guarded
def on_key(event: dict) -> None:
    key = event.get("key")
    if mode.value != "Present":
        return
    if key in ("ArrowRight", "PageDown"):
        go_to_slide(slide.value + 1)
    elif key in ("ArrowLeft", "PageUp"):
        go_to_slide(slide.value - 1)
    elif key == "Home":
        go_to_slide(0)
    elif key == "End":
        go_to_slide(len(story.SLIDES) - 1)
    elif key == " ":
        toggle_play()
    elif key in ("s", "S"):
        do_step(1)
    elif key in ("r", "R"):
        do_reset()
    elif key in ("1", "2", "3", "4"):
        run_whatif(int(key))
    elif key == "Escape":
        mode.set("Explore")


@solara.component
def Presenter():
    index = slide.value
    sl = story.SLIDES[index]
    with solara.Row(style={"align-items": "center", "justify-content": "space-between"}):
        with solara.Row(gap="6px", style={"align-items": "center"}):
            solara.Button(
                "← Previous",
                on_click=guarded(lambda: go_to_slide(index - 1)),
                disabled=index == 0,
                outlined=True,
            )
            solara.HTML(
                tag="span",
                unsafe_innerHTML=f"{index + 1} / {len(story.SLIDES)}",
                attributes={"data-testid": "slide-number"},
            )
            solara.Button(
                "Next →",
                on_click=guarded(lambda: go_to_slide(index + 1)),
                disabled=index == len(story.SLIDES) - 1,
                color="primary",
            )
        solara.Text(
            "Keys: ← → slides · Space play/pause · S step · R reset · 1–4 what-ifs · "
            "F full screen · Esc leave",
            classes=["cf-keys-help"],
        )
        ModeSwitch()
    if sl.scenario is None:
        with solara.Column(classes=["cf-slide"]):
            solara.HTML(
                tag="div",
                unsafe_innerHTML=esc(sl.title),
                classes=["cf-slide-title"],
                attributes={"data-testid": "slide-title"},
            )
            solara.HTML(tag="div", unsafe_innerHTML="".join(f"<p>{esc(p)}</p>" for p in sl.points))
        return
    with solara.Columns([5, 7], gutters_dense=True):
        with solara.Column(classes=["cf-slide"]):
            solara.HTML(
                tag="div",
                unsafe_innerHTML=esc(sl.title),
                classes=["cf-slide-title"],
                attributes={"data-testid": "slide-title"},
            )
            solara.HTML(tag="div", unsafe_innerHTML="".join(f"<p>{esc(p)}</p>" for p in sl.points))
            if sl.look_at:
                solara.HTML(
                    tag="div",
                    unsafe_innerHTML="<b>Look at</b><ul>"
                    + "".join(f"<li>{esc(x)}</li>" for x in sl.look_at)
                    + "</ul>",
                )
            if sl.ask:
                solara.HTML(
                    tag="div",
                    unsafe_innerHTML=f"<b>Ask the room:</b> {esc(sl.ask)}",
                    classes=["cf-ask"],
                )
        with solara.Column(gap="6px"):
            PresenterLive(sl)


@solara.component
def PresenterLive(sl: story.Slide):
    watch_model()
    run = live.value
    if run is None:
        return
    with solara.Row(gap="6px", style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.Button("Step", on_click=lambda: do_step(1), color="primary", disabled=run.finished)
        solara.Button(
            "Pause" if playing.value else "Play",
            on_click=toggle_play,
            outlined=True,
            disabled=run.finished and not playing.value,
        )
        solara.Button("Reset", on_click=do_reset, outlined=True)
        solara.Button("Run to end", on_click=run_to_end, text=True, disabled=run.finished)
        solara.HTML(
            tag="span",
            unsafe_innerHTML=f"hour <b data-testid='hour'>{run.steps}</b> of {run.max_steps}",
        )
    Tiles(
        run,
        keys=(
            "total_surviving",
            "total_banned",
            "total_client_spend",
            "worker_share_of_spend",
            "hourly_pay_median",
            "total_unpaid_hours",
        ),
        short=True,
    )
    if sl.whatifs:
        base = setup.value.scenario()
        with solara.Row(gap="6px", style={"flex-wrap": "wrap"}):
            for n, name in enumerate(sl.whatifs, start=1):
                try:
                    whatifs.build(name, base)
                    ok = True
                except whatifs.NotApplicable:
                    ok = False
                solara.Button(
                    f"{n}. {whatifs.TITLES[name]}",
                    outlined=True,
                    disabled=not ok,
                    on_click=lambda n=n: run_whatif(n),
                    small=True,
                    classes=["cf-whatif"],
                )
    if comparison.value is not None or compare_job.pending:
        CompareResults(compact=True)
        return
    views = [v for v in sl.views if v != "headline"]
    for view in views[:2]:
        with solara.Column(classes=["cf-panel"]):
            if view == "money":
                MoneyView(run, height=300, shares=True)
            elif view == "series":
                TimeSeriesView(run, height=420)
            elif view == "network":
                NetworkView(run, height=380)
            elif view == "pay":
                PayView(run, height=280)
            elif view == "gamification":
                GamificationView(run)
            elif view == "campaigns":
                CampaignsView(run)
            elif view == "groups":
                GroupsView(run)
