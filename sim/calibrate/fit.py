"""ABC-SMC over scenario overrides, with pyabc: seeded, resumable, local or on Dask.

How randomness is controlled (pyabc draws from numpy's and Python's global generators):

* every model run's seed comes from the calibration's master seed and the parameter
  point itself (``SeedSequence([seed, <hash of the point>, replicate])``), so a point
  always gives the same targets, on any worker, in any order;
* pyabc's proposals are drawn in map tasks, each of which reseeds the global generators
  from ``SeedSequence([seed, generation, task])`` (:class:`SeededMappingSampler`), and
  the map keeps task order, so a generation's particles do not depend on the number of
  workers or on which finishes first;
* the main process's global generators are seeded per generation and restored after.

Generations run one ``ABCSMC.run`` call at a time and pyabc's SQLite history holds
everything between them, so an uninterrupted calibration and one resumed with
``ABCSMC.load`` take the same path. Every evaluation is also appended to a log in the
output folder; after a kill, the interrupted generation's evaluations are read back
instead of being run again.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import random
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyabc
from pyabc.sampler import MappingSampler

from sim.calibrate.spec import Calibration, FreeParameter
from sim.calibrate.targets import compute_targets, distance
from sim.scenario.schema import Scenario

UNMEASURABLE = 1e9
"""Distance given to a run that cannot measure a fitted target (never accepted)."""
HISTORY = "history.db"
EVALUATIONS = "evaluations"


def parameter_name(p: FreeParameter) -> str:
    """The name a parameter goes by in pyabc, where dots are not allowed."""
    return p.key.replace(".", "__")


def point_key(values: dict[str, float]) -> str:
    """A fixed text for a parameter point: the keys sorted, floats in shortest form."""
    return json.dumps({k: float(v) for k, v in sorted(values.items())}, separators=(",", ":"))


def point_seeds(master: int, values: dict[str, float], count: int) -> list[int]:
    """The run seeds of one parameter point: derived from the master seed and the point."""
    digest = hashlib.sha256(point_key(values).encode()).digest()
    words = [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4)]
    return [
        int(np.random.SeedSequence([master, *words, r]).generate_state(2, np.uint64)[0] >> 1)
        for r in range(count)
    ]


def natural_values(calibration: Calibration, proposal: dict[str, float]) -> dict[str, float]:
    """A pyabc proposal (log10 for log-scale parameters) as field values, by scenario key."""
    out = {}
    for p in calibration.parameters:
        x = float(proposal[parameter_name(p)])
        out[p.key] = float(p.to_value(10**x if p.scale == "log" else x))
    return out


# ------------------------------------------------------------------ evaluation log
_LOGS: dict[str, dict[str, dict[str, Any]]] = {}
"""Per process: the evaluations already read from each log folder, by point key."""
_OWN_FILES: dict[str, Path] = {}
"""Per process: the log file this process appends to, by log folder."""


def _read_log(folder: Path) -> dict[str, dict[str, Any]]:
    cache = _LOGS.get(str(folder))
    if cache is None:
        cache = {}
        for path in sorted(folder.glob("*.jsonl")):
            for line in path.read_text(encoding="utf-8").splitlines():
                with contextlib.suppress(ValueError):  # a line cut short by a kill
                    record = json.loads(line)
                    cache[record["key"]] = record
        _LOGS[str(folder)] = cache
    return cache


@dataclass
class Evaluator:
    """The model pyabc calls: a parameter point -> the mean of each target over replicates.

    Picklable, so it runs in local worker processes and on Dask workers alike.
    """

    calibration: Calibration
    log_dir: Path | None = None

    def __call__(self, proposal: dict[str, float]) -> dict[str, float]:
        """Target means at one proposal, from the evaluation log when the point was run before.

        Args:
            proposal: Parameter values as pyabc proposes them (log10 for log-scale ones).

        Returns:
            The mean of each target over the method's replicates, by target name. New
            points are appended to the log in ``log_dir`` when there is one.
        """
        values = natural_values(self.calibration, proposal)
        key = point_key(values)
        log = _read_log(self.log_dir) if self.log_dir is not None else {}
        if key in log:
            return dict(log[key]["targets"])
        started = time.perf_counter()
        targets = self.simulate(values, self.calibration.method.replicates)
        if self.log_dir is not None:
            record = {
                "key": key,
                "values": values,
                "targets": targets,
                "wall_seconds": round(time.perf_counter() - started, 4),
            }
            self._append(record)
            log[key] = record
        return targets

    def simulate(self, values: dict[str, float], replicates: int) -> dict[str, float]:
        """Mean target values over ``replicates`` seeded runs at ``values``."""
        runs = self.runs(values, replicates)
        names = [t.name for t in self.calibration.targets]
        return {n: float(np.mean([r[n] for r in runs])) for n in names}

    def runs(self, values: dict[str, float], replicates: int) -> list[dict[str, float]]:
        """Each replicate's target values at ``values``, in seed order."""
        scenario = self.calibration.scenario_at(values)
        seeds = point_seeds(self.calibration.spec.seed, values, replicates)
        return [self.run_once(scenario, s) for s in seeds]

    def run_once(self, scenario: Scenario, seed: int) -> dict[str, float]:
        """One run's target values, from the same tables ``run_scenario`` builds.

        The manifest is skipped: it asks git and the package metadata, a fifth of a
        short run's time.
        """
        from sim.run.outputs import agents_frame, build_model, summarise, timeseries_frame

        model = build_model(scenario, seed=seed)
        while model.running:
            model.step()
        summary = summarise(model, timeseries_frame(model))
        return compute_targets(self.calibration.targets, agents_frame(model), summary)

    def _append(self, record: dict[str, Any]) -> None:
        path = _OWN_FILES.get(str(self.log_dir))
        if path is None:  # one file per process: no two writers share a file
            self.log_dir.mkdir(parents=True, exist_ok=True)
            path = self.log_dir / f"{os.getpid()}-{uuid.uuid4().hex[:8]}.jsonl"
            _OWN_FILES[str(self.log_dir)] = path
        with path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(record, allow_nan=True) + "\n")


