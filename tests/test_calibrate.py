"""``clickfarm calibrate``: recovery of known parameters, bad files, resuming, best fit."""

import contextlib
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

from sim.calibrate.fit import Evaluator, history_of, run_abc
from sim.calibrate.report import (
    final_generation,
    posterior_frame,
    weighted_quantile,
    write_outputs,
)
from sim.calibrate.spec import load_calibration
from sim.calibrate.targets import compute_targets, hourly_pay, share_in_band
from sim.run.outputs import run_scenario
from sim.scenario.errors import ScenarioError

ROOT = Path(__file__).resolve().parent.parent
SEARCH = "workers.na_workers.search_minutes_per_task"
ALSO = (
    "[workers.apac_workers.search_minutes_per_task, workers.africa_workers.search_minutes_per_task]"
)


def tiny_file(folder: Path, *, targets: str, generations: int = 3, population: int = 12) -> Path:
    """A one-parameter calibration of a one-day baseline market."""
    path = folder / "tiny.yaml"
    path.write_text(
        f"""scenario: {ROOT / "scenarios" / "baseline_microtask_market.yaml"}
days: 1
parameters:
  {SEARCH}:
    low: 0.05
    high: 2.0
    scale: log
    also: {ALSO}
targets:
{targets}
method: {{population: {population}, generations: {generations}, check_replicates: 2}}
seed: 11
"""
    )
    return path


PAY_TARGETS = """\
  - {name: pay_online, measure: hourly_pay, value: 1.5, tolerance: 0.1, source: test}
  - {name: pay_paid, measure: hourly_pay, hours: paid, value: 4.5, tolerance: 0.3, source: test,
     fit: false}"""


def clickfarm(*args):
    return subprocess.run(
        [sys.executable, "-m", "sim", *args], capture_output=True, text=True, timeout=300
    )


def records(folder: Path) -> list[dict]:
    out = []
    for path in sorted((folder / "evaluations").glob("*.jsonl")):
        for line in path.read_text().splitlines():
            with contextlib.suppress(ValueError):  # a line cut short by the kill
                out.append(json.loads(line))
    return out


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """One small calibration run to the end on two local workers."""
    folder = tmp_path_factory.mktemp("cal")
    file = tiny_file(folder, targets=PAY_TARGETS, generations=2, population=8)
    proc = clickfarm("calibrate", str(file), "--out", str(folder / "out"), "--workers", "2", "-q")
    assert proc.returncode == 0, proc.stderr
    return file, folder / "out"


# ------------------------------------------------------------------- target maths
def test_hourly_pay_by_hand():
    money = np.array([2.0, 3.0, 0.0])
    hours = np.array([1.0, 2.0, 0.0])  # the third never worked: left out
    assert hourly_pay(money, hours, "pooled") == pytest.approx(5 / 3)
    assert hourly_pay(money, hours, "mean") == pytest.approx((2 + 1.5) / 2)
    assert hourly_pay(money, hours, "median") == pytest.approx(1.75)
    assert math.isnan(hourly_pay(money, np.zeros(3), "mean"))


def test_share_in_band_by_hand():
    assert share_in_band(np.array([0.0, 1.0, 4.9, 5.0, 9.0]), 1, 5) == pytest.approx(2 / 5)


def test_weighted_quantile_by_hand():
    values, weights = np.array([3.0, 1.0, 2.0]), np.array([1.0, 1.0, 2.0])
    assert weighted_quantile(values, weights, 0.5) == pytest.approx(2.0)


# ------------------------------------------------------------- parameter recovery
def test_known_parameter_is_recovered(tmp_path):
    truth = 0.4
    probe = load_calibration(tiny_file(tmp_path, targets=PAY_TARGETS))
    # The figures the model gives at the known value (three runs, other seeds than the fit's).
    observed = Evaluator(probe).runs({SEARCH: truth}, 3)
    pay = float(np.mean([r["pay_online"] for r in observed]))
    targets = (
        f"  - {{name: pay_online, measure: hourly_pay, value: {pay!r}, tolerance: 0.05, "
        "source: the model itself}"
    )
    calibration = load_calibration(tiny_file(tmp_path, targets=targets, population=30))
    run_abc(calibration, tmp_path / "out")
    outcome = write_outputs(calibration, tmp_path / "out", 0.0)
    last = final_generation(outcome.posterior)
    x, w = last[SEARCH].to_numpy(), last["weight"].to_numpy()
    low, high = weighted_quantile(x, w, 0.05), weighted_quantile(x, w, 0.95)
    assert low <= truth <= high
    # and the data narrowed the prior (0.05 to 2, a factor 40) to well under a factor 3
    assert high / low < 3


