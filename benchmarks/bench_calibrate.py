"""Calibration speed: model evaluations per minute with 1 and 2 local workers, and the
time a shipped calibration takes from the command to its report.

The throughput calibration is a small ABC-SMC of the baseline market (two simulated
days, one free parameter); each worker count runs it from scratch into its own folder,
``--repeat`` times (default 2), keeping its best round. The time counted is the whole of
``run_abc`` (starting the worker processes included); the report is not. Both worker
counts must give the same posterior: the check is printed.

    python benchmarks/bench_calibrate.py                       # a few minutes here
    python benchmarks/bench_calibrate.py --shipped none        # throughput only
    python benchmarks/bench_calibrate.py --shipped baseline_labour_market --json out.json
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CALIBRATION = """\
scenario: {root}/scenarios/baseline_microtask_market.yaml
days: 2
parameters:
  workers.na_workers.search_minutes_per_task:
    low: 0.05
    high: 2.0
    scale: log
    also: [workers.apac_workers.search_minutes_per_task,
           workers.africa_workers.search_minutes_per_task]
targets:
  - {{name: pay_online, measure: hourly_pay, value: 1.5, tolerance: 0.1, source: benchmark}}
method: {{population: {population}, generations: {generations}}}
seed: 1
"""


def throughput(workers: int, population: int, generations: int, folder: Path) -> dict:
    """Run the benchmark calibration once; evaluations, seconds and the posterior."""
    from sim.calibrate.fit import history_of, run_abc
    from sim.calibrate.report import evaluations_frame, posterior_frame
    from sim.calibrate.spec import load_calibration

    file = folder / "bench.yaml"
    file.write_text(CALIBRATION.format(root=ROOT, population=population, generations=generations))
    calibration = load_calibration(file)
    out = folder / f"out{workers}"
    started = time.perf_counter()
    run_abc(calibration, out, workers=workers)
    seconds = time.perf_counter() - started
    evaluations = len(evaluations_frame(out))
    posterior = posterior_frame(calibration, history_of(out))
    return {"evaluations": evaluations, "seconds": seconds, "posterior": posterior}


def shipped(name: str, workers: int) -> float:
    """Seconds for ``clickfarm calibrate`` of a shipped calibration, report included."""
    file = ROOT / "scenarios" / "calibrations" / f"{name}.yaml"
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "sim", "calibrate", str(file), "--out", f"{tmp}/out"]
            + ["--workers", str(workers), "-q"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return time.perf_counter() - started


def main() -> None:
    """Print (and optionally save) the measurements."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=30)
    parser.add_argument("--generations", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--shipped", default="dhaka_like_farm", help="a name, or 'none'")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results: dict = {"python": platform.python_version(), "throughput": {}}
    posteriors = {}
    for workers in (1, 2):
        best = None
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as tmp:
                run = throughput(workers, args.population, args.generations, Path(tmp))
            if best is None or run["seconds"] < best["seconds"]:
                best = run
        per_minute = best["evaluations"] / best["seconds"] * 60
        posteriors[workers] = best["posterior"]
        results["throughput"][workers] = {
            "evaluations": best["evaluations"],
            "seconds": round(best["seconds"], 2),
            "evaluations_per_minute": round(per_minute, 1),
        }
        print(
            f"{workers} worker(s): {best['evaluations']} evaluations in "
            f"{best['seconds']:.1f} s = {per_minute:.0f} per minute"
        )
    speedup = results["throughput"][1]["seconds"] / results["throughput"][2]["seconds"]
    identical = posteriors[1].equals(posteriors[2])
    results.update(speedup=round(speedup, 2), identical_posteriors=identical)
    print(f"speed-up with 2 workers: {speedup:.2f}x; same posterior: {identical}")
    if args.shipped != "none":
        seconds = shipped(args.shipped, 2)
        results["shipped"] = {"name": args.shipped, "workers": 2, "seconds": round(seconds, 1)}
        print(f"shipped calibration {args.shipped} on 2 workers: {seconds:.0f} s to its report")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
