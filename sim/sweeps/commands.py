"""``clickfarm sweep`` and ``clickfarm analyze``, registered on the main CLI by sim/cli.py."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from sim.scenario.errors import ScenarioError

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def sweep(
    file: Annotated[Path, typer.Argument(help="Sweep file (YAML), e.g. scenarios/sweeps/x.yaml.")],
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Dataset folder (default: runs/sweeps/<sweep name>)."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="Local worker processes (default: all cores). 1 runs in-process."),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(help="Run on this Dask scheduler instead, e.g. tcp://10.0.0.5:8786."),
    ] = None,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Run again the runs recorded as failed.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check the file and count the runs; run nothing.")
    ] = False,
    limit: Annotated[
        int | None, typer.Option(help="Stop after this many runs (resume later).", min=1)
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Run a parameter sweep into a resumable Parquet dataset (re-run to resume)."""
    from sim.sweeps.design import plan_runs
    from sim.sweeps.execute import make_executor, open_sweep
    from sim.sweeps.spec import load_sweep
    from sim.sweeps.store import SweepStore

    if workers is not None and scheduler:
        raise ScenarioError(
            "--workers applies to local runs; with --scheduler the cluster's workers run the sweep",
            file="command line",
        )
    if workers is not None and workers < 1:
        raise ScenarioError(f"--workers must be at least 1, got {workers}", file="command line")
    spec = load_sweep(file)
    target = out_dir or Path("runs") / "sweeps" / spec.name
    with contextlib.nullcontext() if quiet else err.status("checking every design point"):
        plan = plan_runs(spec)  # every point validated before anything is written
    store = SweepStore(target)
    store.check_usable()
    todo, done, failed = store.pending(plan, retry_failed)
    _headline(plan, target)
    if dry_run:
        out.print(f"already finished: {done}; failed earlier: {failed}; to run: {len(todo)}")
        return
    # connect to the cluster before touching the folder: a wrong address changes nothing
    executor = make_executor(workers, scheduler) if todo else None
    try:
        if executor is not None:
            executor.check(plan.code)
        with open_sweep(spec, target, retry_failed=retry_failed, plan=plan) as job:
            for note in job.notes:
                out.print(f"note: {escape(note)}")
            _run(job, executor, limit, quiet)
            failed_total = len(job.store.keys("failures") & set(plan.tasks))
            remaining = len(job.todo) - job.ran
    finally:
        if executor is not None:
            executor.close()
    shown = escape(str(target))
    out.print(f"dataset: [bold]{shown}[/bold]  (analyse with: clickfarm analyze {shown})")
    if remaining > 0:
        out.print(f"{remaining} runs still to do; run the same command again to continue")
    if failed_total:
        err.print(
            f"{failed_total} run(s) failed; their errors are in {shown}/failures/ "
            "(clickfarm analyze lists them in failures.csv)"
        )
        sys.exit(1)


def _run(job, executor, limit: int | None, quiet: bool) -> None:
    todo = job.todo[:limit] if limit else job.todo
    if not todo or executor is None:
        kept = f" ({job.failed_before} failed; --retry-failed runs them again)"
        out.print(
            f"nothing to run: all {job.already_done} runs have finished"
            + (kept if job.failed_before else "")
        )
        return
    kept = (
        f", {job.failed_before} failed earlier (kept; --retry-failed reruns them)"
        if job.failed_before
        else ""
    )
    out.print(
        f"already finished: {job.already_done}{kept}; running {len(todo)} on "
        f"{escape(executor.describe())}"
    )
    try:
        _execute(job, executor, limit, quiet)
    except KeyboardInterrupt:
        err.print(f"interrupted after {job.ran} runs; run the same command again to resume")
        sys.exit(130)
    rate = job.ran / job.seconds * 60 if job.seconds > 0 else 0.0
    out.print(
        f"ran {job.ran} runs in {job.seconds:.1f} s ({rate:,.0f} runs/min), {job.failed_now} failed"
    )


def _headline(plan, target: Path) -> None:
    sweep = plan.sweep
    out.print(
        f"sweep [bold]{sweep.name}[/bold]: {sweep.method} design, "
        f"{len(plan.design.points)} points × {sweep.replicates} replicates = "
        f"{len(plan.table)} runs ({len(plan.tasks)} distinct) → {escape(str(target))}"
    )


def _execute(job, executor, limit: int | None, quiet: bool) -> None:
    total = min(len(job.todo), limit) if limit else len(job.todo)
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failed]} failed"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, disable=quiet) as bar:
        task_id = bar.add_task(job.plan.sweep.name, total=total, failed=0)

        def advance(_task, outcome) -> None:
            bar.update(task_id, advance=1, failed=job.failed_now)

        job.execute(executor, on_result=advance, limit=limit)


def analyze(
    directory: Annotated[Path, typer.Argument(help="A folder written by clickfarm sweep.")],
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Where to write tables and plots (default: DIR/analysis)."),
    ] = None,
    metric: Annotated[
        list[str] | None,
        typer.Option("--metric", help="Metric to analyse (repeatable; default: the sweep's)."),
    ] = None,
    confidence: Annotated[
        float | None, typer.Option(help="Confidence level of the intervals (default 0.95).")
    ] = None,
    x: Annotated[str | None, typer.Option("--x", help="Heatmap: parameter on the x axis.")] = None,
    y: Annotated[str | None, typer.Option("--y", help="Heatmap: parameter on the y axis.")] = None,
    plots: Annotated[bool, typer.Option("--plots/--no-plots", help="Draw the figures.")] = True,
) -> None:
    """Summary tables with confidence intervals, plots, and sensitivity indices."""
    from sim.sweeps.analyze import analyze_sweep
    from sim.sweeps.store import read_info

    info = read_info(directory)
    names = [p["name"] for p in info.get("parameters", [])]
    for flag, value in (("--x", x), ("--y", y)):
        if value is not None and value not in names:
            raise ScenarioError(
                f"'{value}' is not a parameter of this sweep; expected one of: {', '.join(names)}",
                file="command line",
                field=flag,
            )
    pair = None
    if x or y:
        rest = [n for n in names if n not in (x, y)]
        pair = [x or rest[0], y or rest[0]] if rest or (x and y) else None
        if pair and pair[0] == pair[1]:
            raise ScenarioError(
                "--x and --y must name two different parameters", file="command line"
            )
    result = analyze_sweep(
        directory, out_dir, metrics=metric, confidence=confidence, heatmap=pair, plots=plots
    )
    for note in result.notes:
        out.print(f"note: {escape(note)}")
    if result.sensitivity is not None and len(result.sensitivity):
        _print_sensitivity(result.sensitivity)
    out.print(
        f"wrote {len(result.files)} files to [bold]{escape(str(result.out))}[/bold] "
        f"(start with {escape(str(result.out / 'analysis.md'))})"
    )


def _print_sensitivity(table) -> None:
    from rich.table import Table

    shown = table[table["index"].isin(["S1", "ST", "mu_star", "sigma"])]
    view = Table(title="sensitivity indices", title_justify="left")
    for col in ("metric", "parameter", "index", "value", "±"):
        view.add_column(col, justify="right" if col in ("value", "±") else "left")
    for _, r in shown.iterrows():
        conf = "" if r["conf"] != r["conf"] else f"{r['conf']:.3f}"
        view.add_row(
            escape(r["metric"]), escape(r["parameter"]), r["index"], f"{r['value']:.3f}", conf
        )
    out.print(view)


def register(app: typer.Typer) -> None:
    """Add ``sweep`` and ``analyze`` to the ``clickfarm`` command line."""
    app.command()(sweep)
    app.command()(analyze)