# ----------------------------------------------------------------------- bad files
@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        ("    low: 0.05", "    low: 3", f"parameters.{SEARCH}.high", "expected high > low"),
        ("    low: 0.05", "    low: -1", f"parameters.{SEARCH}.low", "a log scale needs low > 0"),
        (
            f"  {SEARCH}:",
            "  workers.nobody.search_minutes_per_task:",
            "parameters.workers.nobody.search_minutes_per_task",
            "has no item 'nobody'",
        ),
        (
            "measure: hourly_pay, value: 1.5",
            "measure: joy, value: 1.5",
            "targets.0.measure",
            "expected",
        ),
        (
            "tolerance: 0.1, source: test}",
            "tolerance: 0.1, source: test, groups: [martians]}",
            "targets.0.groups.0",
            "'martians' is not a group",
        ),
        ("population: 12", "population: 2", "method.population", "expected a number >= 5"),
        (
            "tolerance: 0.1, source: test}",
            "tolerance: 0.1, source: test, fit: false}",
            "targets",
            "every target is held out",
        ),
        ("days: 1", "days: 1\ncolour: red", "colour", "unknown field 'colour'; expected one of"),
    ],
)
def test_bad_calibration_file_names_line_and_field(tmp_path, old, new, field, message):
    path = tiny_file(tmp_path, targets=PAY_TARGETS)
    text = path.read_text()
    assert old in text
    text = text.replace(old, new, 1)
    path.write_text(text)
    with pytest.raises(ScenarioError) as caught:
        load_calibration(path)
    error = caught.value
    assert error.file == str(path)
    assert error.field == field
    assert message in error.message
    assert error.line is not None
    key = field.split(".")[0]
    assert key in "\n".join(text.splitlines()[: error.line])  # the line is at or after it


