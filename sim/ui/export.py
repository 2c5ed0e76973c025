"""What the Export panel hands out: the run's data, its figures and its set-up.

The scenario YAML is the fully resolved scenario, with the run's seed written in, so
``clickfarm run file.yaml`` reproduces the run exactly.
"""

from __future__ import annotations

import io
import json
import stat
import time
import zipfile

import pandas as pd

from sim.scenario.load import scenario_to_yaml
from sim.ui.session import LiveRun

TABLES = ("timeseries", "agents", "flows")


def scenario_yaml(run: LiveRun) -> str:
    """The run's resolved scenario as YAML, under a comment naming its source and changes.

    The header also says how to reproduce the run, with its seed and length.
    """
    s = run.scenario
    header = (
        f"# {s.title}\n"
        f"# Exported from the clickfarm browser app (scenario: {run.setup.label}"
        + (f"; changes: {', '.join(run.setup.assignments())}" if run.setup.assignments() else "")
        + f").\n# Reproduce with: clickfarm run <this file>   (seed {run.seed}, {s.days:g} days)\n"
    )
    return header + scenario_to_yaml(s)


def result(run: LiveRun):
    """A ``sim.run.outputs.RunResult`` for the hours run so far (what the CLI writes)."""
    from sim.run.outputs import RunResult, agents_frame, build_manifest

    with run.lock:
        ts = run.timeseries()
        summary = run.summary()
        return RunResult(
            model=run.model,
            timeseries=ts,
            agents=agents_frame(run.model),
            flows=pd.DataFrame(run.model.ledger.flows_table()),
            summary=summary,
            manifest=build_manifest(
                run.model, run.setup.label, run.setup.assignments(), sum(run.step_seconds)
            ),
        )


def table(run: LiveRun, name: str) -> pd.DataFrame:
    """One of the run's tables so far (one of ``TABLES``), as the CLI writes it.

    Raises:
        KeyError: ``name`` is not one of ``TABLES``.
    """
    from sim.run.outputs import agents_frame

    with run.lock:
        if name == "timeseries":
            return run.timeseries()
        if name == "agents":
            return agents_frame(run.model)
        if name == "flows":
            return pd.DataFrame(run.model.ledger.flows_table())
    raise KeyError(f"unknown table {name!r}; expected one of {', '.join(TABLES)}")


def csv_bytes(run: LiveRun, name: str) -> bytes:
    """The table ``name`` as CSV bytes."""
    return table(run, name).to_csv(index=False).encode()


def parquet_bytes(run: LiveRun, name: str) -> bytes:
    """The table ``name`` as Parquet bytes."""
    buffer = io.BytesIO()
    table(run, name).to_parquet(buffer, index=False)
    return buffer.getvalue()


def summary_json(run: LiveRun) -> bytes:
    """The run's summary so far as indented JSON bytes."""
    return (json.dumps(run.summary(), indent=2) + "\n").encode()


def figure_png(run: LiveRun, name: str) -> bytes:
    """One of the CLI's figures (``sim/run/figures.py``) for the hours run so far."""
    import matplotlib.pyplot as plt

    from sim.run import figures

    draw = {
        "timeseries": figures.plot_timeseries,
        "money_flows": figures.plot_money_flows,
        "wage_distribution": figures.plot_wage_distribution,
    }[name]
    fig = draw(result(run))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def bundle(run: LiveRun) -> bytes:
    """Everything in one zip: tables (CSV and Parquet), summary, figures and YAML."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:

        def put(name: str, data: bytes | str) -> None:
            # an explicit entry: writestr(name) would give mode 0600 (owner-only) on unzip
            info = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            z.writestr(info, data)

        for name in TABLES:
            put(f"{name}.csv", csv_bytes(run, name))
            put(f"{name}.parquet", parquet_bytes(run, name))
        put("summary.json", summary_json(run))
        for name in ("timeseries", "money_flows", "wage_distribution"):
            put(f"{name}.png", figure_png(run, name))
        put("scenario.yaml", scenario_yaml(run))
    return buffer.getvalue()


def file_stem(run: LiveRun) -> str:
    """The start of every download's name, such as ``base-seed42``.

    It is the set-up's label without its extension, spaces as underscores, then the seed.
    """
    base = run.setup.label.rsplit(".", 1)[0].replace(" ", "_") or "scenario"
    return f"{base}-seed{run.seed}"
