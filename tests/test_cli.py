"""The command line end to end, as a user runs it."""

import json
import subprocess
import sys

import pandas as pd


def clickfarm(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "sim", *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def test_run_writes_every_output(tmp_path):
    out = tmp_path / "run"
    proc = clickfarm(
        "run",
        "scenarios/bots_vs_click_workers.yaml",
        "--days",
        "1",
        "--seed",
        "5",
        "--out",
        str(out),
        cwd=_root(),
    )
    assert proc.returncode == 0, proc.stderr
    for name in (
        "timeseries.parquet",
        "timeseries.csv",
        "agents.parquet",
        "summary.json",
        "manifest.json",
        "timeseries.png",
        "money_flows.png",
        "wage_distribution.png",
        "campaigns.png",
    ):
        assert (out / name).stat().st_size > 0, name
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert len(ts) == 25 and (ts["seed"] == 5).all()
    assert pd.read_csv(out / "timeseries.csv").shape == ts.shape
    agents = pd.read_parquet(out / "agents.parquet")
    assert (agents["kind"] == "micro_worker").sum() == 10_000
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 5 and manifest["steps"] == 24
    assert manifest["scenario"]["days"] == 1
    assert manifest["versions"]["mesa"] and manifest["versions"]["numpy"]
    assert manifest["wall_seconds"] > 0
    assert "commit" in (manifest["git"] or {"commit": None})
    summary = json.loads((out / "summary.json").read_text())
    assert summary["ledger_balanced"] is True
    assert "Results:" in proc.stdout and str(out) in proc.stdout.replace("\n", "")
    assert "client spend" in proc.stdout


def test_runs_without_out_never_overwrite_each_other(tmp_path):
    for _ in range(2):
        proc = clickfarm(
            "run",
            str(_root() / "scenarios/bots_vs_click_workers.yaml"),
            "--steps",
            "3",
            "--quiet",
            cwd=tmp_path,
        )
        assert proc.returncode == 0, proc.stderr
    folders = list((tmp_path / "runs" / "bots_vs_click_workers").iterdir())
    assert len(folders) == 2
    assert all((f / "summary.json").exists() for f in folders)


def test_quiet_prints_only_the_folder_and_set_overrides_apply(tmp_path):
    out = tmp_path / "q"
    proc = clickfarm(
        "run",
        "fillon2017_points",
        "--steps",
        "6",
        "--quiet",
        "--out",
        str(out),
        "--set",
        "workers.supporters.count=120",
        "--set",
        "gamification.leaderboard_size=5",
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scenario"]["workers"][0]["count"] == 120
    assert manifest["scenario"]["gamification"]["leaderboard_size"] == 5
    assert manifest["overrides"][:2] == [
        "workers.supporters.count=120",
        "gamification.leaderboard_size=5",
    ]
    assert len(pd.read_parquet(out / "timeseries.parquet")) == 7  # the initial state and six hours


def test_the_same_seed_reproduces_a_run_through_the_cli(tmp_path):
    for name in ("a", "b"):
        proc = clickfarm(
            "run",
            "ps2017_influencer_pyramid",
            "--days",
            "1",
            "--seed",
            "99",
            "--quiet",
            "--out",
            str(tmp_path / name),
        )
        assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "a" / "summary.json").read_text() == (
        tmp_path / "b" / "summary.json"
    ).read_text()


def test_list_shows_each_shipped_scenario_on_one_line():
    proc = clickfarm("list")
    assert proc.returncode == 0
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    names = sorted(p.stem for p in (_root() / "scenarios").glob("*.yaml"))
    assert len(lines) == len(names)
    assert all(any(line.startswith(n) for line in lines) for n in names)


def test_conflicting_length_options_are_a_clear_error(tmp_path):
    proc = clickfarm(
        "run", "fillon2017_points", "--days", "1", "--steps", "3", "--out", str(tmp_path / "x")
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "--days or --steps" in proc.stderr
    assert not (tmp_path / "x").exists()


def _root():
    from pathlib import Path

    return Path(__file__).resolve().parent.parent


def test_out_never_destroys_a_folder_that_is_not_a_results_folder(tmp_path):
    precious = tmp_path / "notes"
    precious.mkdir()
    (precious / "thesis.txt").write_text("three years of work")
    proc = clickfarm("run", "bots_vs_click_workers", "--steps", "2", "--out", str(precious))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "refusing to overwrite" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert (precious / "thesis.txt").read_text() == "three years of work"
    assert sorted(p.name for p in precious.iterdir()) == ["thesis.txt"]
    a_file = tmp_path / "README.md"
    a_file.write_text("keep me")
    proc = clickfarm("run", "bots_vs_click_workers", "--steps", "2", "--out", str(a_file))
    assert proc.returncode == 2 and a_file.read_text() == "keep me"


def test_out_replaces_an_earlier_results_folder(tmp_path):
    out = tmp_path / "again"
    for seed in ("1", "2"):
        proc = clickfarm(
            "run",
            "bots_vs_click_workers",
            "--steps",
            "2",
            "--seed",
            seed,
            "--quiet",
            "--out",
            str(out),
        )
        assert proc.returncode == 0, proc.stderr
    assert json.loads((out / "manifest.json").read_text())["seed"] == 2
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no leftovers
