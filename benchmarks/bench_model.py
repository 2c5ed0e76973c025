"""Throughput of the clickfarm model against Mesa's own BoltzmannWealth example.

For each population size N (default 10,000 and 100,000) it measures, each in a fresh
process:

* clickfarm: a shipped scenario (default ``baseline_microtask_market``) with exactly N
  workers, stepped hourly for ``--steps`` steps. Throughput = N x steps / seconds spent in
  ``model.step()`` (construction is timed separately and excluded).
* Mesa: ``mesa.examples.BoltzmannWealth`` with N agents on a square grid of
  round(sqrt(N))^2 cells, i.e. about one agent per cell like Mesa's default example
  (100 agents on 10 x 10). Its step is the example's own: every agent moves and gives
  money (``shuffle_do``), then the DataCollector records the Gini and every agent's
  wealth. Throughput = N x steps / stepping seconds.

The "per CPU-s" column divides by the process's CPU time instead of wall time; on a busy
machine it is the steadier figure ("min CPU/wall" well under 100% means other processes
took the CPU).

Peak memory is the peak resident set size of each measurement's process (``ru_maxrss``
read by the parent with ``os.wait4``); it includes the interpreter and imports, whose
share is shown in the "import" column.

    python benchmarks/bench_model.py                       # about 1.5-2 minutes here
    python benchmarks/bench_model.py --sizes 10000 --steps 24 --mesa-steps 10
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    emit,
    environment,
    fmt_int,
    run_child,
    self_peak_mib,
    table,
    timed_steps,
    worker_overrides,
)

HERE = Path(__file__).resolve()


# ---------------------------------------------------------------------------- children
def child_clickfarm(spec: dict) -> dict:
    from sim import ClickFarmModel

    rss_import = self_peak_mib()
    n, steps = spec["n"], spec["steps"]
    overrides = worker_overrides(spec["scenario"], n, spec["scaling"], spec["scale_demand"])
    overrides.append(f"days={steps / 24!r}")
    t0 = time.perf_counter()
    model = ClickFarmModel(spec["scenario"], rng=spec["seed"], overrides=overrides)
    build = time.perf_counter() - t0
    rss_built = self_peak_mib()
    assert model.workers.size == n, (model.workers.size, n)
    assert model.max_steps == steps, (model.max_steps, steps)
    timing = timed_steps(model)
    per_step, active, stepping = timing["per_step"], timing["active"], timing["wall"]
    cpu = stepping * timing["cpu_share"]
    return {
        "model": "clickfarm",
        "n": n,
        "steps": model.steps,
        "build_s": build,
        "step_s": stepping,
        "step_cpu_share": cpu / stepping,
        "cpu_agent_steps_per_s": n * model.steps / cpu,
        "agent_steps_per_s": n * model.steps / stepping,
        "median_step_ms": 1000 * statistics.median(per_step),
        "mean_active_workers": sum(active) / len(active),
        "delivered": int(model.metrics["total_delivered"]),
        "rss_import_mib": rss_import,
        "rss_built_mib": rss_built,
    }


def child_boltzmann(spec: dict) -> dict:
    import inspect

    from mesa.examples import BoltzmannWealth

    rss_import = self_peak_mib()
    n, steps = spec["n"], spec["steps"]
    side = max(1, round(math.sqrt(n)))
    # Mesa 3.3's example takes ``seed=``; use ``rng=`` where a later example offers it.
    params = inspect.signature(BoltzmannWealth.__init__).parameters
    seed_kw = "rng" if "rng" in params else "seed"
    t0 = time.perf_counter()
    model = BoltzmannWealth(n=n, width=side, height=side, **{seed_kw: spec["seed"]})
    build = time.perf_counter() - t0
    rss_built = self_peak_mib()
    per_step = []
    c0 = time.process_time()
    t0 = time.perf_counter()
    for _ in range(steps):
        t1 = time.perf_counter()
        model.step()
        per_step.append(time.perf_counter() - t1)
    stepping = time.perf_counter() - t0
    cpu = time.process_time() - c0
    return {
        "model": "mesa-boltzmann",
        "n": n,
        "steps": steps,
        "grid": f"{side}x{side}",
        "seed_keyword": seed_kw,
        "build_s": build,
        "step_s": stepping,
        "step_cpu_share": cpu / stepping,
        "cpu_agent_steps_per_s": n * steps / cpu,
        "agent_steps_per_s": n * steps / stepping,
        "median_step_ms": 1000 * statistics.median(per_step),
        "rss_import_mib": rss_import,
        "rss_built_mib": rss_built,
    }


# ---------------------------------------------------------------------------- parent
def measure(kind: str, n: int, args: argparse.Namespace, repeats: int) -> dict:
    spec = {"kind": kind, "n": n, "seed": args.seed}
    if kind == "clickfarm":
        spec.update(
            steps=args.steps,
            scenario=args.scenario,
            scaling=args.scaling,
            scale_demand=args.scale_demand,
        )
    else:
        spec.update(steps=args.mesa_steps)
    runs = []
    for r in range(repeats):
        res = run_child(HERE, spec)
        runs.append(res)
        print(
            f"  {kind:<15} N={n:>9,}  run {r + 1}/{repeats}: "
            f"{fmt_int(res['agent_steps_per_s'])} agent-steps/s, build {res['build_s']:.2f} s, "
            f"step {res['step_s']:.2f} s (CPU {100 * res['step_cpu_share']:.0f}% of wall), "
            f"peak {res['peak_rss_mib']:.0f} MiB",
            flush=True,
        )
    rates = [r["agent_steps_per_s"] for r in runs]
    best = dict(runs[rates.index(statistics.median_low(rates))])
    best.update(
        rate_median=statistics.median(rates),
        rate_min=min(rates),
        rate_max=max(rates),
        build_median=statistics.median(r["build_s"] for r in runs),
        peak_rss_mib=max(r["peak_rss_mib"] for r in runs),
        cpu_share_min=min(r["step_cpu_share"] for r in runs),
        cpu_rate_median=statistics.median(r["cpu_agent_steps_per_s"] for r in runs),
        repeats=repeats,
    )
    return best


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    ap.add_argument(
        "--sizes", type=int, nargs="+", default=[10_000, 100_000], help="population sizes N"
    )
    ap.add_argument("--steps", type=int, default=48, help="hourly steps of the clickfarm model")
    ap.add_argument("--mesa-steps", type=int, default=48, help="steps of BoltzmannWealth")
    ap.add_argument(
        "--repeats",
        type=int,
        default=5,
        help="fresh processes per clickfarm size (the median is reported)",
    )
    ap.add_argument(
        "--mesa-repeats", type=int, default=1, help="fresh processes per BoltzmannWealth size"
    )
    ap.add_argument("--scenario", default="baseline_microtask_market")
    ap.add_argument(
        "--scaling",
        choices=["proportional", "first"],
        default="proportional",
        help="proportional: every worker group scaled alike; first: all N workers "
        "in the first group, the others set to 0",
    )
    ap.add_argument(
        "--scale-demand",
        action="store_true",
        help="scale the campaigns' ordered actions with the workforce too",
    )
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--no-mesa", action="store_true", help="skip the BoltzmannWealth runs")
    ap.add_argument("--json", type=Path, help="also write all results to this JSON file")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.child:
        spec = json.loads(args.child)
        emit(child_clickfarm(spec) if spec["kind"] == "clickfarm" else child_boltzmann(spec))
        return

    env = environment()
    print("environment: " + ", ".join(f"{k} {v}" for k, v in env.items()))
    print(
        f"clickfarm: {args.scenario}, workers scaled '{args.scaling}' to N"
        f"{', demand scaled with N' if args.scale_demand else ', campaign demand unchanged'}, "
        f"{args.steps} hourly steps, seed {args.seed}, median of {args.repeats} processes"
    )
    if not args.no_mesa:
        print(
            f"mesa: BoltzmannWealth(n=N, width=height=round(sqrt(N))), {args.mesa_steps} steps, "
            f"{args.mesa_repeats} process(es) per size"
        )
    started = time.perf_counter()
    results = []
    for n in args.sizes:
        ours = measure("clickfarm", n, args, args.repeats)
        mesa_res = None if args.no_mesa else measure("boltzmann", n, args, args.mesa_repeats)
        results.append((n, ours, mesa_res))

    rows = []
    for _n, ours, mesa_res in results:
        for res in (ours, mesa_res):
            if res is None:
                continue
            spread = (
                f" ({fmt_int(res['rate_min'])}-{fmt_int(res['rate_max'])})"
                if res["repeats"] > 1
                else ""
            )
            label = "clickfarm" if res["model"] == "clickfarm" else f"mesa Boltzmann {res['grid']}"
            rows.append(
                [
                    label,
                    fmt_int(res["n"]),
                    str(res["steps"]),
                    f"{res['build_median']:.2f}",
                    f"{res['median_step_ms']:.1f}",
                    f"{100 * res['cpu_share_min']:.0f}%",
                    fmt_int(res["rate_median"]) + spread,
                    fmt_int(res["cpu_rate_median"]),
                    f"{res['rss_import_mib']:.0f}",
                    f"{res['peak_rss_mib']:.0f}",
                ]
            )
    print()
    print(
        table(
            [
                "model",
                "agents",
                "steps",
                "build s",
                "ms/step",
                "min CPU/wall",
                "agent-steps/s wall (min-max)",
                "per CPU-s",
                "import MiB",
                "peak RSS MiB",
            ],
            rows,
        )
    )
    if not args.no_mesa:
        print()
        for n, ours, mesa_res in results:
            print(
                f"ratio clickfarm / Mesa BoltzmannWealth at N={n:,}: "
                f"{ours['rate_median'] / mesa_res['rate_median']:.1f}x "
                f"({fmt_int(ours['rate_median'])} worker-steps/s vs "
                f"{fmt_int(mesa_res['rate_median'])} agent-steps/s); per CPU-second: "
                f"{ours['cpu_rate_median'] / mesa_res['cpu_rate_median']:.1f}x"
            )
    for n, ours, _ in results:
        print(
            f"clickfarm N={n:,}: mean active workers per step "
            f"{ours['mean_active_workers']:,.0f}, actions delivered {ours['delivered']:,}"
        )
    print(f"\ntotal benchmark time {time.perf_counter() - started:.0f} s")
    if args.json:
        payload = {
            "environment": env,
            "args": {k: str(v) for k, v in vars(args).items()},
            "results": [{"n": n, "clickfarm": o, "mesa": m} for n, o, m in results],
        }
        args.json.write_text(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
