"""The Solara app behind ``clickfarm ui``: Explore, Compare and Present.

Run it with ``clickfarm ui``. The page is assembled here from one module per tab
(:mod:`sim.ui.explore`, :mod:`sim.ui.compare_tab`, :mod:`sim.ui.present`), the pieces
they share (:mod:`sim.ui.widgets`) and the visitor's state (:mod:`sim.ui.state`); the
look comes from one stylesheet, ``style.css``.
"""

from __future__ import annotations

import time
from pathlib import Path

import solara
import solara.lab

from sim.ui.compare_tab import CompareView
from sim.ui.explore import Explore
from sim.ui.present import Presenter
from sim.ui.solara_fixes import correct_navigator_export
from sim.ui.state import (
    bump,
    live,
    load_error,
    load_setup,
    mode,
    on_key,
    open_link,
    pace,
    page_error,
    playing,
    setup,
    speed,
    to_end,
)
from sim.ui.widgets import KeyListener, ModeSwitch, error_box

correct_navigator_export()  # Solara 1.64's router logs a Vue warning on every page otherwise

STYLESHEET = Path(__file__).with_name("style.css")
"""Every style of the app, presenter mode's large type included."""


@solara.component
def Page():
    """The app's page: header, page errors, and the Explore, Compare or Present view.

    On first render it opens the run a link in the address describes, else the default
    set-up; it also listens for presenter keys and runs the play loop.
    """
    solara.Title("clickfarm: click-farm economies")
    solara.Style(STYLESHEET)

    router = solara.use_router()

    def initialise():
        # a link to a run (see sim/ui/links.py) rebuilds that run; otherwise the default
        if live.value is None and not open_link(router.search or ""):
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
    """The app's title, a one-line description and the mode switch."""
    with solara.Row(
        style={"align-items": "center", "justify-content": "space-between"},
        classes=["cf-header"],
    ):
        with solara.Column(gap="0px"):
            solara.HTML(tag="h1", unsafe_innerHTML="clickfarm", classes=["cf-title"])
            solara.Text(
                "Who does the work behind likes, shares and followers, and where the money goes.",
                classes=["cf-sub"],
            )

        ModeSwitch()


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
