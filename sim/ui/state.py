"""What each visitor's page holds, and the handlers that change it.

Solara scopes every reactive variable below to one browser tab, so visitors never share a
model. Every handler that touches the model goes through :func:`guarded`, so a failure
shows as a message on the page instead of taking the server or the page down.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

import solara
import solara.lab

from sim.scenario.errors import ScenarioError
from sim.ui import compare, ensemble, links, story, whatifs
from sim.ui.compare import Comparison
from sim.ui.session import (
    LiveRun,
    Setup,
    check_size,
    friendly_error,
)

log = logging.getLogger("sim.ui")


def setup_label(s: Setup) -> str:
    """A set-up's label plus how many changes it has, such as ``base with 2 changes``."""
    changes = len(s.changes)
    return s.label + (f" with {changes} change{'s' if changes > 1 else ''}" if changes else "")


MODES = ["Explore", "Compare", "Present"]


SPEEDS = [1, 2, 5, 10, 24, 48, 120]
"""Play speeds, in simulated hours per second."""


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
    """A new live run of ``new``, after checking the scenario fits the browser's limits."""
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
    """Step the current run by up to ``hours`` and redraw."""
    run = live.value
    if run is not None:
        run.step(hours)
        bump()


@guarded
def do_reset() -> None:
    """Stop playing and rebuild the current set-up from hour 0."""
    playing.set(False)
    load_setup(setup.value)


@guarded
def toggle_play() -> None:
    """Start or pause playing at the chosen speed; a finished run stays paused."""
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


compare_kind = solara.reactive("A what-if")


compare_scenario = solara.reactive("")


compare_param = solara.reactive("")


compare_value: solara.Reactive[float | None] = solara.reactive(None)


compare_whatif = solara.reactive("double_moderators")


compare_days: solara.Reactive[float | None] = solara.reactive(None)


compare_metric = solara.reactive("total_surviving")


@solara.lab.task(prefer_threaded=True)
def compare_job(comp: Comparison) -> Comparison:
    """Run both sides of ``comp`` to the end in a thread, reporting progress.

    Stops early when a newer comparison replaces this one; then picks the metric the
    overlay chart starts on.
    """

    def progress(fraction: float) -> None:
        compare_job.progress = 100 * fraction

    comp.run_to_end(should_stop=lambda: not compare_job.is_current(), on_progress=progress)
    compare_metric.set(compare.default_overlay_metric(comp.a.summary(), comp.b.summary()))
    return comp


# ------------------------------------------------------------------ ensembles
ensemble_size = solara.reactive(ensemble.DEFAULT_SEEDS)
"""How many seeds "Run N seeds" runs (Explore and Compare share it)."""
ensemble_error: solara.Reactive[str | None] = solara.reactive(None)


@solara.lab.task(prefer_threaded=True)
def ensemble_job(setups: tuple[Setup, ...], n: int) -> tuple[ensemble.Ensemble, ...] | None:
    """Run every set-up on ``n`` seeds in the worker pool (Explore: one set-up; Compare: two).

    Each set-up's own seed is the master seed of its ensemble, so A and B share seeds.
    """
    total = n * len(setups)
    out = []
    for k, one in enumerate(setups):
        seeds = ensemble.ensemble_seeds(one.scenario().seed, n)

        def progress(done: int, _n: int, before: int = k * n) -> None:
            ensemble_job.progress = 100 * (before + done) / total

        result = ensemble.run_ensemble(
            one, seeds, on_progress=progress, should_stop=lambda: not ensemble_job.is_current()
        )
        if result is None:
            return None
        out.append(result)
    return tuple(out)


def start_ensemble(setups: tuple[Setup, ...]) -> None:
    """Check the set-ups and the number of seeds, then start :func:`ensemble_job`."""
    ensemble_error.set(None)
    n = ensemble_size.value
    if not 1 < n <= ensemble.MAX_SEEDS:
        ensemble_error.set(f"the number of seeds must be between 2 and {ensemble.MAX_SEEDS}")
        return
    try:
        for one in setups:
            check_size(one.scenario())
    except Exception as exc:
        ensemble_error.set(friendly_error(exc))
        return
    ensemble_job(setups, n)


def ensemble_for(setups: tuple[Setup, ...]) -> tuple[ensemble.Ensemble, ...] | None:
    """The finished ensembles of exactly these set-ups, if the last job ran them."""
    if ensemble_job.pending or not ensemble_job.finished:
        return None
    value = ensemble_job.value
    if value is None or tuple(e.setup for e in value) != setups:
        return None
    return value


def start_comparison(a: Setup, b: Setup, label_a: str, label_b: str, explains: str = "") -> None:
    """Build runs of ``a`` and ``b`` and start :func:`compare_job` on them.

    A set-up that cannot be built puts its error in ``compare_error`` instead.

    Args:
        a: The first set-up.
        b: The second set-up.
        label_a: How ``a`` is named on the page.
        label_b: How ``b`` is named on the page.
        explains: A sentence on what the difference between them shows.
    """
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


def go_to_slide(index: int) -> None:
    """Show slide ``index`` (clamped to the deck) and load its scenario if not loaded yet.

    Any comparison on screen is cleared; a slide without a scenario stops playing.
    """
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
    """Compare the current set-up with the slide's what-if ``number`` (1-based).

    Numbers outside the slide's what-ifs are ignored.
    """
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
    """Handle a presenter shortcut from :func:`sim.ui.widgets.KeyListener`.

    Only in Present mode: arrows and Page Up/Down change slide, Home and End jump to
    the first and last, space plays or pauses, S steps an hour, R resets, 1-4 run a
    what-if and Escape returns to Explore.
    """
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


# ------------------------------------------------------------------ links to a run
page_base: solara.Reactive[str | None] = solara.reactive(None)
"""This page's address as the visitor's browser reached it (for the QR code)."""


def current_link() -> links.RunLink:
    """The link to what is on screen: set-up with its seed, tab, hour and slide."""
    run = live.value
    current = setup.value
    if run is not None and current.seed is None:
        current = current.with_seed(run.seed)
    return links.RunLink(
        current, mode.value.lower(), run.steps if run is not None else 0, slide.value
    )


def open_link(query: str) -> bool:
    """Rebuild the run a link describes; on a bad link, say why and start as usual."""
    try:
        link = links.from_query(query)
    except links.LinkError as exc:
        page_error.set(f"this link could not be opened: {exc}")
        return False
    if link is None:
        return False
    if link.tab == "present":
        go_to_slide(link.slide)
    if (setup.value != link.setup or live.value is None) and not load_setup(link.setup):
        page_error.set(f"this link could not be opened: {load_error.value}")
        return False
    run = live.value
    if run is not None and link.hour:
        run.step(min(link.hour, run.max_steps))
        bump()
    mode.set(link.tab.capitalize())
    return True