def test_bad_file_on_the_command_line_is_one_line_and_exit_2(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("scenario: baseline_microtask_market\nparameters: {}\ntargets: []\n")
    proc = clickfarm("calibrate", str(path), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}:")
    assert not (tmp_path / "out").exists()


def test_output_folder_of_another_kind_is_refused(tmp_path):
    file = tiny_file(tmp_path, targets=PAY_TARGETS)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine")
    proc = clickfarm("calibrate", str(file), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2 and "not a calibration folder" in proc.stderr
    assert (tmp_path / "out" / "notes.txt").read_text() == "mine"


# ------------------------------------------------------------------------- outputs
def test_report_states_fitted_and_held_out(finished):
    _file, out = finished
    report = (out / "report.md").read_text()
    table = pd.read_csv(out / "targets.csv")
    assert set(table["name"]) == {"pay_online", "pay_paid"}
    assert "| `pay_paid` | held out |" in report
    for name in ("targets.png", "posterior.png", "convergence.png"):
        assert (out / name).stat().st_size > 1000
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 11 and manifest["versions"]["pyabc"]
    posterior = pd.read_parquet(out / "posterior.parquet")
    assert {SEARCH, "weight", "distance", "generation", "pay_online"} <= set(posterior.columns)


def test_missed_held_out_target_is_said_plainly(tmp_path):
    targets = PAY_TARGETS.replace("value: 4.5, tolerance: 0.3", "value: 40, tolerance: 0.3")
    file = tiny_file(tmp_path, targets=targets, generations=1, population=6)
    calibration = load_calibration(file)
    run_abc(calibration, tmp_path / "out")
    write_outputs(calibration, tmp_path / "out", 0.0)
    report = (tmp_path / "out" / "report.md").read_text()
    assert "**Held-out target `pay_paid` is missed**" in report
    assert "does not validate" in report


def test_unreachable_fitted_target_is_a_structural_gap(tmp_path):
    targets = PAY_TARGETS.replace("value: 1.5, tolerance: 0.1", "value: 90, tolerance: 0.1")
    file = tiny_file(tmp_path, targets=targets, generations=1, population=6)
    calibration = load_calibration(file)
    run_abc(calibration, tmp_path / "out")
    outcome = write_outputs(calibration, tmp_path / "out", 0.0)
    assert [r.name for r in outcome.structural_gaps] == ["pay_online"]
    assert (
        "the model cannot reach it in these ranges" in (tmp_path / "out" / "report.md").read_text()
    )


def test_best_fit_yaml_reproduces_the_reported_values(finished):
    file, out = finished
    reported = json.loads((out / "best_fit.json").read_text())["yaml_run"]
    calibration = load_calibration(file)
    result = run_scenario(out / "best_fit.yaml")  # as `clickfarm run best_fit.yaml` does
    assert compute_targets(calibration.targets, result.agents, result.summary) == reported
    table = pd.read_csv(out / "targets.csv").set_index("name")
    assert table.loc["pay_online", "best_fit_yaml_run"] == pytest.approx(reported["pay_online"])


def test_resume_after_kill_loses_no_evaluations(finished, tmp_path):
    file, reference = finished
    ref_records = records(reference)
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "calibrate", str(file), "--out", str(out), "--workers", "1"]
        + ["-q"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # Kill it during the second generation, once it has logged a few of that generation's
    # evaluations: the first generation is then in the history, the rest only in the log.
    table = history_of(reference).get_all_populations()
    first = int(table[table["t"] <= 0]["samples"].sum())
    deadline = time.monotonic() + 240
    while len(records(out)) < first + 3:
        assert proc.poll() is None, "finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    logged = len(records(out))
    assert logged < len(ref_records)
    resumed = clickfarm("calibrate", str(file), "--out", str(out), "-q")
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming" in resumed.stdout
    after = records(out)
    # Nothing evaluated before the kill was evaluated again: each point once, and the
    # run did exactly the evaluations of the uninterrupted one.
    assert len({r["key"] for r in after}) == len(after) == len(ref_records)
    # ... and the result is the uninterrupted one, bit for bit (which ran on 2 workers).
    mine = pd.read_parquet(out / "posterior.parquet")
    theirs = pd.read_parquet(reference / "posterior.parquet")
    pd.testing.assert_frame_equal(mine, theirs, check_exact=True)


def test_dask_cluster_gives_the_local_result(tmp_path):
    distributed = pytest.importorskip("distributed")
    file = tiny_file(tmp_path, targets=PAY_TARGETS, generations=1, population=6)
    run_abc(load_calibration(file), tmp_path / "local")  # in this process
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        proc = clickfarm(
            "calibrate",
            str(file),
            "--out",
            str(tmp_path / "dask"),
            "--scheduler",
            cluster.scheduler_address,
            "-q",
        )
    assert proc.returncode == 0, proc.stderr
    pd.testing.assert_frame_equal(
        posterior_frame(load_calibration(file), history_of(tmp_path / "local")),
        pd.read_parquet(tmp_path / "dask" / "posterior.parquet"),
        check_exact=True,
    )


def test_apply_writes_calibrated_values_with_a_citation(finished, tmp_path):
    from sim.calibrate.apply import apply_calibration, rounded
    from sim.scenario.load import load_scenario

    file, out = finished
    original = ROOT / "scenarios" / "baseline_microtask_market.yaml"
    copy = tmp_path / "baseline_microtask_market.yaml"
    copy.write_text(original.read_text())
    changes = apply_calibration(out, copy)
    calibration = load_calibration(file)
    best = json.loads((out / "best_fit.json").read_text())["values"][SEARCH]
    expected = rounded(calibration.parameters[0], best)
    assert len(changes) == 3
    scenario = load_scenario(copy)
    assert [g.search_minutes_per_task for g in scenario.workers] == [expected] * 3
    before, after = original.read_text().splitlines(), copy.read_text().splitlines()
    changed = [b for a, b in zip(before, after, strict=True) if a != b]
    assert len(changed) == 3 and len(before) == len(after)  # only those lines moved
    assert all(line.endswith(f"# calibrated: {out}") for line in changed)
    apply_calibration(out, copy)  # applying again changes nothing
    assert copy.read_text().splitlines() == after


def test_the_example_in_the_docs_is_a_valid_calibration(tmp_path):
    text = (ROOT / "docs" / "calibration.md").read_text()
    example = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    example = example.replace("../baseline_microtask_market.yaml", "baseline_microtask_market")
    (tmp_path / "example.yaml").write_text(example)
    calibration = load_calibration(tmp_path / "example.yaml")
    assert [t.fit for t in calibration.targets] == [True, False]
    assert calibration.fixed == ["platform.moderation.moderators=4", "days=7.0"]
