"""Ensembles: one set-up run on many seeds, summarised as a mean and a 10th–90th band.

A single run's numbers are partly chance. Running the same set-up on N seeds (derived
from one master seed, the set-up's own, which is always the first) shows how much: every
hourly metric and every headline figure gets its mean and its 10th and 90th percentile
across seeds. Runs go to a process pool of two workers, off the page's thread; the
caller sees progress and can cancel what has not started yet.

Nothing here imports Solara, so tests and the benchmark drive it directly.
"""

from __future__ import annotations

import atexit
import multiprocessing
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass

import numpy as np

from sim.ui.session import MAX_SEED, Setup

DEFAULT_SEEDS = 10
MAX_SEEDS = 100
WORKERS = 2
LOW, HIGH = 10, 90
"""The percentiles that bound the band."""


def ensemble_seeds(master: int, n: int) -> list[int]:
    """``n`` seeds: ``master`` first (the run on screen), then ones derived from it.

    The derived seeds come from numpy's ``SeedSequence(master)``, so the same master seed
    always gives the same ensemble, on any machine, in any order of completion.
    """
    if n < 1:
        raise ValueError(f"an ensemble needs at least one seed, got {n}")
    derived = np.random.SeedSequence(master).generate_state(max(n - 1, 1), dtype=np.uint64)
    return [int(master)] + [int(s) & MAX_SEED for s in derived[: n - 1]]


@dataclass(frozen=True)
class SeedRun:
    """One finished run of the ensemble: its seed and its hourly metrics."""

    seed: int
    metrics: dict[str, np.ndarray]
    """Metric name -> value at the end of each hour (the last value is the headline)."""


def run_seed(setup: Setup, seed: int) -> SeedRun:
    """Run ``setup`` on ``seed`` to its end (in a worker process) and keep its metrics."""
    from sim.core.model import ClickFarmModel

    model = ClickFarmModel(setup.with_seed(seed).scenario())
    rows: list[dict[str, float]] = []
    while model.running:
        model.step()
        rows.append(dict(model.metrics))
    names = rows[0].keys() if rows else ()
    return SeedRun(seed, {k: np.array([r[k] for r in rows], dtype=np.float64) for k in names})


@dataclass(frozen=True)
class Band:
    """Mean and 10th/90th percentile of one metric across seeds, hour by hour."""

    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray

    @property
    def end(self) -> tuple[float, float, float]:
        """Mean, 10th and 90th percentile of the final value (the headline figure)."""
        return float(self.mean[-1]), float(self.low[-1]), float(self.high[-1])


@dataclass(frozen=True)
class Ensemble:
    """Every seed's run of one set-up, with bands for each metric."""

    setup: Setup
    runs: tuple[SeedRun, ...]

    @property
    def seeds(self) -> list[int]:
        """Each run's seed, in run order."""
        return [r.seed for r in self.runs]

    def band(self, metric: str) -> Band:
        """The metric across seeds (runs of unequal length are cut to the shortest)."""
        hours = min(len(r.metrics[metric]) for r in self.runs)
        values = np.stack([r.metrics[metric][:hours] for r in self.runs])
        low, high = np.percentile(values, [LOW, HIGH], axis=0)
        return Band(values.mean(axis=0), low, high)

    def finals(self, metric: str) -> np.ndarray:
        """The metric's final value in each run."""
        return np.array([r.metrics[metric][-1] for r in self.runs], dtype=np.float64)


def beyond_spread(a: Ensemble, b: Ensemble, metric: str) -> bool:
    """Whether B's mean differs from A's by more than the seed-to-seed spread.

    The spread is the wider of the two ensembles' 10th–90th percentile ranges of the
    final value: a difference smaller than that is within what chance alone produces.
    """
    fa, fb = a.finals(metric), b.finals(metric)
    spread = max(np.ptp(np.percentile(fa, [LOW, HIGH])), np.ptp(np.percentile(fb, [LOW, HIGH])))
    return bool(abs(fb.mean() - fa.mean()) > spread)


_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def pool() -> ProcessPoolExecutor:
    """The server's one pool of worker processes, started on first use.

    Workers are ``spawn``ed so that no thread or lock of the web server is copied into
    them; the pool is shut down when the server exits.
    """
    global _pool
    with _pool_lock:
        if _pool is None:
            context = multiprocessing.get_context("spawn")
            _pool = ProcessPoolExecutor(max_workers=WORKERS, mp_context=context)
            atexit.register(_pool.shutdown, wait=False, cancel_futures=True)
        return _pool


def run_ensemble(
    setup: Setup,
    seeds: Sequence[int],
    on_progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    executor: ProcessPoolExecutor | None = None,
) -> Ensemble | None:
    """Run ``setup`` on every seed in the pool; ``None`` when stopped before the end.

    Args:
        setup: The set-up to repeat (its own seed is replaced by each of ``seeds``).
        seeds: The seeds, e.g. from :func:`ensemble_seeds`.
        on_progress: Called with (runs done, runs in all) as each run finishes.
        should_stop: Polled as runs finish; when it says so, runs not yet started are
            cancelled and the function returns ``None``.
        executor: The pool to use (default: the server's pool of two workers).
    """
    executor = executor or pool()
    pending = {executor.submit(run_seed, setup, s) for s in seeds}
    done: dict[int, SeedRun] = {}
    try:
        while pending:
            if should_stop is not None and should_stop():
                return None
            finished, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            for future in finished:
                result = future.result()
                done[result.seed] = result
                if on_progress is not None:
                    on_progress(len(done), len(seeds))
    finally:
        for future in pending:
            future.cancel()
    return Ensemble(setup, tuple(done[s] for s in seeds))