@dataclass
class FittedDistance:
    """pyabc's distance: RMS of (simulated - value) / tolerance over the fitted targets."""

    calibration: Calibration

    def __call__(self, x: dict, x_0: dict) -> float:  # noqa: ARG002 - targets carry x_0
        """Distance of simulated targets ``x`` from the fitted ones; ``x_0`` is unused.

        Returns ``UNMEASURABLE`` when the distance is not finite.
        """
        d = distance({k: float(v) for k, v in x.items()}, self.calibration.fitted)
        return d if np.isfinite(d) else UNMEASURABLE


# ------------------------------------------------------------------------ sampling
class SeededMappingSampler(MappingSampler):
    """pyabc's MappingSampler with one derived seed per map task instead of OS entropy.

    The stock sampler reseeds every task from the operating system, so no two runs
    propose the same particles. Here task ``i`` of generation ``t`` is seeded from the
    master seed, ``t`` and ``i``; with an order-keeping map the generation is the same
    whatever runs it.
    """

    def __init__(self, map_: Callable, master_seed: int) -> None:
        super().__init__(map_=map_)
        self.master_seed = master_seed

    def __getstate__(self):
        return (*super().__getstate__(), self.master_seed)

    def __setstate__(self, state):
        super().__setstate__(state[:-1])
        self.master_seed = state[-1]

    def map_function(self, simulate_one, seed):
        """One map task: seed the global generators, sample until one particle is accepted."""
        simulate_one = self.unpickle(simulate_one)
        np.random.seed(seed)
        random.seed(seed)
        sample = self._create_empty_sample()
        evaluations = 0
        while True:
            particle = simulate_one()
            evaluations += 1
            sample.append(particle)
            if particle.accepted:
                return sample, evaluations

    def sample_until_n_accepted(self, n, simulate_one, t, **kwargs):  # noqa: ARG002
        """``n`` seeded tasks of generation ``t``, mapped in order, merged into one sample."""
        seeds = [task_seed(self.master_seed, t, i) for i in range(n)]
        job = functools.partial(self.map_function, self.pickle(simulate_one))
        results = list(self.map_(job, seeds))
        self.nr_evaluations_ = sum(evaluations for _, evaluations in results)
        sample = self._create_empty_sample()
        for part, _ in results:
            sample += part
        return sample


def task_seed(master: int, generation: int, task: int) -> int:
    """The seed of one sampling task (32 bits: what ``np.random.seed`` accepts)."""
    return int(np.random.SeedSequence([master, generation + 1, task]).generate_state(1)[0])


@contextlib.contextmanager
def seeded_globals(seed: int) -> Iterator[None]:
    """Seed numpy's and Python's global generators for a block, then put them back."""
    np_state, py_state = np.random.get_state(), random.getstate()
    np.random.seed(seed)
    random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)


@contextlib.contextmanager
def make_map(workers: int, scheduler: str | None) -> Iterator[tuple[Callable, str]]:
    """An order-keeping map over local processes or a Dask cluster, and its description."""
    if scheduler:
        from distributed import Client

        client = Client(scheduler, timeout="10s")
        try:
            yield (
                (lambda f, xs: client.gather(client.map(f, xs, pure=False))),
                (f"Dask cluster {scheduler}"),
            )
        finally:
            client.close()
    elif workers <= 1:
        yield map, "1 local process"
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # Forked from a server that has imported the model (fast, no inherited threads).
        if "forkserver" in multiprocessing.get_all_start_methods():
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["sim.calibrate.fit", "sim.run.outputs"])
        else:
            context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            yield pool.map, f"{workers} local processes"


