"""The ``clickfarm`` command line: run, validate, list, schema and classroom."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from typer.core import TyperCommand, TyperGroup

from sim.scenario.errors import ScenarioError


class _PlainFlags:
    """Help that lists a flag as ``--help``, not ``--help <bool>``.

    Typer's help shows each option's type; for a flag, which takes no value, ``<bool>``
    reads as if one were expected. A flag given no metavar of its own gets an empty one.
    """

    def get_params(self, ctx):  # noqa: D102 (click's method, same contract)
        params = super().get_params(ctx)
        for param in params:
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""
        return params


class PlainFlagsGroup(_PlainFlags, TyperGroup):
    """The ``clickfarm`` command group, its flags listed without a type."""


class PlainFlagsCommand(_PlainFlags, TyperCommand):
    """A ``clickfarm`` subcommand, its flags listed without a type."""


app = typer.Typer(
    cls=PlainFlagsGroup,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Agent-based simulation of click-farm economies.",
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

PROGRESS_THRESHOLD_STEPS = 200


def _print_version(value: bool) -> None:
    if value:
        from sim.version import version_line

        out.print(version_line(), highlight=False)
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print versions."),
    ] = False,
) -> None:
    """Agent-based simulation of click-farm economies."""


@app.command()
def run(
    scenario: Annotated[
        str, typer.Argument(help="Scenario YAML file, or a shipped scenario name.")
    ],
    seed: Annotated[
        int | None, typer.Option(help="Random seed (default: the scenario's seed).")
    ] = None,
    days: Annotated[
        float | None, typer.Option(help="Simulated days (overrides the scenario).")
    ] = None,
    steps: Annotated[
        int | None, typer.Option(help="Simulated hours; alternative to --days.")
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a field: dotted.key=value (repeatable)."),
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Results folder (default: a new folder under runs/)."),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print only the results folder.")
    ] = False,
    max_memory: Annotated[
        str | None,
        typer.Option(
            help="Refuse runs estimated to need more memory than this (e.g. 4G); "
            "default: the memory free now."
        ),
    ] = None,
    video: Annotated[
        bool, typer.Option("--video", help="Also write the run as run.gif and run.mp4.")
    ] = False,
) -> None:
    """Run a scenario end to end and write its results and figures."""
    from sim.scenario.budget import check_memory, parse_bytes
    from sim.scenario.load import load_scenario, resolve_path

    if days is not None and steps is not None:
        raise ScenarioError("give --days or --steps, not both", file="command line")
    if days is not None and not 1 / 24 <= days <= 3650:
        raise ScenarioError(
            f"--days must be between 1/24 (one hour) and 3650, got {days}", file="command line"
        )
    if steps is not None and not 0 < steps <= 24 * 3650:
        raise ScenarioError(
            f"--steps must be between 1 and 87600, got {steps}", file="command line"
        )
    if seed is not None and not 0 <= seed < 2**63:
        raise ScenarioError(f"--seed must be between 0 and 2^63-1, got {seed}", file="command line")
    path = resolve_path(scenario)
    overrides = list(set_ or [])
    if days is not None:
        overrides.append(f"days={days!r}")
    if steps is not None:
        overrides.append(f"days={steps / 24!r}")
    limit = parse_bytes(max_memory) if max_memory is not None else None
    validated = load_scenario(path, overrides)  # fail fast, before any work
    check_memory(validated, limit, file=str(path))
    # the model and the figures are imported only once the input has passed
    from sim.run.outputs import check_out_dir, default_out_dir, run_scenario, write_results

    seed = validated.seed if seed is None else seed
    target = check_out_dir(out_dir or default_out_dir(path.stem, seed))  # before any work
    total = validated.steps
    show_progress = not quiet and total >= PROGRESS_THRESHOLD_STEPS
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} h"),
        TimeRemainingColumn(),
        console=err,
        disable=not show_progress,
        transient=True,
    ) as bar:
        task = bar.add_task(f"{path.stem}", total=total)
        result = run_scenario(
            path,
            seed=seed,
            overrides=overrides,
            on_step=lambda done, _n: bar.update(task, completed=done),
        )
    try:
        folder = write_results(result, target)
    except OSError as exc:
        err.print(f"error: cannot write results to {target}: {exc.strerror or exc}")
        raise typer.Exit(1) from None
    if video:
        from sim.run.video import write_run_videos

        write_run_videos(validated, seed, folder)
    if quiet:
        print(folder)
        return
    _print_summary(result.summary)
    out.print(f"\nResults: [bold]{folder}[/bold]")
    out.print(
        f"Figures: {folder / 'timeseries.png'}, {folder / 'money_flows.png'}, "
        f"{folder / 'wage_distribution.png'}, {folder / 'campaigns.png'}"
    )


def _print_summary(summary: dict) -> None:
    cur = summary["currency"]
    h = summary["headline"]
    table = Table(
        title=f"{summary['scenario']} — seed {summary['seed']}, {summary['days']:g} days",
        show_header=False,
        title_justify="left",
    )
    table.add_column("metric")
    table.add_column("value", justify="right")
    spend = h["total_client_spend"]
    dest = summary.get("money_destinations", {})
    paid = spend > 0
    rows = [
        (
            "actions delivered / surviving / removed",
            f"{h['total_delivered']:,} / {h['total_surviving']:,} / {h['total_removed']:,}",
        ),
        (
            "share of orders delivered / expired unfilled",
            f"{h['share_delivered']:.1%} / {h['total_expired']:,} actions",
        ),
        ("accounts banned", f"{h['total_banned']:,}"),
        ("client spend", f"{spend:,.2f} {cur}"),
        ("workers' share of spend", f"{h['worker_share_of_spend']:.1%}" if paid else "n/a"),
        ("recruiters' margin", f"{h['recruiter_margin']:.1%}" if paid else "n/a"),
        (
            "cost of removals: clients / recruiters / workers",
            f"{h['removal_cost_clients']:,.2f} / {h['removal_cost_recruiters']:,.2f} / "
            f"{h['removal_cost_workers']:,.2f} {cur}",
        ),
    ]
    if dest.get("influencers"):
        rows.append(("influencers' share of spend", f"{dest['influencers'] / spend:.1%}"))
    rows += [
        (
            "cost per 1,000 surviving actions",
            f"{h['cost_per_1000_surviving']:,.4f} {cur}" if paid else "n/a (nothing paid)",
        ),
        ("workers' effective hourly pay (median)", f"{h['hourly_pay_median']:.4g} {cur}/h"),
        ("top 10% of workers' share of tasks", f"{h['top10_share_of_tasks']:.1%}"),
        (
            "unpaid hours (searching / waiting)",
            f"{h['total_unpaid_hours']:,.1f} ({h['total_hours_searching']:,.1f} / "
            f"{h['total_hours_waiting']:,.1f})",
        ),
    ]
    if h["paid_twin_spend"]:
        rows.append(("points work priced by the paid twin", f"{h['points_cost_saved']:,.2f} {cur}"))
    rows += [
        ("objectives reached", f"{h['objectives_reached']} of {h['objectives_due']}"),
        ("reach (impressions)", f"{h['total_reach']:,.0f}"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    out.print(table)


@app.command()
def validate(
    files: Annotated[list[str], typer.Argument(help="Scenario or sweep files to check.")],
) -> None:
    """Check input files without running them.

    Each file's kind is recognised and its rules applied; a scenario also shows its size
    and the memory a run would need.
    """
    from sim.scenario.kinds import check_file
    from sim.scenario.load import resolve_path

    failed = 0
    for name in files:
        try:
            checked = check_file(resolve_path(name))
        except ScenarioError as exc:
            err.print(
                f"[red]✗[/red] {escape(str(exc))}", markup=True, highlight=False, soft_wrap=True
            )
            failed += 1
        else:
            out.print(
                f"[green]✓[/green] {checked.kind:<8} {escape(name)}: {escape(checked.summary)}",
                highlight=False,
            )
            for note in checked.notes:
                out.print(f"  {' ' * 9}{escape(note)}", highlight=False)
    if failed:
        raise typer.Exit(2)


@app.command("list")
def list_scenarios() -> None:
    """Show the shipped scenarios, one line each."""
    from sim.scenario.load import load_scenario, shipped_scenarios

    for name, path in shipped_scenarios().items():
        try:
            title = load_scenario(path).title
        except ScenarioError as exc:
            title = f"(invalid: {exc})"
        out.print(f"[bold]{name:<28}[/bold] {escape(title)}", highlight=False, soft_wrap=True)


@app.command()
def schema(
    kind: Annotated[
        str, typer.Option(help="Which kind of file: scenario (default), sweep, ...")
    ] = "scenario",
) -> None:
    """Print the JSON Schema of a kind of input file (for editors)."""
    from sim.scenario.kinds import kinds

    known = kinds()
    if kind not in known:
        raise ScenarioError(
            f"--kind {kind!r}: expected one of: {', '.join(known)}", file="command line"
        )
    print(json.dumps(known[kind].schema(), indent=2))


@app.command()
def classroom(
    scenario: Annotated[
        str, typer.Argument(help="Scenario YAML file, or a shipped scenario name.")
    ],
    host: Annotated[
        str,
        typer.Option(
            metavar="ADDRESS",
            help="Address to listen on. The default serves this computer only; give 0.0.0.0 "
            "(or this computer's classroom address) to let students' devices join.",
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", metavar="PORT")] = 8766,
    seed: Annotated[
        int | None, typer.Option(help="Random seed (default: the scenario's seed).")
    ] = None,
    pace: Annotated[
        float | None,
        typer.Option(metavar="H", help="Simulated hours per real minute while running."),
    ] = None,
    keep_nicknames: Annotated[
        bool,
        typer.Option(
            "--keep-nicknames",
            help="Keep students' nicknames in the export (default: random ids); the "
            "lecturer can still choose when exporting.",
        ),
    ] = False,
    allow_host: Annotated[
        list[str] | None,
        typer.Option(
            metavar="NAME",
            help="A further name or address students' browsers use to reach this computer "
            "(with --host 0.0.0.0); repeatable. Requests naming other hosts are refused.",
        ),
    ] = None,
    export_dir: Annotated[
        Path, typer.Option("--export-dir", help="Where the session's export is written.")
    ] = Path("runs") / "classroom",
) -> None:
    """Run a live class session: students join from their devices, the projector shows the class."""
    from sim.scenario.load import load_scenario, resolve_path

    if not 0 < port < 65536:
        raise ScenarioError(f"--port must be between 1 and 65535, got {port}", file="command line")
    if seed is not None and not 0 <= seed < 2**63:
        raise ScenarioError(f"--seed must be between 0 and 2^63-1, got {seed}", file="command line")
    validated = load_scenario(resolve_path(scenario))  # fail fast, before any server starts
    from sim.classroom.launch import serve_classroom

    code = serve_classroom(
        validated,
        host=host,
        port=port,
        seed=seed,
        pace=pace,
        keep_nicknames=keep_nicknames,
        allow_hosts=list(allow_host or []),
        export_dir=export_dir,
        echo=lambda line, to_err=False: (err if to_err else out).print(
            line, markup=False, highlight=False, soft_wrap=True
        ),
    )
    raise typer.Exit(code)


def _register_extensions() -> None:
    """Commands that live with their own feature (sweeps, UI) register themselves here."""
    import importlib
    import importlib.util

    for package in ("sim.sweeps", "sim.ui", "sim.calibrate"):
        if importlib.util.find_spec(package) is None:
            continue
        if importlib.util.find_spec(f"{package}.commands") is not None:
            importlib.import_module(f"{package}.commands").register(app)
    for info in app.registered_commands:  # the core's commands and the extensions' alike
        if info.cls in (None, TyperCommand):
            info.cls = PlainFlagsCommand


_register_extensions()


def main() -> None:
    """Entry point of the ``clickfarm`` script: run the command line app.

    Bad input (a scenario error, or a ledger overflow that validation did not foresee)
    ends with a one-line ``error:`` message on stderr and exit code 2, not a traceback.
    """
    try:
        app()  # standalone: typer reports usage errors (exit 2) and honours typer.Exit codes
    except ScenarioError as exc:
        err.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(2)
    except ArithmeticError as exc:
        from sim.core.ledger import LedgerOverflow

        if not isinstance(exc, LedgerOverflow):
            raise
        err.print(f"error: {exc}; no results written", markup=False, highlight=False)
        sys.exit(2)


if __name__ == "__main__":
    main()
