"""Set-ups and live runs: what the browser app holds for each visitor.

A :class:`Setup` names a scenario (shipped, pasted or uploaded), the parameter changes
made with the controls, and the seed. A :class:`LiveRun` is one model built from a
set-up, stepped on demand, plus the small histories the views and the inspector need.
Nothing here imports Solara, so tests and benchmarks can drive it directly.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from sim.core.model import ClickFarmModel
from sim.scenario.budget import sizes
from sim.scenario.document import SourcedDoc, load_document
from sim.scenario.errors import ScenarioError
from sim.scenario.load import load_scenario, resolve_path, shipped_scenarios, text_document
from sim.scenario.schema import Scenario

log = logging.getLogger(__name__)

DEFAULT_SCENARIO = "baseline_microtask_market"
MAX_UPLOAD_BYTES = 1_000_000
"""Largest scenario text the app accepts (a scenario file is a few kB)."""
DEFAULT_MAX_WORKERS = 100_000
"""Most workers (plus bots) a browser set-up may have; ``clickfarm ui --max-workers``."""
MAX_OTHER_AGENTS = 50_000
"""Most moderators, and separately most influencers, a browser set-up may have."""
MAX_SEED = 2**63 - 1
MAX_PLACEMENTS = 10_000
"""Most order placements a browser set-up may have: the model builds every placement of
a repeating campaign when it is created (about 0.1 ms each), so ten years of hourly
orders would stall the page for half a minute (use ``clickfarm run`` for those)."""


def max_workers() -> int:
    """Most workers a browser set-up may have: ``CLICKFARM_UI_MAX_WORKERS``, at least 1.

    Falls back to ``DEFAULT_MAX_WORKERS`` when the variable is unset or not an integer.
    """
    try:
        return max(1, int(os.environ.get("CLICKFARM_UI_MAX_WORKERS", DEFAULT_MAX_WORKERS)))
    except ValueError:
        return DEFAULT_MAX_WORKERS


def value_text(value: Any) -> str:
    """A Python value written as the right-hand side of ``key=value`` (JSON is YAML)."""
    return json.dumps(value)


@dataclass(frozen=True)
class Setup:
    """A scenario source plus the changes made to it: everything that defines a run.

    ``source`` is a shipped scenario name, or a label (an uploaded file's name) when
    ``text`` holds pasted or uploaded YAML. ``changes`` are ``(dotted.key, value)``
    pairs applied on top, in order; ``seed`` replaces the scenario's own seed.
    """

    source: str = DEFAULT_SCENARIO
    text: str | None = None
    changes: tuple[tuple[str, Any], ...] = ()
    seed: int | None = None

    # -- describing ---------------------------------------------------------------
    @property
    def is_shipped(self) -> bool:
        """Whether the source is a shipped scenario (no pasted or uploaded text)."""
        return self.text is None

    @property
    def label(self) -> str:
        """The name shown for this set-up: its source."""
        return self.source

    def change(self, key: str, value: Any) -> Setup:
        """The same set-up with ``key`` set to ``value`` (replacing an earlier change)."""
        kept = tuple((k, v) for k, v in self.changes if k != key)
        return replace(self, changes=kept + ((key, value),))

    def without(self, key: str) -> Setup:
        """The same set-up with any change to ``key`` dropped."""
        return replace(self, changes=tuple((k, v) for k, v in self.changes if k != key))

    def with_changes(self, changes: list[tuple[str, Any]]) -> Setup:
        """The same set-up with each ``(key, value)`` of ``changes`` applied in order."""
        out = self
        for key, value in changes:
            out = out.change(key, value)
        return out

    def with_seed(self, seed: int | None) -> Setup:
        """The same set-up with ``seed`` (None: the scenario's own seed)."""
        return replace(self, seed=seed)

    def assignments(self) -> list[str]:
        """The changes as ``dotted.key=value`` strings (what ``clickfarm run --set`` takes)."""
        out = [f"{k}={value_text(v)}" for k, v in self.changes]
        if self.seed is not None:
            out.append(f"seed={int(self.seed)}")
        return out

    # -- validating ---------------------------------------------------------------
    def document(self) -> SourcedDoc:
        """The scenario as written (file or text), with the line of every value."""
        return _document(self.source, self.text)

    def base(self) -> Scenario:
        """The scenario before any change made in the app."""
        return _base(self.source, self.text)

    def scenario(self) -> Scenario:
        """The fully validated scenario with every change and the seed applied."""
        assignments = self.assignments()
        if not assignments:
            return self.base()
        return _with_assignments(self.source, self.text, tuple(assignments))

    def value_origin(self, path: tuple) -> str:
        """Where the default of a field comes from: a file and line, or the package."""
        doc = self.document()
        if tuple(path) in doc.origin:
            file, line = doc.origin[tuple(path)]
            name = os.path.basename(file) if self.is_shipped else file
            return f"{name}, line {line}" if line else name
        return "package default (sim/scenario/schema.py)"


@functools.lru_cache(maxsize=32)
def _document(source: str, text: str | None) -> SourcedDoc:
    if text is None:
        return load_document(resolve_path(source))
    if len(text.encode("utf-8", "replace")) > MAX_UPLOAD_BYTES:
        raise ScenarioError(
            f"the text is larger than {MAX_UPLOAD_BYTES // 1000:,} kB; expected a scenario file",
            file=source,
        )
    return text_document(text, source)


@functools.lru_cache(maxsize=32)
def _base(source: str, text: str | None) -> Scenario:
    return load_scenario(_document(source, text))


@functools.lru_cache(maxsize=64)
def _with_assignments(source: str, text: str | None, assignments: tuple[str, ...]) -> Scenario:
    return load_scenario(_document(source, text), list(assignments))


def placements(scenario: Scenario) -> int:
    """How many orders the campaigns place over the run (repeats included)."""
    return sizes(scenario).placements


def check_size(scenario: Scenario, limit: int | None = None) -> None:
    """Refuse set-ups too large to explore interactively (they would stall the server)."""
    limit = max_workers() if limit is None else limit
    orders = placements(scenario)
    if orders > MAX_PLACEMENTS:
        raise ScenarioError(
            f"over {scenario.days:g} days the campaigns place {orders:,} orders; the browser "
            f"app handles at most {MAX_PLACEMENTS:,} (shorten the run, repeat orders less "
            "often, or use clickfarm run)",
            file="size limit",
            field="days",
        )
    workers = sum(g.count for g in scenario.workers)
    if workers > limit:
        raise ScenarioError(
            f"this set-up has {workers:,} workers; the browser app runs at most {limit:,} "
            "(use clickfarm run for larger runs, or start the app with --max-workers)",
            file="size limit",
            field="workers",
        )
    moderators = scenario.platform.moderation.moderators
    if moderators > MAX_OTHER_AGENTS:
        raise ScenarioError(
            f"{moderators:,} moderators; the browser app runs at most {MAX_OTHER_AGENTS:,}",
            file="size limit",
            field="platform.moderation.moderators",
        )
    influencers = sum(r.influencers.count for r in scenario.recruiters if r.influencers)
    if influencers > MAX_OTHER_AGENTS:
        raise ScenarioError(
            f"{influencers:,} influencers; the browser app runs at most {MAX_OTHER_AGENTS:,}",
            file="size limit",
            field="recruiters.influencers.count",
        )


def friendly_error(exc: BaseException) -> str:
    """One line for the page: scenario errors as they are, anything else with its type."""
    if isinstance(exc, ScenarioError):
        text = str(exc)
        if text.startswith("--set "):
            # errors in a control's value name the control, not a command-line flag
            text = "changed parameter " + text[len("--set ") :]
        return text
    return f"{type(exc).__name__}: {exc}"


def shipped_titles() -> dict[str, str]:
    """Shipped scenario name -> title (names of files that fail to load keep their name)."""
    out = {}
    for name in shipped_scenarios():
        try:
            out[name] = Setup(name).base().title
        except ScenarioError:
            out[name] = f"{name} (invalid)"
    return out


# ---------------------------------------------------------------------------- agents
AGENT_KINDS = ("worker", "recruiter", "influencer", "moderator")

WORKER_FIELDS = (
    "tasks_done",
    "earnings",
    "points",
    "hours_online",
    "hours_unpaid",
    "effective_hourly_pay",
    "accounts_alive",
    "working",
    "fatigue",
)
OTHER_FIELDS = {
    "recruiter": ("balance",),
    "influencer": ("balance", "relays", "relaying"),
    "moderator": ("reviews", "earnings"),
}


def agent_fields(kind: str) -> tuple[str, ...]:
    """The names of the fields recorded for agents of ``kind``."""
    return WORKER_FIELDS if kind == "worker" else OTHER_FIELDS[kind]


def read_fields(model: ClickFarmModel, kind: str, idx: np.ndarray) -> np.ndarray:
    """The recorded fields of agents ``idx`` of one kind, as a (fields, agents) array."""
    bal = model.ledger.balances["money"]
    scale = model.scale
    if kind == "worker":
        w = model.workers
        earned = bal[model.worker_accounts[idx]] / scale
        hours = w.hours_online[idx]
        pay = np.divide(earned, hours, out=np.zeros(idx.size), where=hours > 0)
        rows = [
            w.tasks_done[idx],
            earned,
            w.points[idx],
            hours,
            w.hours_unpaid[idx],
            pay,
            w.accounts_alive[idx],
            w.active_now[idx],
            w.fatigue[idx],
        ]
    elif kind == "recruiter":
        rows = [bal[model.recruiter_account[idx]] / scale]
    elif kind == "influencer":
        relaying = (model.hour - model.influencers.last_relay[idx]) < model.influencers.attention[
            idx
        ]
        rows = [
            bal[model.influencer_accounts[idx]] / scale,
            model.influencer_relays[idx],
            relaying,
        ]
    elif kind == "moderator":
        rows = [model.moderator_reviews[idx], bal[model.moderator_accounts[idx]] / scale]
    else:
        raise ValueError(f"unknown agent kind {kind!r}; expected one of {AGENT_KINDS}")
    return np.vstack([np.asarray(r, dtype=np.float64) for r in rows])


def agent_count(model: ClickFarmModel, kind: str) -> int:
    """How many agents of ``kind`` the model has."""
    return {
        "worker": model.workers.size,
        "recruiter": len(model.recruiter_agents),
        "influencer": len(model.influencer_agents),
        "moderator": len(model.moderator_agents),
    }[kind]


def agent_object(model: ClickFarmModel, kind: str, index: int):
    """The model's agent object of ``kind`` at position ``index``."""
    return {
        "worker": model.worker_agents,
        "recruiter": model.recruiter_agents,
        "influencer": model.influencer_agents,
        "moderator": model.moderator_agents,
    }[kind][index]


def agent_title(model: ClickFarmModel, kind: str, index: int) -> str:
    """A short heading for one agent: its kind, number or name, and group or type."""
    s = model.spec
    if kind == "worker":
        w = model.workers
        what = "bot" if w.is_bot[index] else "worker"
        return f"{what} {index} ({s.workers[int(w.group[index])].id})"
    if kind == "recruiter":
        r = s.recruiters[index]
        return f"recruiter {r.name or r.id} ({r.kind})"
    if kind == "influencer":
        return f"influencer {index} ({model.influencer_agents[index].network})"
    return f"moderator {index}"


def sample_workers(model: ClickFarmModel, size: int) -> np.ndarray:
    """A fixed, evenly spread sample of workers: every group represented, no randomness.

    The sample never draws from the model's random generators, so showing the network
    cannot change a run's numbers.
    """
    w = model.workers
    n = w.size
    if n <= size:
        return np.arange(n, dtype=np.int64)
    groups = np.unique(w.group)
    counts = np.array([(w.group == g).sum() for g in groups], dtype=np.float64)
    quota = np.maximum(np.minimum(counts, 12), np.floor(size * counts / counts.sum())).astype(int)
    picked = []
    for g, k in zip(groups, quota, strict=True):
        members = np.flatnonzero(w.group == g)
        picks = np.unique(np.linspace(0, members.size - 1, k).round().astype(np.int64))
        picked.append(members[picks])
    return np.sort(np.concatenate(picked))


# ---------------------------------------------------------------------------- runs
TRACK_LIMIT = 2_000
"""Agents of one kind (other than workers) whose history is recorded every step."""


@dataclass
class _Track:
    index: np.ndarray
    rows: list[np.ndarray] = field(default_factory=list)


class LiveRun:
    """One model built from a set-up, stepped on demand, with the histories views need.

    Every method that reads or changes the model takes ``lock``, so a play loop in one
    thread and page renders in another never see a half-finished step.
    """

    def __init__(self, setup: Setup, scenario: Scenario | None = None, sample_size: int = 200):
        self.setup = setup
        self.scenario = scenario if scenario is not None else setup.scenario()
        self.lock = threading.RLock()
        started = time.perf_counter()
        self.model = ClickFarmModel(self.scenario)
        self.build_seconds = time.perf_counter() - started
        self.seed = self.model.seed
        self.rows: list[dict[str, float]] = []
        self.error: str | None = None
        self.sample = sample_workers(self.model, sample_size)
        self.tracks: dict[str, _Track] = {"worker": _Track(self.sample)}
        for kind in ("recruiter", "influencer", "moderator"):
            n = agent_count(self.model, kind)
            self.tracks[kind] = _Track(np.arange(min(n, TRACK_LIMIT), dtype=np.int64))
        self.extra: dict[tuple[str, int], list[np.ndarray]] = {}
        self.step_seconds: list[float] = []
        self._cache: dict[Any, Any] = {}

    # -- state --------------------------------------------------------------------
    @property
    def steps(self) -> int:
        """Hours the model has run."""
        return int(self.model.steps)

    @property
    def max_steps(self) -> int:
        """Hours the run lasts."""
        return int(self.model.max_steps)

    @property
    def finished(self) -> bool:
        """Whether the model has stopped, at its end or because a step failed."""
        return not self.model.running or self.error is not None

    @property
    def currency(self) -> str:
        """The scenario's currency code."""
        return self.scenario.currency.code

    # -- stepping -----------------------------------------------------------------
    def step(self, n: int = 1) -> int:
        """Advance up to ``n`` hours (fewer at the end of the run); returns hours done."""
        done = 0
        with self.lock:
            for _ in range(max(0, int(n))):
                if self.finished:
                    break
                started = time.perf_counter()
                try:
                    self.model.step()
                except Exception as exc:  # a model bug must not take the server down
                    log.exception("model step failed")
                    self.error = f"the model stopped at hour {self.steps}: {friendly_error(exc)}"
                    break
                self.step_seconds.append(time.perf_counter() - started)
                self._record()
                done += 1
            if done:
                self._cache.clear()
        return done

    def run_to_end(
        self,
        should_stop: Callable[[], bool] | None = None,
        on_progress: Callable[[int, int], None] | None = None,
        chunk: int = 24,
    ) -> None:
        """Step to the end in chunks, checking ``should_stop`` between them."""
        while not self.finished:
            if should_stop is not None and should_stop():
                return
            self.step(chunk)
            if on_progress is not None:
                on_progress(self.steps, self.max_steps)

    def _record(self) -> None:
        self.rows.append(dict(self.model.metrics))
        for kind, track in self.tracks.items():
            if track.index.size:
                track.rows.append(read_fields(self.model, kind, track.index))
        for (kind, index), rows in self.extra.items():
            rows.append(read_fields(self.model, kind, np.array([index]))[:, 0])

    # -- reading ------------------------------------------------------------------
    def cached(self, key: Any, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per step for ``key`` (cleared whenever the model steps)."""
        with self.lock:
            if key not in self._cache:
                self._cache[key] = compute()
            return self._cache[key]

    def metric(self, name: str) -> np.ndarray:
        """One model metric's recorded value at every step so far."""
        with self.lock:
            return np.array([r[name] for r in self.rows], dtype=np.float64)

    def last(self, name: str, default: float = 0.0) -> float:
        """One metric's latest recorded value, or ``default`` before the first step."""
        with self.lock:
            return float(self.rows[-1][name]) if self.rows else default

    def timeseries(self) -> pd.DataFrame:
        """The run's time series table, as ``clickfarm run`` writes it."""
        from sim.run.outputs import timeseries_frame

        with self.lock:
            return timeseries_frame(self.model)

    def summary(self) -> dict[str, Any] | None:
        """The summary ``clickfarm run`` writes, for the hours run so far (None before)."""
        from sim.run.outputs import summarise

        def compute() -> dict[str, Any] | None:
            if not self.rows:
                return None
            return summarise(self.model, self.timeseries())

        return self.cached("summary", compute)

    def agent_state(self, kind: str, index: int) -> dict[str, Any]:
        """The current state of one agent, as its ``state()`` method reports it."""
        with self.lock:
            return agent_object(self.model, kind, index).state()

    def agent_history(self, kind: str, index: int) -> pd.DataFrame:
        """Every recorded step of one agent's fields, one row per hour.

        Agents that were not being watched are replayed from the start in a twin model;
        the run is deterministic, so the replay is exact.
        """
        fields = agent_fields(kind)
        with self.lock:
            track = self.tracks[kind]
            where = np.flatnonzero(track.index == index)
            if where.size:
                data = [r[:, where[0]] for r in track.rows]
            else:
                key = (kind, index)
                if key not in self.extra:
                    self.extra[key] = self._replay(kind, index)
                data = self.extra[key]
            frame = pd.DataFrame(np.array(data).reshape(len(data), len(fields)), columns=fields)
            frame.insert(0, "hour", np.arange(len(data), dtype=np.int64))
            return frame

    def _replay(self, kind: str, index: int) -> list[np.ndarray]:
        twin = ClickFarmModel(self.scenario)
        out = []
        idx = np.array([index])
        for _ in range(self.steps):
            twin.step()
            out.append(read_fields(twin, kind, idx)[:, 0])
        return out

    def summary_row(self) -> dict[str, float]:
        """A copy of the latest step's metrics (empty before the first step)."""
        with self.lock:
            return dict(self.rows[-1]) if self.rows else {}
