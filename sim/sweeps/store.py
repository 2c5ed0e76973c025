"""The sweep folder: a Parquet dataset with one file per run, each written atomically.

Layout of a sweep folder::

    sweep.json            the sweep as planned: file, parameters, design, code version
    design.parquet        one row per (point, replicate): its run key, seed and values
    summary/<key>.parquet     one row per finished run: parameters and final metrics
    timeseries/<key>.parquet  one row per step of each finished run (if kept)
    failures/<key>.parquet    one row per run that raised, with its error
    superseded/           runs of an earlier version of the sweep or of the code

Every file is written to a hidden temporary name, flushed to disk and renamed into
place, so a reader (or a resumed sweep) sees a run completely or not at all, whenever
the writer is killed. The file name is the run key, so a run can never appear twice.
Only the process that planned the sweep writes here; workers just return results.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.scenario.errors import ScenarioError
from sim.sweeps.design import Plan, column_values
from sim.sweeps.spec import Parameter
from sim.sweeps.worker import RunOutcome, RunTask

FORMAT = 1
SWEEP_FILE = "sweep.json"
DESIGN_FILE = "design.parquet"
SUMMARY = "summary"
SERIES = "timeseries"
FAILURES = "failures"
TABLES = (SUMMARY, SERIES, FAILURES)
SUPERSEDED = "superseded"
LOCK_FILE = ".lock"
VOLATILE_COLUMNS = ("wall_seconds", "worker")
"""Columns that describe how a run was executed, not what it computed."""


def now_utc() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def atomic_write_bytes(path: Path, write: Any) -> None:
    """Write a file by ``write(fileobj)`` into a temporary name, fsync, rename into place."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def atomic_write_frame(path: Path, frame: pd.DataFrame, small: bool = False) -> None:
    """Write a frame as Parquet, atomically.

    The pandas and Arrow schema notes are left out (they would be most of a one-row
    file); the Parquet types alone read back to the same columns. ``small`` tables (one
    row) also skip dictionaries and statistics, which only help larger files.
    """
    table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
    options: dict[str, Any] = {"store_schema": False}
    if small:
        options.update(use_dictionary=False, write_statistics=False)
    atomic_write_bytes(path, lambda fh: pq.write_table(table, fh, **options))


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, lambda fh: fh.write(text.encode("utf-8")))


