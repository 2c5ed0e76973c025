"""Start-up time of the ``clickfarm`` command, measured as a user meets it: whole processes.

Three commands, each run ``--repeat`` times (default 5) in a fresh process, wall clock
from start to exit, printed as min / median / max:

* ``clickfarm list``
* ``clickfarm validate <shipped scenario>``
* ``clickfarm run <shipped scenario> --steps 1 --out <tmp> --quiet`` (one hourly step,
  every results file and figure written)

It also prints each command's median CPU time (user + system), which other work on a
shared machine disturbs less than the wall time.

The goals (issue 13): a one-step run at most 2 s median, ``validate`` at most 1 s.

    python benchmarks/bench_cli.py
    python benchmarks/bench_cli.py --scenario us2016_content_farms --repeat 9 --json cli.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOALS_S = {"run": 2.0, "validate": 1.0}


def clickfarm_command() -> list[str]:
    """The installed ``clickfarm`` script beside this interpreter, else ``python -m sim``."""
    script = Path(sys.executable).with_name("clickfarm")
    return [str(script)] if script.exists() else [sys.executable, "-m", "sim"]


def time_once(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one whole process; a failing command stops the benchmark.

    CPU time (user + system, of the process alone) is the steadier figure on a shared
    machine: other processes lengthen the wall time but not it.
    """
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr = proc.stderr.read()
    proc.stderr.close()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"failed ({code}): {' '.join(argv)}\n{stderr.decode()}")
    return elapsed, usage.ru_utime + usage.ru_stime


def measure(name: str, argv: list[str], repeat: int, scratch: Path | None = None) -> dict:
    """Time ``argv`` ``repeat`` times; ``scratch`` is emptied before each run."""
    times, cpu = [], []
    for _ in range(repeat):
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
        wall, used = time_once(argv)
        times.append(wall)
        cpu.append(used)
    return {
        "command": name,
        "min_s": min(times),
        "median_s": statistics.median(times),
        "max_s": max(times),
        "median_cpu_s": statistics.median(cpu),
        "each_s": times,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", default="fillon2017_points")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json", type=Path, help="also write the raw results to this JSON file")
    args = ap.parse_args()

    base = clickfarm_command()
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, "
        f"load avg (1 min) {os.getloadavg()[0]:.2f}, command: {' '.join(base)}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        cases = [
            ("list", [*base, "list"], None),
            ("validate", [*base, "validate", args.scenario], None),
            ("run", [*base, "run", args.scenario, "--steps", "1", "--out", str(out), "-q"], out),
        ]
        time_once(cases[0][1])  # warm the file cache once, as any second use would be
        results = [measure(name, argv, args.repeat, scratch) for name, argv, scratch in cases]
    print(f"\n{'command':<10} {'min s':>7} {'median s':>9} {'max s':>7} {'CPU s':>6}  goal")
    for r in results:
        goal = GOALS_S.get(r["command"])
        verdict = (
            "" if goal is None else f"<= {goal:g} s: {'met' if r['median_s'] <= goal else 'MISSED'}"
        )
        figures = (
            f"{r['min_s']:7.2f} {r['median_s']:9.2f} {r['max_s']:7.2f} {r['median_cpu_s']:6.2f}"
        )
        print(f"{r['command']:<10} {figures}  {verdict}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
