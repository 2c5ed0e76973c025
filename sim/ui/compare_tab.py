"""The Compare tab: set-up A (from Explore) against set-up B on the same seed."""

from __future__ import annotations

import solara
import solara.lab

from sim.ui import charts, compare, params, whatifs
from sim.ui.compare import HEADLINES
from sim.ui.flows import money_graph
from sim.ui.session import (
    Setup,
    friendly_error,
    shipped_titles,
)
from sim.ui.state import (
    compare_days,
    compare_error,
    compare_job,
    compare_kind,
    compare_metric,
    compare_param,
    compare_scenario,
    compare_value,
    compare_whatif,
    comparison,
    ensemble_for,
    guarded,
    live,
    setup,
    setup_label,
    start_comparison,
)
from sim.ui.widgets import EnsembleControls, band_chart, chart, error_box, esc, table


@solara.component
def CompareView():
    """The Compare tab: set-up A from Explore against a set-up B, on the same seed.

    B is a what-if, A with one parameter changed, or another scenario, optionally
    with both run for the same number of days; the results are shown beside it.
    """
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
        label_a = f"A: {setup_label(current)}"
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

    with solara.Columns([3, 9], gutters_dense=True, classes=["cf-cols"]):
        with solara.Column(classes=["cf-panel"], gap="6px"):
            solara.Text("Set-up A", classes=["cf-section"])
            solara.Text(f"{setup_label(current)} (from Explore), seed {seed}", classes=["cf-hint"])
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


@solara.component
def CompareResults(height: int = 300, compact: bool = False):
    """The finished comparison: headline table, spend shares, overlays and Sankeys.

    Shows progress while both set-ups run and any errors.

    Args:
        height: The height of the overlay and difference charts, in pixels.
        compact: Presenter layout: eight headline rows and the spend shares only.
    """
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
        table(rows, ["metric", "A", "B", "B − A", "change"], "compare-table")
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
    EnsembleComparison(comp)
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
        markers = charts.merged_markers(
            (label, charts.event_markers(run.scenario, run.max_steps))
            for label, run in ((comp.label_a, comp.a), (comp.label_b, comp.b))
        )
        with solara.Columns([1, 1], gutters_dense=True, classes=["cf-pair"]):
            chart(
                charts.overlay_option(series, compare.LABELS[key], max_days=days, events=markers),
                "chart-compare-overlay",
                height,
            )
            chart(
                charts.overlay_option(
                    series, compare.LABELS[key], difference=True, max_days=days, events=markers
                ),
                "chart-compare-diff",
                height,
            )
    with solara.Columns([1, 1], gutters_dense=True, classes=["cf-pair"]):
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


@solara.component
def EnsembleComparison(comp):
    """A and B on N seeds each: bands, and whether each difference beats chance."""
    pair = (comp.a.setup, comp.b.setup)
    with solara.Column(classes=["cf-panel"], gap="4px"):
        solara.Text("Across seeds", classes=["cf-section"])
        EnsembleControls(pair, "A and B")
        found = ensemble_for(pair)
        if not found:
            return
        a, b = found
        solara.Text(
            f"{len(a.runs)} seeds each (A and B share them). A difference is beyond the "
            "seed-to-seed spread when the means differ by more than the wider of the two "
            "10th–90th percentile ranges.",
            classes=["cf-hint"],
        )
        rows = compare.ensemble_comparison_rows(a, b)
        table(rows, list(rows[0]), "ensemble-compare-table")
        band_chart(
            found, (comp.label_a, comp.label_b), "chart-ensemble-compare", 320, compare_metric.value
        )
