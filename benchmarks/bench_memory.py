"""Memory and long-run timing of the clickfarm model.

1. Builds a model with 1,000,000 workers (default) and runs a few hourly steps, printing
   construction time, resident memory after construction, peak resident memory and the
   seconds per step, to show that a million workers fit in memory.
2. Runs a 100,000-worker model for 30 days of hourly steps (720 steps) and prints the
   wall time, with the mean seconds per step for each simulated day block. If the run
   would go past ``--max-seconds``, it stops there and extrapolates, saying so.
3. The issue's case: ``purge_arms_race`` scaled to 1,000,000 workers (its campaigns'
   demand scaled with them, its purge and detector-upgrade events kept at their hours)
   for 30 days of hourly steps, which must fit in 2 GiB. Prints build time, seconds per
   step (mean, median, slowest, and in the hours the events take effect), peak RSS and
   whether it is within ``--memory-limit-mib``; the script exits 1 if it is not. This
   part takes several minutes of one core (``--skip-events`` leaves it out).

Each part runs in a fresh process; peak memory is that process's ``ru_maxrss``
(interpreter and imports included; their share is printed as "after import").

    python benchmarks/bench_memory.py                   # about 10 minutes here
    python benchmarks/bench_memory.py --skip-events     # parts 1 and 2: about 1 minute
    python benchmarks/bench_memory.py --big 2000000 --big-steps 3 --skip-long --skip-events
    python benchmarks/bench_memory.py --skip-big --skip-long --events 200000  # a quick [3]
    python benchmarks/bench_memory.py --scenario microtask_turnover --big 500000 \
        --set workers.apac_workers.turnover.reserve=500000 --big-steps 24 --skip-long \
        --skip-events
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    emit,
    environment,
    run_child,
    self_peak_mib,
    timed_steps,
    worker_overrides,
)

HERE = Path(__file__).resolve()


def child(spec: dict) -> dict:
    from sim import ClickFarmModel

    rss_import = self_peak_mib()
    n, steps = spec["n"], spec["steps"]
    overrides = worker_overrides(
        spec["scenario"], n, spec["scaling"], scale_demand=spec.get("scale_demand", False)
    )
    overrides.append(f"days={steps / 24!r}")
    overrides += spec.get("overrides", [])
    t0 = time.perf_counter()
    model = ClickFarmModel(spec["scenario"], rng=spec["seed"], overrides=overrides)
    build = time.perf_counter() - t0
    rss_built = self_peak_mib()
    # rows: the workers, plus any turnover reserve (people outside who may join)
    rows = sum(g.rows for g in model.spec.workers)
    assert rows == n + sum(g.rows - g.count for g in model.spec.workers)
    assert model.workers.size == rows and model.max_steps == steps
    timing = timed_steps(model, spec.get("max_seconds"))
    return {
        "n": n,
        "steps_planned": steps,
        "steps_done": len(timing["per_step"]),
        "build_s": build,
        "step_s": timing["wall"],
        "step_cpu_share": timing["cpu_share"],
        "per_step_s": timing["per_step"],
        "active": timing["active"],
        "accounts": int(model.accounts.n),
        "events": [[e.id, e.hour] for e in model.timeline.applied],
        "delivered": int(model.metrics["total_delivered"]),
        "removed": int(model.metrics["total_removed"]),
        "rss_import_mib": rss_import,
        "rss_built_mib": rss_built,
        "rss_end_mib": self_peak_mib(),
        "rows": rows,
    }


def big_run(args: argparse.Namespace) -> dict:
    spec = {
        "n": args.big,
        "steps": args.big_steps,
        "scenario": args.scenario,
        "scaling": args.scaling,
        "seed": args.seed,
        "overrides": args.set,
    }
    res = run_child(HERE, spec)
    ps = res["per_step_s"]
    print(
        f"\n[1] {res['n']:,} workers ({res['rows']:,} rows with any turnover reserve), "
        f"{res['steps_done']} hourly steps ({args.scenario}, '{args.scaling}' scaling)"
    )
    print(f"    construction          {res['build_s']:8.2f} s")
    print(f"    RSS after import      {res['rss_import_mib']:8.0f} MiB")
    print(f"    peak RSS after build  {res['rss_built_mib']:8.0f} MiB")
    print(f"    peak RSS (whole run)  {res['peak_rss_mib']:8.0f} MiB")
    print(
        f"    seconds per step      (CPU {100 * res['step_cpu_share']:.0f}% of wall) "
        f"mean {statistics.mean(ps):.3f}, median "
        f"{statistics.median(ps):.3f}, each: " + ", ".join(f"{x:.3f}" for x in ps)
    )
    print("    active workers/step   " + ", ".join(f"{a:,}" for a in res["active"]))
    return res


def long_run(args: argparse.Namespace) -> dict:
    steps = args.long_days * 24
    spec = {
        "n": args.long,
        "steps": steps,
        "scenario": args.scenario,
        "scaling": args.scaling,
        "seed": args.seed,
        "max_seconds": args.max_seconds,
        "overrides": args.set,
    }
    res = run_child(HERE, spec)
    ps = res["per_step_s"]
    done = res["steps_done"]
    print(f"\n[2] {res['n']:,} workers, {args.long_days} days = {steps} hourly steps")
    print(f"    construction          {res['build_s']:8.2f} s")
    if done == steps:
        print(
            f"    stepping wall time    {res['step_s']:8.2f} s for all {steps} steps "
            f"(CPU {100 * res['step_cpu_share']:.0f}% of wall) "
            f"({res['step_s'] / steps * 1000:.1f} ms/step, "
            f"{res['n'] * steps / res['step_s']:,.0f} worker-steps/s)"
        )
    else:
        est = res["step_s"] / done * steps
        print(
            f"    stopped after {done} of {steps} steps ({res['step_s']:.1f} s > --max-seconds "
            f"{args.max_seconds:g}); EXTRAPOLATED total {est:.0f} s for {steps} steps"
        )
    print(
        f"    peak RSS              {res['peak_rss_mib']:8.0f} MiB "
        f"(accounts at the end: {res['accounts']:,})"
    )
    block = max(1, args.block_days) * 24
    parts = []
    for start in range(0, done, block):
        chunk = ps[start : start + block]
        parts.append(
            f"days {start // 24 + 1}-{(start + len(chunk)) // 24}: "
            f"{1000 * statistics.mean(chunk):.1f}"
        )
    print("    mean ms/step by block " + "; ".join(parts))
    return res


def events_run(args: argparse.Namespace) -> dict:
    steps = args.events_days * 24
    spec = {
        "n": args.events,
        "steps": steps,
        "scenario": args.events_scenario,
        "scaling": "proportional",
        "scale_demand": True,
        "seed": args.seed,
        "overrides": args.set,
    }
    res = run_child(HERE, spec)
    ps = res["per_step_s"]
    print(
        f"\n[3] {res['n']:,} workers, {args.events_days} days = {steps} hourly steps "
        f"({args.events_scenario}, workers and demand scaled, events kept)"
    )
    print(f"    construction          {res['build_s']:8.2f} s")
    print(
        f"    seconds per step      (CPU {100 * res['step_cpu_share']:.0f}% of wall) "
        f"mean {statistics.mean(ps):.3f}, median {statistics.median(ps):.3f}, "
        f"slowest {max(ps):.3f}; whole run {res['step_s']:.0f} s"
    )
    for event_id, hour in res["events"]:
        print(f"    event {event_id!r} at hour {hour}: that step took {ps[hour]:.3f} s")
    print(
        f"    delivered {res['delivered']:,}, removed {res['removed']:,}, accounts at the "
        f"end {res['accounts']:,}"
    )
    peak = res["peak_rss_mib"]
    verdict = "within" if peak <= args.memory_limit_mib else "OVER"
    print(f"    peak RSS              {peak:8.0f} MiB ({verdict} {args.memory_limit_mib:,} MiB)")
    res["within_limit"] = peak <= args.memory_limit_mib
    return res


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    ap.add_argument("--big", type=int, default=1_000_000, help="workers in the memory run")
    ap.add_argument("--big-steps", type=int, default=5, help="hourly steps in the memory run")
    ap.add_argument("--long", type=int, default=100_000, help="workers in the long run")
    ap.add_argument("--long-days", type=int, default=30, help="simulated days in the long run")
    ap.add_argument(
        "--max-seconds",
        type=float,
        default=600.0,
        help="stop the long run after this much stepping and extrapolate",
    )
    ap.add_argument("--block-days", type=int, default=5, help="report ms/step per this many days")
    ap.add_argument("--scenario", default="baseline_microtask_market")
    ap.add_argument("--scaling", choices=["proportional", "first"], default="proportional")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra scenario override, repeatable (e.g. a turnover reserve)",
    )
    ap.add_argument("--events", type=int, default=1_000_000, help="workers in the events run")
    ap.add_argument("--events-days", type=int, default=30, help="simulated days, events run")
    ap.add_argument("--events-scenario", default="purge_arms_race")
    ap.add_argument("--memory-limit-mib", type=int, default=2048, help="events run limit")
    ap.add_argument("--skip-events", action="store_true")
    ap.add_argument("--skip-big", action="store_true")
    ap.add_argument("--skip-long", action="store_true")
    ap.add_argument("--json", type=Path, help="also write the raw results to this JSON file")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.child:
        emit(child(json.loads(args.child)))
        return
    env = environment()
    print("environment: " + ", ".join(f"{k} {v}" for k, v in env.items()))
    started = time.perf_counter()
    out = {"environment": env}
    if not args.skip_big:
        out["big"] = big_run(args)
    if not args.skip_long:
        out["long"] = long_run(args)
    if not args.skip_events:
        out["events"] = events_run(args)
    print(f"\ntotal benchmark time {time.perf_counter() - started:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    if not out.get("events", {}).get("within_limit", True):
        sys.exit(1)


if __name__ == "__main__":
    main()
