"""The sweep folder: a Parquet dataset with one file per run, each written atomically.

Layout of a sweep folder::

    sweep.json            the sweep as planned: file, parameters, design, code version
    design.parquet        one row per (point, replicate): its run key, seed and values
    summary/<key>.parquet     one row per finished run: parameters and final metrics
    timeseries/<key>.parquet  one row per step of each finished run (if kept)
    failures/<key>.parquet    one row per run that raised, with its error
    checksums/<key>.json      size and SHA-256 of each file above that the run wrote
    superseded/           runs of an earlier version of the sweep or of the code
    damaged/<time>/       files of runs that failed their checksum, and report.txt

Every file is written to a hidden temporary name, flushed to disk and renamed into
place, so a reader (or a resumed sweep) sees a run completely or not at all, whenever
the writer is killed. The file name is the run key, so a run can never appear twice.
Only the process that planned the sweep writes here; workers just return results.

A run counts as stored only when its checksum record, written after its files, names
them with the sizes and hashes they have on disk. Resuming a sweep checks every record:
a run whose files are missing, truncated or changed is moved to ``damaged/`` (one line
per file in ``report.txt``) and run again. Reading a table refuses damaged runs by name.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
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
from sim.version import MODEL_VERSION

FORMAT = 1
SWEEP_FILE = "sweep.json"
DESIGN_FILE = "design.parquet"
SUMMARY = "summary"
SERIES = "timeseries"
FAILURES = "failures"
TABLES = (SUMMARY, SERIES, FAILURES)
SUPERSEDED = "superseded"
CHECKSUMS = "checksums"
DAMAGED = "damaged"
DAMAGE_REPORT = "report.txt"
LOCK_FILE = ".lock"
VOLATILE_COLUMNS = ("wall_seconds", "worker")
"""Columns that describe how a run was executed, not what it computed."""


def now_utc() -> str:
    """The current UTC time to the second, as ``2026-12-01T09:00:00Z``."""
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
    """Write UTF-8 text atomically (see :func:`atomic_write_bytes`)."""
    atomic_write_bytes(path, lambda fh: fh.write(text.encode("utf-8")))


_DIGESTS: dict[tuple[str, int, int, int], tuple[int, str]] = {}
"""Digests already computed in this process, by path, inode, size and modification time."""


def file_digest(path: Path) -> tuple[int, str]:
    """The size in bytes and the SHA-256 (hex) of a file, read in 1 MiB blocks.

    A file is read once per process while its inode, size and modification time stay
    the same: one command checks a large dataset several times.
    """
    stat = path.stat()
    key = (str(path), stat.st_ino, stat.st_size, stat.st_mtime_ns)
    if key not in _DIGESTS:
        _DIGESTS[key] = _read_digest(path)
    return _DIGESTS[key]


def _read_digest(path: Path) -> tuple[int, str]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
            size += len(block)
    return size, h.hexdigest()


@dataclass(frozen=True)
class RunCheck:
    """What the checksum record of one run says about its files on disk.

    Attributes:
        key: The run key.
        tables: The tables whose file of this run matches its record.
        problems: One line per file that is missing, truncated or changed, or about an
            unreadable record; empty for an intact run.
    """

    key: str
    tables: frozenset[str]
    problems: tuple[str, ...]

    @property
    def damaged(self) -> bool:
        """True when any file of the run (or its record) does not match."""
        return bool(self.problems)


class DamagedRuns(ScenarioError):
    """Stored runs whose files no longer match their checksums."""

    def __init__(self, root: Path, checks: list[RunCheck]) -> None:
        self.checks = checks
        named = ", ".join(f"{c.key} ({c.problems[0]})" for c in checks[:3])
        more = f" and {len(checks) - 3} more" if len(checks) > 3 else ""
        super().__init__(
            f"{len(checks)} stored run(s) are damaged: {named}{more}; expected intact files "
            "(run the same clickfarm sweep command again to redo them)",
            file=str(root),
        )


def _describe_mismatch(name: str, expected: dict[str, Any], path: Path) -> str | None:
    """A one-line description of how ``path`` differs from its record, or None if it matches."""
    if not path.is_file():
        return f"{name} is missing"
    size, digest = file_digest(path)
    want = expected["bytes"]
    if size == 0 and want != 0:
        return f"{name} is empty, expected {want:,} bytes"
    if size < want:
        return f"{name} is truncated: {size:,} of {want:,} bytes"
    if size != want:
        return f"{name} has {size:,} bytes, expected {want:,}"
    if digest != expected["sha256"]:
        return f"{name} has changed: its SHA-256 differs from the one recorded"
    return None


class SweepStore:
    """One sweep folder. Use :meth:`locked` around everything that writes to it.

    Args:
        root: The sweep folder (created on the first write).
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.parameters: list[Parameter] = []

    def dir(self, table: str) -> Path:
        """The folder of one table (``summary``, ``timeseries`` or ``failures``)."""
        return self.root / table

    def file(self, table: str, key: str) -> Path:
        """The Parquet file of run ``key`` in ``table``."""
        return self.root / table / f"{key}.parquet"

    def record_file(self, key: str) -> Path:
        """The checksum record of run ``key``."""
        return self.root / CHECKSUMS / f"{key}.json"

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
        """Run keys that have a file in ``table`` (verified or not)."""
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
        for table in (*TABLES, CHECKSUMS):
            self.dir(table).mkdir(parents=True, exist_ok=True)
        removed = 0
        for folder in [self.root, *(self.dir(t) for t in (*TABLES, CHECKSUMS))]:
            for tmp in folder.glob(".*.tmp"):  # left by a writer that was killed
                with contextlib.suppress(OSError):
                    tmp.unlink()
                    removed += 1
        if removed:
            notes.append(f"removed {removed} unfinished temporary file(s) of an interrupted run")
        wanted = set(plan.tasks)
        stale = self.stored_keys() - wanted
        if stale:
            target = self.root / SUPERSEDED / _stamp()
            self._move_runs(stale, target)
            notes.append(
                f"moved {len(stale)} run(s) that are not part of this sweep (the sweep file or "
                f"the code changed) to {target}"
            )
        damaged = [c for c in self.audit(wanted).values() if c.damaged]
        if damaged:
            target = self.root / DAMAGED / _stamp()
            self._move_runs({c.key for c in damaged}, target)
            lines = [f"run {c.key}: {p}" for c in damaged for p in c.problems]
            atomic_write_text(target / DAMAGE_REPORT, "\n".join(lines) + "\n")
            notes.extend(f"damaged {line}; moved to {target} to run again" for line in lines)
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

    def stored_keys(self) -> set[str]:
        """Every run key with a file in any table or a checksum record."""
        keys = set().union(*(self.keys(t) for t in TABLES))
        records = self.dir(CHECKSUMS)
        if records.is_dir():
            keys |= {p.stem for p in records.glob("*.json") if not p.name.startswith(".")}
        return keys

    def _move_runs(self, keys: Iterable[str], target: Path) -> None:
        """Move every file of these runs (and their records) under ``target``."""
        for key in sorted(keys):
            for table in TABLES:
                src = self.file(table, key)
                if src.exists():
                    (target / table).mkdir(parents=True, exist_ok=True)
                    os.replace(src, target / table / src.name)
            record = self.record_file(key)
            if record.exists():
                (target / CHECKSUMS).mkdir(parents=True, exist_ok=True)
                os.replace(record, target / CHECKSUMS / record.name)

    def check(self, key: str) -> RunCheck:
        """Compare the files of run ``key`` with its checksum record.

        A run without a record was never completely stored (its writer stopped before
        the record); it has no verified tables and no problems.
        """
        path = self.record_file(key)
        name = f"{CHECKSUMS}/{path.name}"
        if not path.is_file():
            return RunCheck(key, frozenset(), ())
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            files = record["files"]
            if not isinstance(files, dict) or not set(files) <= set(TABLES):
                raise ValueError("unknown tables")
            for entry in files.values():
                if not (
                    isinstance(entry, dict)
                    and isinstance(entry.get("bytes"), int)
                    and isinstance(entry.get("sha256"), str)
                ):
                    raise ValueError("expected bytes and sha256 for every file")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            return RunCheck(key, frozenset(), (f"{name} is unreadable ({exc})",))
        problems = []
        for table, expected in sorted(files.items()):
            file = self.file(table, key)
            problem = _describe_mismatch(f"{table}/{file.name}", expected, file)
            if problem:
                problems.append(problem)
        return RunCheck(key, frozenset(files) if not problems else frozenset(), tuple(problems))

    def audit(self, keys: Iterable[str] | None = None) -> dict[str, RunCheck]:
        """Check the stored runs among ``keys`` (default: every stored run)."""
        stored = self.stored_keys()
        chosen = stored if keys is None else stored & set(keys)
        return {key: self.check(key) for key in sorted(chosen)}

    def finished(self, plan: Plan) -> set[str]:
        """Runs of ``plan`` whose record verifies and covers every output the sweep keeps."""
        return self._classify(plan)[0]

    def _classify(self, plan: Plan) -> tuple[set[str], set[str]]:
        """(finished runs, failed runs) of ``plan``, from one check of every record."""
        keep_summary, keep_series = plan.sweep.outputs
        needed = {t for t, keep in ((SUMMARY, keep_summary), (SERIES, keep_series)) if keep}
        done, failed = set(), set()
        for key, check in self.audit(plan.tasks).items():
            if check.damaged:
                continue
            if needed <= check.tables:
                done.add(key)
            elif check.tables == {FAILURES}:
                failed.add(key)
        return done, failed

    def pending(self, plan: Plan, retry_failed: bool = False) -> tuple[list[str], int, int]:
        """(keys still to run in design order, runs already finished, failures kept).

        Damaged runs count as still to run; :meth:`prepare` moves their files aside.
        """
        done, failed = self._classify(plan)
        skip = done if retry_failed else done | failed
        todo = [k for k in plan.tasks if k not in skip]
        return todo, len(done), 0 if retry_failed else len(failed)

    # -------------------------------------------------------------------- writing
    def write(self, task: RunTask, outcome: RunOutcome) -> None:
        """Store one outcome; its checksum record, written last, marks the run as stored."""
        if not outcome.ok:
            row = self._identity(task) | {
                "error": outcome.error or "unknown error",
                "detail": outcome.detail or "",
                "worker": outcome.worker,
                "code_version": outcome.code_version,
                "model_version": MODEL_VERSION,
                "overrides": json.dumps(list(task.overrides)),
            }
            atomic_write_frame(self.file(FAILURES, task.key), self._frame([row]), small=True)
            self._write_record(task.key, [FAILURES])
            return
        written = []
        if task.keep_series and outcome.series is not None:
            series = outcome.series.reset_index(drop=True)
            front = self._frame([self._identity(task, with_seed=False)] * len(series))
            atomic_write_frame(
                self.file(SERIES, task.key),
                pd.concat([front, series], axis=1),
            )
            written.append(SERIES)
        if task.keep_summary:
            row = (
                self._identity(task)
                | outcome.metrics
                | {
                    "wall_seconds": round(outcome.wall_seconds, 4),
                    "worker": outcome.worker,
                    "code_version": outcome.code_version,
                    "model_version": MODEL_VERSION,
                    "overrides": json.dumps(list(task.overrides)),
                }
            )
            atomic_write_frame(self.file(SUMMARY, task.key), self._frame([row]), small=True)
            written.append(SUMMARY)
        self._write_record(task.key, written)
        with contextlib.suppress(FileNotFoundError):
            self.file(FAILURES, task.key).unlink()

    def _write_record(self, key: str, tables: list[str]) -> None:
        files = {}
        for table in tables:
            size, digest = file_digest(self.file(table, key))
            files[table] = {"bytes": size, "sha256": digest}
        self.dir(CHECKSUMS).mkdir(parents=True, exist_ok=True)
        record = {"run_key": key, "files": files}
        atomic_write_text(self.record_file(key), json.dumps(record, indent=1) + "\n")

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


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def describe(plan: Plan) -> dict[str, Any]:
    """The contents of ``sweep.json`` for a planned sweep."""
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
        "model_version": MODEL_VERSION,
        "problem": plan.design.problem,
        "spec": spec.model_dump(mode="json"),
        "first_started_utc": stamp,
        "last_started_utc": stamp,
    }


def read_info(root: str | Path) -> dict[str, Any]:
    """The sweep's ``sweep.json``; a one-line error if it is missing or unreadable."""
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
    """All verified rows of one table (``summary``, ``timeseries`` or ``failures``).

    Only runs whose checksum record verifies are read; files of a run whose writer
    stopped before its record are left out, as unfinished.

    Raises:
        DamagedRuns: Some stored run's files do not match its record (the error names
            the runs; resuming the sweep redoes them).
    """
    store = SweepStore(root)
    checks = store.audit()
    damaged = [c for c in checks.values() if c.damaged]
    if damaged:
        raise DamagedRuns(store.root, damaged)
    files = [store.file(table, k) for k, c in checks.items() if table in c.tables]
    if not files:
        return pd.DataFrame()
    return pq.ParquetDataset(files).read().to_pandas()
