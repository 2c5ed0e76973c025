"""``clickfarm calibrate``, registered on the main CLI by sim/cli.py."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from sim.scenario.errors import ScenarioError

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

SPEC_COPY = "calibration.yaml"
OUTPUT_NAMES = frozenset(
    {
        SPEC_COPY,
        "history.db",
        "evaluations",
        "posterior.parquet",
        "targets.csv",
        "best_fit.yaml",
        "best_fit.json",
        "report.md",
        "manifest.json",
        "targets.png",
        "posterior.png",
        "convergence.png",
        ".gitignore",
    }
)


def prepare_folder(folder: Path, text: str, restart: bool) -> str:
    """Check the output folder before any work; return 'new', 'resume' or 'restart'.

    A folder holding a calibration of the same file is resumed; one holding a different
    calibration is refused unless ``restart`` (which clears only our own files); a folder
    holding anything else is always refused.
    """
    shown = str(folder)
    if folder.exists() and not folder.is_dir():
        raise ScenarioError("exists and is not a folder; choose another --out", file=shown)
    entries = {p.name for p in folder.iterdir()} if folder.is_dir() else set()
    if not entries:
        return "new"
    if SPEC_COPY not in entries or not entries <= OUTPUT_NAMES:
        raise ScenarioError(
            "is not empty and is not a calibration folder; refusing to write into it: "
            "choose a new --out folder",
            file=shown,
        )
    if restart:
        for name in entries - {".gitignore"}:
            path = folder / name
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        return "restart"
    if (folder / SPEC_COPY).read_text(encoding="utf-8") != text:
        raise ScenarioError(
            "holds a calibration of a different file (or an earlier version of this one); "
            "expected --restart to start again, or a new --out folder",
            file=shown,
        )
    return "resume"


def calibrate(
    file: Annotated[Path, typer.Argument(help="Calibration file (YAML).")],
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Output folder (default: runs/calibrations/<name>)."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="Local worker processes (default: all cores). 1 runs in-process."),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(help="Run on this Dask scheduler instead, e.g. tcp://10.0.0.5:8786."),
    ] = None,
    restart: Annotated[
        bool, typer.Option("--restart", help="Discard an earlier calibration in --out first.")
    ] = False,
    generations: Annotated[
        int | None,
        typer.Option(help="Stop after this many new generations (resume later).", min=1),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Fit a scenario's parameters to published figures (ABC-SMC); re-run to resume."""
    from sim.calibrate.fit import completed_generations, run_abc
    from sim.calibrate.report import write_outputs
    from sim.calibrate.spec import load_calibration

    if workers is not None and scheduler:
        raise ScenarioError(
            "--workers applies to local runs; with --scheduler the cluster's workers run",
            file="command line",
        )
    if workers is not None and not 1 <= workers <= 256:
        raise ScenarioError(f"--workers must be 1 to 256, got {workers}", file="command line")
    calibration = load_calibration(file)
    folder = (out_dir or Path("runs") / "calibrations" / calibration.name).expanduser()
    state = prepare_folder(folder, calibration.text, restart)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / SPEC_COPY).write_text(calibration.text, encoding="utf-8")
    method = calibration.method
    already = completed_generations(folder)
    if state == "resume":
        out.print(f"resuming: {already} of {method.generations} generations already done")
    started = time.perf_counter()
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("generations  {task.fields[note]}"),
        TimeElapsedColumn(),
        console=err,
        disable=quiet,
    ) as bar:
        task = bar.add_task(calibration.name, total=method.generations, completed=already, note="")

        def show(g) -> None:
            """Move the bar on by one finished generation."""
            bar.update(
                task,
                completed=g.t + 1,
                note=f"eps {g.epsilon:.3g}, acceptance {g.acceptance:.0%} "
                f"({g.accepted}/{g.evaluations})",
            )

        try:
            run_abc(
                calibration,
                folder,
                workers=workers or os.cpu_count() or 1,
                scheduler=scheduler,
                on_generation=show,
                stop_after=generations,
            )
        except OSError as exc:
            if scheduler:
                raise ScenarioError(
                    f"cannot reach the Dask scheduler: {exc}", file="--scheduler"
                ) from None
            raise
    done = completed_generations(folder)
    if done < method.generations and generations is not None:
        out.print(f"{done} of {method.generations} generations done; run again to continue")
    with err.status("running the best fit and writing the report"):
        outcome = write_outputs(calibration, folder, time.perf_counter() - started)
    for row in outcome.rows:
        mark = "[green]✓[/green]" if row.matched else "[red]✗[/red]"
        role = "fitted" if row.fit else "held out"
        out.print(
            f"{mark} {escape(row.name)} ({role}): {row.best_fit_mean:.4g} vs "
            f"{row.value:.4g} ± {row.tolerance:.4g}"
        )
    out.print(f"report: [bold]{escape(str(folder / 'report.md'))}[/bold]")


def register(app: typer.Typer) -> None:
    """Add ``calibrate`` to the main command line."""
    app.command("calibrate")(calibrate)