class SweepStore:
    """One sweep folder. Use :meth:`locked` around everything that writes to it."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.parameters: list[Parameter] = []

    def dir(self, table: str) -> Path:
        return self.root / table

    def file(self, table: str, key: str) -> Path:
        return self.root / table / f"{key}.parquet"

    # ----------------------------------------------------------------- checks, lock
    def check_usable(self) -> None:
        """Refuse folders that exist but are not sweep folders (never overwrite those)."""
        root = self.root
        if root.exists() and not root.is_dir():
            raise ScenarioError(
                "exists and is not a folder; expected a sweep output folder", file=str(root)
            )
        if root.is_dir() and any(root.iterdir()) and not (root / SWEEP_FILE).exists():
            raise ScenarioError(
                "this folder is not empty and holds no sweep.json; expected a new folder or "
                "the folder of the same sweep (to resume it)",
                file=str(root),
            )

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold an exclusive lock on the folder (released by the OS even on kill -9)."""
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: no lock
            yield
            return
        fh = open(self.root / LOCK_FILE, "a+")  # noqa: SIM115 - held for the whole block
        try:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.seek(0)
                holder = fh.read().strip() or "another process"
                raise ScenarioError(
                    f"another sweep ({holder}) is writing to this folder; expected one "
                    "sweep per folder at a time",
                    file=str(self.root),
                ) from None
            fh.seek(0)
            fh.truncate()
            fh.write(f"pid {os.getpid()}")
            fh.flush()
            yield
        finally:
            fh.close()

    # ------------------------------------------------------------------ preparing
    def keys(self, table: str) -> set[str]:
        folder = self.dir(table)
        if not folder.is_dir():
            return set()
        return {p.stem for p in folder.glob("*.parquet") if not p.name.startswith(".")}

    def prepare(self, plan: Plan) -> list[str]:
        """Make the folder match ``plan``: write its description, set stale files aside.

        Returns notes for the user (what was set aside or cleaned up).
        """
        notes: list[str] = []
        self.parameters = plan.sweep.parameters
        for table in TABLES:
            self.dir(table).mkdir(parents=True, exist_ok=True)
        removed = 0
        for folder in [self.root, *(self.dir(t) for t in TABLES)]:
            for tmp in folder.glob(".*.tmp"):  # left by a writer that was killed
                with contextlib.suppress(OSError):
                    tmp.unlink()
                    removed += 1
        if removed:
            notes.append(f"removed {removed} unfinished temporary file(s) of an interrupted run")
        wanted = set(plan.tasks)
        stale = {t: sorted(self.keys(t) - wanted) for t in TABLES}
        count = len(set().union(*stale.values()))
        if count:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            target = self.root / SUPERSEDED / stamp
            for table, keys in stale.items():
                if keys:
                    (target / table).mkdir(parents=True, exist_ok=True)
                for key in keys:
                    os.replace(self.file(table, key), target / table / f"{key}.parquet")
            notes.append(
                f"moved {count} run(s) that are not part of this sweep (the sweep file or the "
                f"code changed) to {target}"
            )
        finished = self.finished(plan)
        for key in self.keys(FAILURES) & finished:  # failed once, succeeded on a retry
            self.file(FAILURES, key).unlink()
        info = describe(plan)
        previous = self.root / SWEEP_FILE
        if previous.exists():
            with contextlib.suppress(ValueError, OSError):
                info["first_started_utc"] = json.loads(previous.read_text()).get(
                    "first_started_utc", info["first_started_utc"]
                )
        atomic_write_text(previous, json.dumps(info, indent=2, default=str) + "\n")
        atomic_write_frame(self.root / DESIGN_FILE, plan.table)
        return notes

    def finished(self, plan: Plan) -> set[str]:
        keep_summary, keep_series = plan.sweep.outputs
        done = set(plan.tasks)
        if keep_summary:
            done &= self.keys(SUMMARY)
        if keep_series:
            done &= self.keys(SERIES)
        return done

    def pending(self, plan: Plan, retry_failed: bool = False) -> tuple[list[str], int, int]:
        """(keys still to run in design order, runs already finished, failures kept)."""
        done = self.finished(plan)
        failed = self.keys(FAILURES) - done
        skip = done if retry_failed else done | failed
        todo = [k for k in plan.tasks if k not in skip]
        return todo, len(done), 0 if retry_failed else len(failed & set(plan.tasks))

    # -------------------------------------------------------------------- writing
    def write(self, task: RunTask, outcome: RunOutcome) -> None:
        """Store one outcome. The summary file, written last, marks the run as finished."""
        if not outcome.ok:
            row = self._identity(task) | {
                "error": outcome.error or "unknown error",
                "detail": outcome.detail or "",
                "worker": outcome.worker,
                "code_version": outcome.code_version,
                "overrides": json.dumps(list(task.overrides)),
            }
            atomic_write_frame(self.file(FAILURES, task.key), self._frame([row]), small=True)
            return
        if task.keep_series and outcome.series is not None:
            series = outcome.series.reset_index(drop=True)
            front = self._frame([self._identity(task, with_seed=False)] * len(series))
            atomic_write_frame(
                self.file(SERIES, task.key),
                pd.concat([front, series], axis=1),
            )
        if task.keep_summary:
            row = (
                self._identity(task)
                | outcome.metrics
                | {
                    "wall_seconds": round(outcome.wall_seconds, 4),
                    "worker": outcome.worker,
                    "code_version": outcome.code_version,
                    "overrides": json.dumps(list(task.overrides)),
                }
            )
            atomic_write_frame(self.file(SUMMARY, task.key), self._frame([row]), small=True)
        with contextlib.suppress(FileNotFoundError):
            self.file(FAILURES, task.key).unlink()

    def _identity(self, task: RunTask, with_seed: bool = True) -> dict[str, Any]:
        row: dict[str, Any] = {"run_key": task.key, "replicate": task.replicate}
        if with_seed:
            row["seed"] = task.seed
        row.update(task.params)
        return row

    def _frame(self, rows: list[dict[str, Any]]) -> pd.DataFrame:
        frame = pd.DataFrame(rows)
        frame["replicate"] = frame["replicate"].astype("int64")
        if "seed" in frame:
            frame["seed"] = frame["seed"].astype("int64")
        for p in self.parameters:
            if p.name in frame:
                frame[p.name] = column_values(frame[p.name], p)
        return frame


def describe(plan: Plan) -> dict[str, Any]:
    sweep = plan.sweep
    spec = sweep.spec
    keep_summary, keep_series = sweep.outputs
    stamp = now_utc()
    return {
        "format": FORMAT,
        "name": sweep.name,
        "description": spec.description,
        "sweep_file": str(sweep.file),
        "scenario_file": str(sweep.scenario_path),
        "fixed_overrides": list(sweep.fixed),
        "parameters": [p.describe() for p in sweep.parameters],
        "design": spec.design.model_dump(exclude_none=True),
        "points": len(plan.design.points),
        "replicates": spec.replicates,
        "runs": len(plan.table),
        "distinct_runs": len(plan.tasks),
        "master_seed": spec.seed,
        "seeds": spec.seeds,
        "outputs": {"summary": keep_summary, "timeseries": keep_series},
        "metrics": sweep.metrics,
        "analysis": spec.analysis.model_dump(exclude_none=True),
        "code_version": plan.code,
        "problem": plan.design.problem,
        "spec": spec.model_dump(mode="json"),
        "first_started_utc": stamp,
        "last_started_utc": stamp,
    }


def read_info(root: str | Path) -> dict[str, Any]:
    path = Path(root) / SWEEP_FILE
    if not path.is_file():
        raise ScenarioError(
            "no sweep.json here; expected a folder written by clickfarm sweep", file=str(root)
        )
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ScenarioError(f"cannot read sweep.json: {exc}", file=str(path)) from None


def read_table(root: str | Path, table: str) -> pd.DataFrame:
    """All rows of one table (``summary``, ``timeseries`` or ``failures``); may be empty."""
    folder = Path(root) / table
    files = sorted(p for p in folder.glob("*.parquet") if not p.name.startswith("."))
    if not files:
        return pd.DataFrame()
    return pq.ParquetDataset(files).read().to_pandas()
