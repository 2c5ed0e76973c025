"""Parameter sweeps: same data on every executor, resume after kill -9, clear errors, sound
statistics. The whole file runs in well under a minute on two cores."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.scenario.errors import ScenarioError
from sim.sweeps.analyze import analyze_sweep, mean_interval
from sim.sweeps.design import plan_runs
from sim.sweeps.execute import open_sweep, run_sweep
from sim.sweeps.spec import load_sweep
from sim.sweeps.store import VOLATILE_COLUMNS, read_table
from sim.sweeps.worker import RunOutcome

# 2 x 3 points x 4 replicates = 24 short runs of a shrunk points campaign (~0.1 s each)
SMALL = """\
name: small
scenario: fillon2017_points
set:
  workers.supporters.count: 150
days: 1
parameters:
  platform.moderation.moderators: [0, 3]
  gamification.leaderboard_bonus: {values: [0.0, 0.5, 1.0], name: bonus}
design: grid
replicates: 4
seed: 7
outputs: both
"""
T_975_2 = 4.302652729911275  # Student t, 97.5% quantile, 2 degrees of freedom (tables)


def write(folder: Path, text: str, name: str = "sweep.yaml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def clickfarm(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sim", *args], capture_output=True, text=True, timeout=120, **kw
    )


def dataset(root: Path, table: str) -> pd.DataFrame:
    frame = read_table(root, table)
    frame = frame.drop(columns=[c for c in VOLATILE_COLUMNS if c in frame.columns])
    order = ["run_key", "step"] if "step" in frame.columns else ["run_key"]
    return frame.sort_values(order).reset_index(drop=True)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[Path, Path]:
    """The small sweep run in this process, one run after another."""
    folder = tmp_path_factory.mktemp("reference")
    spec = write(folder, SMALL)
    report = run_sweep(spec, folder / "out", workers=1)
    assert report.ran == report.distinct == 24 and report.failed_now == 0
    return spec, folder / "out"


def test_dask_cluster_gives_the_same_dataset_as_local_runs(reference, tmp_path):
    pytest.importorskip("dask.distributed")
    from dask.distributed import LocalCluster

    spec, local = reference
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        report = run_sweep(spec, tmp_path / "dask", scheduler=cluster.scheduler_address)
    assert report.ran == 24 and report.failed_now == 0
    for table in ("summary", "timeseries"):
        pd.testing.assert_frame_equal(dataset(local, table), dataset(tmp_path / "dask", table))
    workers = set(read_table(tmp_path / "dask", "summary")["worker"])
    assert len(workers) == 2, "both Dask workers should have taken runs"
    assert (tmp_path / "dask" / "design.parquet").read_bytes() == (
        local / "design.parquet"
    ).read_bytes()


def test_kill_9_then_rerun_loses_and_repeats_nothing(reference, tmp_path):
    spec, local = reference
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "sim", "sweep", str(spec), "--out", str(out), "--workers", "2"]
    proc = subprocess.Popen(
        [*cmd, "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    summary, records = out / "summary", out / "checksums"
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            if records.is_dir() and len(list(records.glob("*.json"))) >= 4:
                break
            assert proc.poll() is None, proc.stderr.read()
            time.sleep(0.005)
        os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its worker processes, at once
    finally:
        proc.wait(timeout=30)
        proc.stderr.close()
    stored = {p.stem for p in records.glob("*.json")}  # a run is stored once recorded
    before = {
        p.name: (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in summary.glob("*.parquet")
        if p.stem in stored
    }
    assert 4 <= len(before) == len(stored) < 24, "the sweep should have been killed part-way"
    for path in summary.glob("*.parquet"):  # whatever is visible is complete
        assert len(pd.read_parquet(path)) == 1

    again = clickfarm("sweep", str(spec), "--out", str(out), "--workers", "1", "-q")
    assert again.returncode == 0, again.stderr
    assert f"already finished: {len(before)}" in again.stdout
    after = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in summary.glob("*.parquet")}
    assert {k: after[k] for k in before} == before, "finished runs must not be run again"
    design = pd.read_parquet(out / "design.parquet")
    assert set(design["run_key"]) == {Path(k).stem for k in after}, "no run lost"
    duckdb = pytest.importorskip("duckdb")
    rows, keys = duckdb.sql(
        f"select count(*), count(distinct run_key) from read_parquet('{summary}/*.parquet')"
    ).fetchall()[0]
    assert rows == keys == 24, "no run stored twice"
    steps = duckdb.sql(
        f"select count(*) from read_parquet('{out}/timeseries/*.parquet')"
    ).fetchall()[0][0]
    assert steps == 24 * 25  # each run stores its initial state and 24 hours
    for table in ("summary", "timeseries"):
        pd.testing.assert_frame_equal(dataset(local, table), dataset(out, table))
    assert not list(out.rglob("*.tmp")), "temporary files are cleaned up"


def test_every_stored_run_and_the_sweep_record_the_model_version(reference):
    from sim.sweeps.store import read_info
    from sim.version import MODEL_VERSION

    _spec, local = reference
    assert set(read_table(local, "summary")["model_version"]) == {MODEL_VERSION}
    assert read_info(local)["model_version"] == MODEL_VERSION


def test_damaged_runs_are_named_by_analyze_then_moved_aside_and_run_again(reference, tmp_path):
    import shutil

    spec, local = reference
    out = tmp_path / "out"
    shutil.copytree(local, out)
    keys = sorted(p.stem for p in (out / "summary").glob("*.parquet"))[:5]
    half = out / "summary" / f"{keys[0]}.parquet"
    half.write_bytes(half.read_bytes()[: half.stat().st_size // 2])
    (out / "summary" / f"{keys[1]}.parquet").write_bytes(b"")
    garbled = out / "timeseries" / f"{keys[2]}.parquet"
    data = bytearray(garbled.read_bytes())
    data[100:164] = os.urandom(64)  # same size, different bytes
    garbled.write_bytes(bytes(data))
    (out / "timeseries" / f"{keys[3]}.parquet").unlink()
    record = out / "checksums" / f"{keys[4]}.json"  # the record itself: valid JSON, wrong shape
    entry = json.loads(record.read_text())
    entry["files"]["summary"]["bytes"] = "many"
    record.write_text(json.dumps(entry))

    analyzed = clickfarm("analyze", str(out), "--no-plots")
    assert analyzed.returncode == 2 and "Traceback" not in analyzed.stderr
    assert len(analyzed.stderr.strip().splitlines()) == 1
    assert "5 stored run(s) are damaged" in analyzed.stderr
    assert all(k in analyzed.stderr for k in keys[:3]) and "and 2 more" in analyzed.stderr
    assert not (out / "analysis").exists(), "no partial analysis"

    dry = clickfarm("sweep", str(spec), "--out", str(out), "--dry-run")
    assert "already finished: 19; failed earlier: 0; to run: 5" in dry.stdout, dry.stdout

    again = clickfarm("sweep", str(spec), "--out", str(out), "--workers", "1", "-q")
    assert again.returncode == 0, again.stderr
    assert "already finished: 19; running 5" in again.stdout
    reports = list((out / "damaged").glob("*/report.txt"))
    assert len(reports) == 1
    lines = reports[0].read_text().splitlines()
    expected = {
        keys[0]: "summary/{}.parquet is truncated: ",
        keys[1]: "summary/{}.parquet is empty, expected ",
        keys[2]: "timeseries/{}.parquet has changed",
        keys[3]: "timeseries/{}.parquet is missing",
        keys[4]: "checksums/{}.json is unreadable",
    }
    assert len(lines) == 5
    for line, (key, what) in zip(lines, sorted(expected.items()), strict=True):
        assert line.startswith(f"run {key}: {what.format(key)}"), line
        assert f"note: damaged {line}; moved to" in again.stdout
    moved = reports[0].parent
    assert (moved / "summary" / f"{keys[1]}.parquet").stat().st_size == 0
    assert (moved / "timeseries" / f"{keys[2]}.parquet").read_bytes() == bytes(data)
    for table in ("summary", "timeseries"):  # redone exactly as before the damage
        pd.testing.assert_frame_equal(dataset(local, table), dataset(out, table))
    assert clickfarm("analyze", str(out), "--no-plots").returncode == 0


def test_failed_runs_are_recorded_and_do_not_stop_the_sweep(tmp_path, monkeypatch):
    import sim.run.outputs

    spec = write(tmp_path, SMALL.replace("replicates: 4", "replicates: 1"))
    real = sim.run.outputs.run_scenario

    def flaky(scenario, *, seed=None, **kw):
        if scenario.platform.moderation.moderators == 3:
            raise RuntimeError("simulated crash")
        return real(scenario, seed=seed, **kw)

    monkeypatch.setattr(sim.run.outputs, "run_scenario", flaky)
    report = run_sweep(spec, tmp_path / "out", workers=1)
    assert (report.ran, report.failed_now, report.failed_total) == (6, 3, 3)
    failures = read_table(tmp_path / "out", "failures")
    assert set(failures["platform_moderation_moderators"]) == {3}
    assert failures["error"].str.contains("RuntimeError: simulated crash").all()
    assert len(read_table(tmp_path / "out", "summary")) == 3
    assert run_sweep(spec, tmp_path / "out", workers=1).ran == 0, "failures are kept"
    monkeypatch.setattr(sim.run.outputs, "run_scenario", real)
    retried = run_sweep(spec, tmp_path / "out", workers=1, retry_failed=True)
    assert (retried.ran, retried.failed_total) == (3, 0)
    assert read_table(tmp_path / "out", "failures").empty
    assert len(read_table(tmp_path / "out", "summary")) == 6


BAD = [
    ("unknown top-level field", "colour: red\n", 13, "colour", "unknown field 'colour'"),
    (
        "no such scenario field",
        SMALL.replace("platform.moderation.moderators:", "platform.moderation.moderatorz:"),
        7,
        "parameters.platform.moderation.moderatorz",
        "'moderatorz' is not a field of platform.moderation; expected one of:",
    ),
    (
        "range end out of the scenario's bounds",
        SMALL.replace("design: grid", "design: {method: lhs, samples: 8}")
        .replace("[0, 3]", "{low: 0, high: 1.5}")
        .replace("platform.moderation.moderators", "platform.moderation.accuracy"),
        7,
        "parameters.platform.moderation.accuracy.high",
        "expected a number <= 1, got 1.5",
    ),
    (
        "sobol needs ranges",
        SMALL.replace("design: grid", "design: {method: sobol, samples: 8}"),
        7,
        "parameters.platform.moderation.moderators.values",
        "sobol designs need a continuous range",
    ),
    (
        "bad fixed override",
        SMALL.replace("count: 150", "count: -5"),
        4,
        "set.workers.supporters.count",
        "expected a number >= 0, got -5",
    ),
    (
        "whole-number field",
        SMALL.replace("[0, 3]", "[0, 2.5]"),
        7,
        "parameters.platform.moderation.moderators.values.1",
        "expected a whole number, got 2.5",
    ),
    ("missing master seed", SMALL.replace("seed: 7\n", ""), None, "seed", "required field"),
    (
        "grid range without num",
        SMALL.replace("[0, 3]", "{low: 0, high: 3}"),
        7,
        "parameters.platform.moderation.moderators",
        "expected num:",
    ),
    (
        "sobol sample count",
        SMALL.replace("design: grid", "design: {method: sobol, samples: 10}")
        .replace("[0, 3]", "{low: 0, high: 3}")
        .replace("{values: [0.0, 0.5, 1.0], name: bonus}", "{low: 0, high: 1}"),
        9,
        "design.samples",
        "Sobol sequences need a power of 2; expected e.g. 8 or 16, got 10",
    ),
    (
        "scenario not found",
        SMALL.replace("fillon2017_points", "no_such_scenario"),
        2,
        "scenario",
        "'no_such_scenario' is neither a file next to the sweep file nor a shipped scenario",
    ),
    (
        "malformed YAML",
        SMALL.replace("seed: 7", "seed: [7"),
        None,
        None,
        "malformed YAML",
    ),
    (
        "unknown metric",
        SMALL + "analysis: {metrics: [total_surviving, happiness]}\n",
        13,
        "analysis.metrics.1",
        "unknown metric 'happiness'",
    ),
]


@pytest.mark.parametrize(("case", "text", "line", "field", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_sweep_files_name_file_line_and_field(tmp_path, case, text, line, field, message):
    if case == "unknown top-level field":
        text = SMALL + text
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        load_sweep(path)
    err = info.value
    shown = str(err)
    assert "\n" not in shown
    assert message in shown, shown
    assert err.file == str(path), shown
    if line is not None:
        assert err.line == line, shown
        assert shown.startswith(f"{path}:{line}: {field}: "), shown


def test_cli_reports_a_bad_sweep_in_one_line_with_exit_2(tmp_path):
    path = write(tmp_path, SMALL.replace("[0, 3]", "{low: 0, high: 3}"))
    proc = clickfarm("sweep", str(path), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"error: {path}:7: parameters.platform.moderation.moderators: a grid needs the points "
        "of each range; expected num: (how many evenly spaced values from low to high) or values:"
    )
    assert not (tmp_path / "out").exists()


def test_run_seeds_and_keys_depend_on_the_run_not_its_position(tmp_path):
    small = plan_runs(load_sweep(write(tmp_path, SMALL, "a.yaml")))
    wider = plan_runs(load_sweep(write(tmp_path, SMALL.replace("[0, 3]", "[5, 3, 0]"), "b.yaml")))
    cols = ["platform_moderation_moderators", "bonus", "replicate"]
    a = small.table.set_index(cols)[["run_key", "seed"]]
    b = wider.table.set_index(cols)[["run_key", "seed"]]
    pd.testing.assert_frame_equal(a, b.loc[a.index])
    assert small.table["seed"].nunique() == 24, "every run has its own seed"


def test_model_core_never_imports_dask():
    code = (
        "import sys, sim.core.model, sim.run.outputs, sim.cli;"
        "import sim.sweeps.execute, sim.sweeps.analyze;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')];"
        "assert not bad, bad"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


# ------------------------------------------------------------------- analysis
def test_mean_interval_matches_a_hand_computation():
    got = mean_interval([1.0, 2.0, 6.0, float("nan")], confidence=0.95)
    half = T_975_2 * math.sqrt(7.0) / math.sqrt(3.0)  # sd^2 = (4 + 1 + 9) / 2 = 7
    assert got["n"] == 3 and got["mean"] == pytest.approx(3.0)
    assert got["sd"] == pytest.approx(math.sqrt(7.0))
    assert (got["ci_low"], got["ci_high"]) == pytest.approx((3.0 - half, 3.0 + half))
    one = mean_interval([4.0])
    assert one["mean"] == 4.0 and math.isnan(one["ci_low"])


def fabricate(spec: Path, out: Path, value) -> None:
    """A sweep folder whose runs 'produced' ``value(params, replicate)``, without running."""
    with open_sweep(spec, out) as job:
        for key in job.todo:
            task = job.plan.tasks[key]
            metrics = {"total_surviving": float(value(task.params, task.replicate))}
            job.store.write(task, RunOutcome(key=key, ok=True, metrics=metrics))


def test_analysis_tables_match_hand_computed_means_and_intervals(tmp_path):
    text = SMALL.replace("replicates: 4", "replicates: 3").replace(
        "  gamification.leaderboard_bonus: {values: [0.0, 0.5, 1.0], name: bonus}\n", ""
    )
    spec = write(tmp_path, text + "analysis: {metrics: [total_surviving]}\n")
    data = {0: [1.0, 2.0, 6.0], 3: [10.0, 10.0, 10.0]}
    fabricate(spec, tmp_path / "out", lambda p, r: data[p["platform_moderation_moderators"]][r])
    result = analyze_sweep(tmp_path / "out", plots=False)
    table = pd.read_csv(result.out / "summary.csv").set_index("platform_moderation_moderators")
    half = T_975_2 * math.sqrt(7.0) / math.sqrt(3.0)
    row = table.loc[0]
    assert row["metric"] == "total_surviving" and row["n"] == 3
    assert (row["mean"], row["ci_low"], row["ci_high"]) == pytest.approx(
        (3.0, 3.0 - half, 3.0 + half), rel=1e-9
    )
    assert tuple(table.loc[3, ["mean", "ci_low", "ci_high"]]) == pytest.approx((10, 10, 10))
    assert "| 0 | 3 [" in (result.out / "analysis.md").read_text()


@pytest.mark.parametrize("method", ["sobol", "morris"])
def test_sensitivity_indices_find_the_only_parameter_that_matters(tmp_path, method):
    design = {"sobol": "{method: sobol, samples: 32}", "morris": "{method: morris, samples: 20}"}
    text = f"""\
