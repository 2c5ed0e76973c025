"""The memory estimate against the memory runs really take.

Runs ``clickfarm run`` (results and figures written) in a fresh process for a few
scenarios of different sizes, reads each process's peak resident memory, and prints it
beside ``sim.scenario.budget.estimate_memory`` for the same scenario. An estimate below
the measurement is marked UNDER: the constants in ``sim/scenario/budget.py`` then need
raising.

    python benchmarks/bench_estimate.py            # about 2 minutes here
    python benchmarks/bench_estimate.py --quick    # the small cases only
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import max_rss_mib  # noqa: E402

BASE = "baseline_microtask_market"
ONLY_NA = ["workers.apac_workers.count=0", "workers.africa_workers.count=0"]
NO_REPEATS = [
    f"campaigns.{c}.repeat=null" for c in ("brand_page_growth", "app_reviews", "content_spread")
]
CASES = [
    ("1 worker, 1 step", BASE, 1, ["workers.na_workers.count=1", *ONLY_NA], True),
    ("100,000 workers, 1 step", BASE, 1, ["workers.na_workers.count=100000"], True),
    (
        "100,000 workers, 4 accounts each",
        BASE,
        1,
        ["workers.na_workers.count=100000", "workers.na_workers.accounts.per_worker.mean=4"],
        True,
    ),
    ("100 workers, 2,400 steps", BASE, 2400, ["workers.na_workers.count=100", *ONLY_NA], True),
    (
        "100 workers, 2,400 steps, 1 order",
        BASE,
        2400,
        ["workers.na_workers.count=100", *ONLY_NA, *NO_REPEATS],
        True,
    ),
    (
        "200,000 influencers",
        "ps2017_influencer_pyramid",
        1,
        ["recruiters.click_platform.influencers.count=200000"],
        True,
    ),
    ("200,000 moderators", BASE, 1, ["platform.moderation.moderators=200000"], True),
    ("1,000,000 workers, 1 step", BASE, 1, ["workers.na_workers.count=1000000"], False),
    ("2,000,000 workers, 1 step", BASE, 1, ["workers.na_workers.count=2000000"], False),
]


def measure(scenario: str, steps: int, overrides: list[str]) -> float:
    """Peak resident MiB of one ``clickfarm run`` process."""
    script = Path(sys.executable).with_name("clickfarm")
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [str(script), "run", scenario, "--steps", str(steps), "--out", f"{tmp}/r", "-q"]
        for o in overrides:
            cmd += ["--set", o]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        stderr = proc.stderr.read()
        proc.stderr.close()
        _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{stderr.decode()}")
    return max_rss_mib(usage)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="skip the million-worker cases")
    args = ap.parse_args()

    from sim.scenario.budget import MIB, estimate_memory
    from sim.scenario.load import load_scenario

    print(f"{'case':<36} {'measured MiB':>12} {'estimate MiB':>12} {'ratio':>6}")
    for name, scenario, steps, overrides, small in CASES:
        if args.quick and not small:
            continue
        estimate = estimate_memory(load_scenario(scenario, [*overrides, f"days={steps / 24!r}"]))
        peak = measure(scenario, steps, overrides)
        ratio = estimate.total / MIB / peak
        flag = "" if ratio >= 1 else "  UNDER"
        print(f"{name:<36} {peak:12.0f} {estimate.total / MIB:12.0f} {ratio:6.2f}{flag}")


if __name__ == "__main__":
    main()
