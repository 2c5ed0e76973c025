"""The Present tab: the class plan's slides beside the live model, driven by keys."""

from __future__ import annotations

import solara
import solara.lab

from sim.ui import story, whatifs
from sim.ui.classroom_panel import ClassSessionPanel
from sim.ui.compare_tab import CompareResults
from sim.ui.state import (
    compare_job,
    comparison,
    do_reset,
    do_step,
    go_to_slide,
    guarded,
    live,
    playing,
    run_to_end,
    run_whatif,
    setup,
    slide,
    toggle_play,
    watch_model,
)
from sim.ui.widgets import (
    CampaignsView,
    GamificationView,
    GroupsView,
    LinkBar,
    ModeSwitch,
    MoneyView,
    NetworkView,
    PayView,
    Tiles,
    TimeSeriesView,
    esc,
)


def _slide_text(sl: story.Slide) -> None:
    """A slide's title and its points, in the presenter's large type."""
    solara.HTML(
        tag="div",
        unsafe_innerHTML=esc(sl.title),
        classes=["cf-slide-title"],
        attributes={"data-testid": "slide-title"},
    )
    solara.HTML(tag="div", unsafe_innerHTML="".join(f"<p>{esc(p)}</p>" for p in sl.points))


@solara.component
def Presenter():
    """Presenter mode: the current slide with previous/next buttons and the key help.

    A slide with a scenario also shows its points, what to look at, a question for the
    room, a link and QR code to the run, and the live run beside them.
    """
    index = slide.value
    sl = story.SLIDES[index]
    with solara.Row(
        style={"align-items": "center", "justify-content": "space-between"},
        classes=["cf-presenter-bar"],
    ):
        with solara.Row(gap="6px", style={"align-items": "center", "flex": "0 0 auto"}):
            solara.Button(
                "← Previous",
                on_click=guarded(lambda: go_to_slide(index - 1)),
                disabled=index == 0,
                outlined=True,
            )
            solara.HTML(
                tag="span",
                unsafe_innerHTML=f"{index + 1} / {len(story.SLIDES)}",
                classes=["cf-slide-number"],
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
            _slide_text(sl)
        return
    with solara.Columns([5, 7], gutters_dense=True, classes=["cf-cols"]):
        with solara.Column(classes=["cf-slide"]):
            _slide_text(sl)
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
            with solara.Column(gap="4px", classes=["cf-share"]):
                solara.Text("Open this run on your own device:", classes=["cf-hint"])
                LinkBar(qr=True)
                ClassSessionPanel()
        with solara.Column(gap="6px"):
            PresenterLive(sl)


@solara.component
def PresenterLive(sl: story.Slide):
    """The live side of a slide: run buttons, six headline tiles and the what-if buttons.

    While a what-if comparison runs or is on screen it shows its compact results;
    otherwise the first two of the slide's views.

    Args:
        sl: The slide on screen.
    """
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
                MoneyView(run, height=340, shares=True)
            elif view == "series":
                TimeSeriesView(run, height=330, compact=True)
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