# -------------------------------------------------------------------------- running
@dataclass
class Generation:
    """What one finished generation reports to the progress display."""

    t: int
    epsilon: float
    evaluations: int
    accepted: int

    @property
    def acceptance(self) -> float:
        """Accepted particles per evaluation in this generation."""
        return self.accepted / self.evaluations if self.evaluations else 0.0


def prior(calibration: Calibration) -> pyabc.Distribution:
    """Uniform priors between each parameter's bounds (on log10 for log scales)."""
    rvs = {}
    for p in calibration.parameters:
        low, high = (np.log10(p.low), np.log10(p.high)) if p.scale == "log" else (p.low, p.high)
        rvs[parameter_name(p)] = pyabc.RV("uniform", low, high - low)
    return pyabc.Distribution(**rvs)


def quiet_pyabc() -> None:
    """Raise pyabc's loggers to WARNING: the progress bar reports generations more briefly."""
    for name in ("ABC", "ABC.History", "ABC.Sampler", "ABC.Distance", "ABC.Epsilon"):
        logging.getLogger(name).setLevel(logging.WARNING)


def run_abc(
    calibration: Calibration,
    folder: Path,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    on_generation: Callable[[Generation], None] | None = None,
    stop_after: int | None = None,
) -> pyabc.History:
    """Run (or resume) the calibration's ABC-SMC in ``folder``; return pyabc's history.

    ``stop_after`` ends the call after that many new generations (the rest can be
    resumed later with the same call).
    """
    quiet_pyabc()
    folder.mkdir(parents=True, exist_ok=True)
    db = f"sqlite:///{(folder / HISTORY).resolve()}"
    method = calibration.method
    log_dir = None if scheduler else (folder / EVALUATIONS).resolve()
    _LOGS.pop(str(log_dir), None)  # read the log afresh: the folder may have been replaced
    _OWN_FILES.pop(str(log_dir), None)
    evaluator = Evaluator(calibration, log_dir)
    with make_map(workers, scheduler) as (map_, _description):

        def fresh_abc() -> pyabc.ABCSMC:
            """An ABCSMC set up for this calibration, before new() or load()."""
            # A new object per generation: ABCSMC caches the sample it calibrated epsilon
            # on, so a second run() on the same object would reuse generation 0's epsilon.
            return pyabc.ABCSMC(
                models=evaluator,
                parameter_priors=prior(calibration),
                distance_function=FittedDistance(calibration),
                population_size=method.population,
                sampler=SeededMappingSampler(map_, calibration.spec.seed),
            )

        if completed_generations(folder) == 0:  # nothing kept yet: start (again) cleanly
            (folder / HISTORY).unlink(missing_ok=True)
        done = 0
        while (t := completed_generations(folder)) < method.generations:
            if stop_after is not None and done >= stop_after:
                break
            abc = fresh_abc()
            if t == 0:
                history = abc.new(db, {x.name: x.value for x in calibration.targets})
            else:
                history = abc.load(db, 1)
                if history.total_nr_simulations >= method.max_evaluations:
                    break
            with seeded_globals(task_seed(calibration.spec.seed, t, 2**31)):
                history = abc.run(
                    max_nr_populations=1, max_total_nr_simulations=method.max_evaluations
                )
            done += 1
            if on_generation is not None:
                on_generation(generation_record(history, history.max_t))
    return history_of(folder)


def history_of(folder: Path) -> pyabc.History:
    """The pyabc history of the calibration in ``folder``."""
    return pyabc.History(f"sqlite:///{(folder / HISTORY).resolve()}", _id=1)


def completed_generations(folder: Path) -> int:
    """How many generations the history in ``folder`` holds (0 without a usable one)."""
    path = folder / HISTORY
    if not path.exists():
        return 0
    try:
        return int(history_of(folder).max_t) + 1
    except Exception:  # noqa: BLE001 - a history cut short before its first write
        return 0


def generation_record(history: pyabc.History, t: int) -> Generation:
    """Epsilon, evaluations and acceptances of generation ``t`` from the history."""
    table = history.get_all_populations()
    row = table[table["t"] == t].iloc[0]
    return Generation(
        t=int(t),
        epsilon=float(row["epsilon"]),
        evaluations=int(row["samples"]),
        accepted=int(row["particles"]),
    )