scenario: fillon2017_points
days: 1
parameters:
  gamification.leaderboard_bonus: {{low: 0, high: 10, name: a}}
  gamification.badge_gradient: {{low: 0, high: 10, name: b}}
design: {design[method]}
seed: 3
analysis: {{metrics: [total_surviving]}}
"""
    spec = write(tmp_path, text)
    fabricate(spec, tmp_path / "out", lambda p, r: 5.0 * p["a"] + 1.0)
    result = analyze_sweep(tmp_path / "out")
    si = result.sensitivity.set_index(["parameter", "index"])["value"]
    if method == "sobol":
        assert si["a", "S1"] == pytest.approx(1.0, abs=0.05)
        assert si["a", "ST"] == pytest.approx(1.0, abs=0.05)
        assert abs(si["b", "S1"]) < 0.05 and abs(si["b", "ST"]) < 0.05
    else:
        assert si["a", "mu_star"] == pytest.approx(50.0)  # 5 per unit x a range of 10
        assert si["b", "mu_star"] == 0 and si["b", "sigma"] == 0
    assert (result.out / "sensitivity.png").stat().st_size > 0
    written = pd.read_csv(result.out / "sensitivity.csv")
    assert set(written["parameter"]) >= {"a", "b"}
    assert np.isfinite(written["value"]).all()


def test_a_stored_run_repeats_exactly_with_its_seed_and_overrides(reference):
    import json

    from sim.run.outputs import run_scenario

    _, local = reference
    row = read_table(local, "summary").sort_values("run_key").iloc[0]
    again = run_scenario(
        "fillon2017_points", seed=int(row["seed"]), overrides=json.loads(row["overrides"])
    )
    for metric in ("total_delivered", "total_unpaid_hours", "points_cost_saved"):
        assert again.summary["headline"][metric] == row[metric]


def test_example_sweeps_and_the_guide_s_example_load(root, tmp_path):
    import re

    files = sorted((root / "scenarios" / "sweeps").glob("*.yaml"))
    assert len(files) >= 2
    for path in files:
        assert load_sweep(path).name == path.stem
        assert (root / "results" / "sweeps" / path.stem / "analysis.md").is_file(), path.stem
    guide = (root / "docs" / "sweeps.md").read_text()
    block = re.search(r"```yaml\n(name: moderation_vs_pay.*?)```", guide, re.S).group(1)
    shipped = load_sweep(root / "scenarios" / "sweeps" / "moderation_vs_pay.yaml")
    text = block.replace("../bots_vs_click_workers.yaml", str(shipped.scenario_path.resolve()))
    documented = load_sweep(write(tmp_path, text))
    assert documented.fixed == shipped.fixed
    assert [p.describe() for p in documented.parameters] == [
        p.describe() for p in shipped.parameters
    ]
    assert documented.spec.design == shipped.spec.design
