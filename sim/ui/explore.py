"""The Explore tab: choose a scenario, run it hour by hour, change its parameters."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import solara
import solara.lab

from sim.run import video
from sim.ui import charts, compare, export, params
from sim.ui.compare import HEADLINES, fmt
from sim.ui.session import (
    AGENT_KINDS,
    LiveRun,
    Setup,
    agent_count,
    agent_fields,
    agent_title,
    friendly_error,
    shipped_titles,
)
from sim.ui.state import (
    SPEEDS,
    change_parameter,
    do_reset,
    do_step,
    ensemble_for,
    guarded,
    live,
    load_error,
    load_error_text,
    load_setup,
    page_error,
    param_error,
    pasted,
    pasted_too_large,
    playing,
    run_finished,
    run_started,
    run_to_end,
    selected,
    setup,
    speed,
    toggle_play,
    watch_model,
)
from sim.ui.widgets import (
    CampaignsView,
    EnsembleControls,
    Fold,
    GamificationView,
    LinkBar,
    MoneyView,
    NetworkView,
    PasteBox,
    PayView,
    Tiles,
    TimeSeriesView,
    UploadButton,
    band_chart,
    chart,
    error_box,
    esc,
    html_table,
    table,
    too_large_message,
)

log = logging.getLogger("sim.ui")


@solara.component
def Explore():
    """The Explore tab: one run of one set-up, with its controls and views.

    The left column holds the scenario, run controls, parameters and export; the right
    one the run's status and dashboard.
    """
    with solara.Columns([3, 9], gutters_dense=True, classes=["cf-cols"]):
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
    """The scenario panel: pick a shipped scenario, upload a file, or paste and edit YAML.

    Loading errors are shown at the foot of the panel, with the offending YAML line when
    known.
    """
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
    """The run panel: seed, Step, Play/Pause, Reset, Run to end, speed, link and ensembles."""
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
        LinkBar()
        EnsembleControls((current,), "this set-up")


@solara.component
def Parameters():
    """The parameter panel: one control per parameter, folded by section.

    Lists what differs from the scenario, with a button to undo all changes.
    """
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
    """One parameter's slider and number box (a checkbox for yes/no), with help text.

    A refused value puts the number box back to the value in use and says why.

    Args:
        c: The control to show.
    """
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
    """The current run's title, hour, day, seed and state, any run error, and the tiles."""
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
def EnsembleView():
    """The finished ensemble of the set-up on screen: bands over time, headline bands."""
    found = ensemble_for((setup.value,))
    if not found:
        return
    ens = found[0]
    with solara.Column(classes=["cf-panel"], gap="4px"):
        solara.Text(
            f"Across {len(ens.runs)} seeds: mean and 10th–90th percentile band",
            classes=["cf-section"],
        )
        solara.Text("Seeds: " + ", ".join(str(s) for s in ens.seeds), classes=["cf-hint"])
        band_chart(found, ("",), "chart-ensemble", 560)
        rows = compare.ensemble_rows(ens)
        table(rows, list(rows[0]), "ensemble-table")


@solara.component
def Dashboard():
    """Every view of the current run, one panel each.

    Time series, ensemble bands, money, network, campaigns, pay, inspector,
    gamification, summary and the scenario's description.
    """
    run = live.value
    if run is None:
        return
    with solara.Column(classes=["cf-panel"]):
        TimeSeriesView(run)
    EnsembleView()
    with solara.Columns([1, 1], gutters_dense=True, classes=["cf-pair"]):
        with solara.Column(classes=["cf-panel"]):
            MoneyView(run)
        with solara.Column(classes=["cf-panel"]):
            NetworkView(run)
    with solara.Column(classes=["cf-panel"]), Fold("Per campaign: delivered, removed, cost"):
        CampaignsView(run)
    with solara.Columns([1, 1], gutters_dense=True, classes=["cf-pair"]):
        with solara.Column(classes=["cf-panel"]):
            PayView(run)
        with solara.Column(classes=["cf-panel"]):
            Inspector(run)
    GamificationView(run)
    with solara.Column(classes=["cf-panel"]):
        SummaryTable(run)
    with solara.Column(classes=["cf-panel"]):
        AboutScenario(run)


@solara.component
def Inspector(run: LiveRun):
    """Choose one agent by kind and number, or as the busiest, top earner or a banned worker.

    Args:
        run: The live run whose agents can be chosen.
    """
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
    """One agent's current state, its accounts (workers), and a chart of its history.

    Args:
        run: The live run the agent belongs to.
        kind: The agent's kind (``worker``, ``recruiter``, ``influencer``, ``moderator``).
        index: The agent's number within its kind; None follows the busiest worker.
    """
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
                history,
                [f for f in default if f in fields],
                f"History of {title}",
                events=charts.event_markers(run.scenario, run.max_steps),
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
def SummaryTable(run: LiveRun):
    """The headline figures of the run so far, formatted as ``clickfarm run`` reports them."""
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
    """The scenario's description, sources and assumptions."""
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
    """Downloads of the current run, in a fold.

    The scenario YAML and videos of the whole run are always offered; tables (CSV and
    Parquet), the summary JSON, figures and a zip of everything once the run has started.
    """
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
        for kind in video.FORMATS:
            # the whole run, from hour 0 to the end (drawn in a thread: takes a few seconds)
            solara.FileDownload(
                lambda k=kind: video.video_bytes(run.scenario, k),
                filename=f"{stem}.{kind}",
                label=f"Video of the whole run ({kind.upper()})",
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
