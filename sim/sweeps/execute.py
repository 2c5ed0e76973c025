"""Running the missing runs of a sweep: on local processes, or on a Dask cluster.

Both executors take the same tasks and return the same outcomes; only the machine that
computes them differs. Seeds and keys are fixed when the sweep is planned, so neither
the executor, the number of workers nor the order of completion changes any result.

The planning process stores each outcome the moment it arrives (see
:mod:`sim.sweeps.store`), so an interrupted sweep loses at most the runs in flight.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sim.scenario.errors import ScenarioError
from sim.sweeps.design import Plan, plan_runs
from sim.sweeps.spec import Sweep, load_sweep
from sim.sweeps.store import SweepStore
from sim.sweeps.worker import RunOutcome, RunTask, execute_task, worker_code_version

MAX_ATTEMPTS = 3
"""How often a run may take a local worker process down with it before it counts as failed."""


def default_workers() -> int:
    """The number of cores this process may use (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


# ------------------------------------------------------------------ executors
class LocalExecutor:
    """``workers`` processes on this machine; 1 runs everything in this process."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or default_workers()
        if self.workers < 1:
            raise ScenarioError(
                f"--workers must be at least 1, got {self.workers}", file="command line"
            )

    def describe(self) -> str:
        """How the runs are executed, for the progress line."""
        if self.workers == 1:
            return "1 local worker (this process)"
        return f"{self.workers} local worker processes"

    def check(self, code: str) -> None:
        """Nothing to check: local workers run this very code."""
        return None

    def close(self) -> None:
        """Nothing to release: each call of :meth:`results` shuts its own pool down."""
        return None

    def results(self, tasks: Iterable[RunTask]) -> Iterator[tuple[RunTask, RunOutcome]]:
        """Run ``tasks`` and yield each with its outcome, as they finish."""
        if self.workers == 1:
            for task in tasks:
                yield task, execute_task(task)
            return
        yield from self._pool(list(tasks))

    def _pool(self, tasks: list[RunTask]) -> Iterator[tuple[RunTask, RunOutcome]]:
        from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
        from concurrent.futures.process import BrokenProcessPool

        queue = deque(tasks)
        deaths: dict[str, int] = {}
        window = 2 * self.workers
        context = _process_context()
        while queue:
            pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=context, initializer=_quiet_worker
            )
            running: dict = {}
            lost: list[RunTask] = []
            try:
                while (queue or running) and not lost:
                    while queue and len(running) < window:
                        task = queue.popleft()
                        running[pool.submit(execute_task, task)] = task
                    finished, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in finished:
                        task = running.pop(future)
                        error = future.exception()
                        if isinstance(error, BrokenProcessPool):
                            lost.append(task)
                        elif error is not None:  # e.g. a task that cannot be pickled
                            yield (
                                task,
                                RunOutcome(
                                    key=task.key, ok=False, error=f"{type(error).__name__}: {error}"
                                ),
                            )
                        else:
                            yield task, future.result()
                if lost:  # a worker process died: every run in flight went with it
                    wait(running)
                    for future, task in running.items():
                        if future.exception() is None:
                            yield task, future.result()
                        else:
                            lost.append(task)
                    for task in reversed(lost):
                        deaths[task.key] = deaths.get(task.key, 0) + 1
                        if deaths[task.key] >= MAX_ATTEMPTS:
                            yield (
                                task,
                                RunOutcome(
                                    key=task.key,
                                    ok=False,
                                    error=f"a worker process died while running it, "
                                    f"{MAX_ATTEMPTS} times",
                                ),
                            )
                        else:
                            queue.appendleft(task)
            finally:
                pool.shutdown(wait=False, cancel_futures=True)


def _process_context():
    """Fresh worker processes that start fast.

    They are forked from a server that has already imported the model (POSIX), or
    spawned (elsewhere); never a plain fork of this process, which may hold threads
    (the progress bar).
    """
    import multiprocessing

    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["sim.sweeps.worker", "sim.run.outputs"])
        return context
    return multiprocessing.get_context("spawn")


def _quiet_worker() -> None:
    """Set up a local worker process.

    Ctrl-C is left to the main process, which stops the workers cleanly. If the main
    process dies without doing so (kill -9), a watcher thread ends the worker too, so no
    idle process outlives the sweep.
    """
    import multiprocessing
    import signal
    import threading

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    if parent is None or parent.sentinel is None:
        return

    def watch() -> None:
        from multiprocessing.connection import wait

        wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="clickfarm-parent-watch", daemon=True).start()


class DaskExecutor:
    """An existing Dask distributed cluster, reached through its scheduler address."""

    def __init__(self, address: str, connect_timeout: float = 10.0) -> None:
        try:
            from dask.distributed import Client
        except ImportError:
            raise ScenarioError(
                "running on a cluster needs Dask; install it with: pip install "
                "'clickfarm[cluster]'",
                file="command line",
                field="--scheduler",
            ) from None
        self.address = address
        try:
            self.client = Client(address, timeout=connect_timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ScenarioError(
                f"cannot reach a Dask scheduler at {address} ({type(exc).__name__}: {exc}); "
                "expected the address printed by 'dask scheduler', e.g. tcp://10.0.0.5:8786",
                file="command line",
                field="--scheduler",
            ) from None

    def describe(self) -> str:
        """The scheduler's address with its numbers of workers and threads."""
        info = self.client.scheduler_info()
        workers = info.get("workers", {})
        threads = sum(w.get("nthreads", 1) for w in workers.values())
        return f"Dask cluster {self.address} ({len(workers)} workers, {threads} threads)"

    def check(self, code: str, wait_seconds: float = 60.0) -> None:
        """At least one worker, and every worker runs the same clickfarm code."""
        try:
            self.client.wait_for_workers(1, timeout=wait_seconds)
        except TimeoutError:
            raise ScenarioError(
                f"no Dask worker joined {self.address} within {wait_seconds:g} s; expected "
                f"workers started with: dask worker {self.address}",
                file="command line",
                field="--scheduler",
            ) from None
        try:
            versions = self.client.run(worker_code_version)
        except Exception as exc:
            raise ScenarioError(
                f"the Dask workers cannot run clickfarm ({type(exc).__name__}: {exc}); "
                "expected clickfarm installed in every worker's Python environment",
                file="command line",
                field="--scheduler",
            ) from None
        wrong = {w: v for w, v in versions.items() if v != code}
        if wrong:
            shown = ", ".join(f"{w} has {v}" for w, v in sorted(wrong.items())[:3])
            raise ScenarioError(
                f"the Dask workers run different code from this machine ({code}): {shown}; "
                "expected the same clickfarm version and sources everywhere",
                file="command line",
                field="--scheduler",
            )

    def close(self) -> None:
        """Disconnect from the scheduler (the cluster keeps running)."""
        self.client.close()

    def results(self, tasks: Iterable[RunTask]) -> Iterator[tuple[RunTask, RunOutcome]]:
        """Submit ``tasks`` to the cluster and yield each with its outcome."""
        from dask.distributed import as_completed

        pending = deque(tasks)
        info = self.client.scheduler_info().get("workers", {})
        window = max(4, 2 * sum(w.get("nthreads", 1) for w in info.values()))
        by_future = {}
        stream = as_completed(loop=self.client.loop)

        def submit() -> None:
            task = pending.popleft()
            future = self.client.submit(execute_task, task, key=f"clickfarm-run-{task.key}")
            by_future[future] = task
            stream.add(future)

        while pending and len(by_future) < window:
            submit()
        try:
            for future in stream:
                task = by_future.pop(future)
                try:
                    outcome = future.result()
                except Exception as exc:  # the cluster lost it (e.g. KilledWorker)
                    outcome = RunOutcome(
                        key=task.key,
                        ok=False,
                        error=f"the cluster could not run it: {type(exc).__name__}: {exc}",
                    )
                future.release()
                yield task, outcome
                if pending:
                    submit()
        finally:
            for future in by_future:
                future.cancel()


# ------------------------------------------------------------------- sweeps
@dataclass
class SweepJob:
    """A planned sweep on its folder, holding the folder's lock until closed."""

    plan: Plan
    store: SweepStore
    todo: list[str]
    already_done: int
    failed_before: int
    notes: list[str] = field(default_factory=list)
    ran: int = 0
    failed_now: int = 0
    seconds: float = 0.0

    @property
    def total(self) -> int:
        """The number of distinct runs in the plan."""
        return len(self.plan.tasks)

    def execute(
        self,
        executor: LocalExecutor | DaskExecutor,
        on_result: Callable[[RunTask, RunOutcome], None] | None = None,
        limit: int | None = None,
    ) -> None:
        """Run what is missing; store each outcome as it arrives."""
        tasks = [self.plan.tasks[k] for k in self.todo[:limit]]
        started = time.perf_counter()
        try:
            for task, outcome in executor.results(tasks):
                if outcome.code_version and outcome.code_version != self.plan.code:
                    raise ScenarioError(
                        f"a worker ({outcome.worker}) runs clickfarm {outcome.code_version}, "
                        f"but this sweep was planned with {self.plan.code}: the sources under "
                        "sim/ changed while it started; expected the same code everywhere "
                        "(run the command again)",
                        file="command line",
                    )
                self.store.write(task, outcome)
                self.ran += 1
                self.failed_now += not outcome.ok
                if on_result is not None:
                    on_result(task, outcome)
        finally:
            self.seconds = time.perf_counter() - started


@dataclass
class SweepReport:
    """What :func:`run_sweep` did.

    Attributes:
        out: The sweep folder.
        runs: Rows of the design (points times replicates).
        distinct: Distinct runs among them (identical runs are run once).
        already_done: Runs that were finished before this call.
        ran: Runs executed by this call.
        failed_now: Runs of this call that failed.
        failed_total: Runs recorded as failed in the folder.
        seconds: Wall time of the runs.
        notes: Notes on the folder (runs set aside as superseded or damaged).
    """

    out: Path
    runs: int
    distinct: int
    already_done: int
    ran: int
    failed_now: int
    failed_total: int
    seconds: float
    notes: list[str]


class open_sweep:  # noqa: N801 - used as a context manager, like open()
    """Plan a sweep and lock its folder: ``with open_sweep(file, out) as job: ...``."""

    def __init__(
        self,
        sweep: str | Path | Sweep,
        out: str | Path,
        retry_failed: bool = False,
        plan: Plan | None = None,
    ) -> None:
        self.sweep = sweep if isinstance(sweep, Sweep) else load_sweep(sweep)
        self.store = SweepStore(out)
        self.retry_failed = retry_failed
        self.plan = plan
        self._lock = None

    def __enter__(self) -> SweepJob:
        plan = self.plan or plan_runs(self.sweep)
        self.store.check_usable()
        self._lock = self.store.locked()
        self._lock.__enter__()
        try:
            notes = self.store.prepare(plan)
            todo, done, failed = self.store.pending(plan, self.retry_failed)
        except BaseException:
            self._lock.__exit__(None, None, None)
            raise
        return SweepJob(plan, self.store, todo, done, failed, notes)

    def __exit__(self, *exc) -> None:
        if self._lock is not None:
            self._lock.__exit__(*exc)


def make_executor(workers: int | None = None, scheduler: str | None = None):
    """A Dask executor when ``scheduler`` is given, else local processes."""
    if scheduler:
        return DaskExecutor(scheduler)
    return LocalExecutor(workers)


def run_sweep(
    sweep: str | Path | Sweep,
    out: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    retry_failed: bool = False,
    on_result: Callable[[RunTask, RunOutcome], None] | None = None,
) -> SweepReport:
    """Run a sweep into ``out`` (resuming it if ``out`` holds part of it); see docs/sweeps.md.

    ``scheduler`` is a Dask scheduler address (``tcp://host:8786``); without it the runs go
    to ``workers`` local processes (default: all cores).
    """
    with open_sweep(sweep, out, retry_failed=retry_failed) as job:
        executor = make_executor(workers, scheduler)
        try:
            executor.check(job.plan.code)
            job.execute(executor, on_result=on_result)
        finally:
            executor.close()
        failed_total = len(job.store.keys("failures") & set(job.plan.tasks))
        return SweepReport(
            out=Path(out),
            runs=len(job.plan.table),
            distinct=job.total,
            already_done=job.already_done,
            ran=job.ran,
            failed_now=job.failed_now,
            failed_total=failed_total,
            seconds=job.seconds,
            notes=job.notes,
        )
