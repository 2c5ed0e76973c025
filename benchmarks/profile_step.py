"""Where the time of one clickfarm step goes, phase by phase (and optionally by function).

Each phase method of the model instance (and the per-step metrics and data collection)
is wrapped in a timer for the duration of this process only; nothing in ``sim/`` is
changed. The timers cost well under 1% at 100,000 workers. ``--cprofile`` adds a
cProfile listing of the top functions (cProfile itself slows numpy-light Python code
more than numpy-heavy code, so use the phase table for shares).

    python benchmarks/profile_step.py                         # 100,000 workers, 48 steps
    python benchmarks/profile_step.py --steps 720 --cprofile 25
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import environment, table, worker_overrides  # noqa: E402

# the phases of ``ClickFarmModel.step``, as (component attribute, method) pairs
PHASES = (
    ("timeline", "apply_due"),
    ("market", "open_and_close"),
    ("influencers", "relay"),
    ("workforce", "work"),
    ("moderation", "step"),
    ("market", "apply_removals"),
    ("platform", "step"),
    ("moderation", "update_capacity"),
    ("market", "reprice"),
    ("market", "adapt_tactics"),
    ("workforce", "update"),
    ("workforce", "choose_accounts"),
)


def instrument(model, spent: dict[str, float]) -> None:
    """Wrap the phases of the model's components (as instance attributes) with timers."""
    import sim.core.model as sim_model

    def timed(name, fn):
        def wrapper(*a, **kw):
            t0 = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                spent[name] += time.perf_counter() - t0

        return wrapper

    for component_name, method in PHASES:
        component = getattr(model, component_name)
        name = f"{component_name}.{method}"
        setattr(component, method, timed(name, getattr(component, method)))
    model.ledger.check_balanced = timed("ledger.check_balanced", model.ledger.check_balanced)
    model.ledger.start_step = timed("ledger.start_step", model.ledger.start_step)
    model.datacollector.collect = timed("datacollector.collect", model.datacollector.collect)
    sim_model.collect_step_metrics = timed("collect_step_metrics", sim_model.collect_step_metrics)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    ap.add_argument("--workers", type=int, default=100_000)
    ap.add_argument("--steps", type=int, default=48)
    ap.add_argument("--scenario", default="baseline_microtask_market")
    ap.add_argument("--scaling", choices=["proportional", "first"], default="proportional")
    ap.add_argument("--scale-demand", action="store_true")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument(
        "--cprofile",
        type=int,
        default=0,
        metavar="N",
        help="also run cProfile and print the top N functions by own time",
    )
    args = ap.parse_args()

    from sim import ClickFarmModel

    env = environment()
    print("environment: " + ", ".join(f"{k} {v}" for k, v in env.items()))
    overrides = worker_overrides(args.scenario, args.workers, args.scaling, args.scale_demand)
    overrides.append(f"days={args.steps / 24!r}")
    model = ClickFarmModel(args.scenario, rng=args.seed, overrides=overrides)
    spent: dict[str, float] = defaultdict(float)
    instrument(model, spent)
    prof = cProfile.Profile() if args.cprofile else None
    t0 = time.perf_counter()
    if prof:
        prof.enable()
    while model.running:
        model.step()
    if prof:
        prof.disable()
    total = time.perf_counter() - t0
    steps = model.steps
    rows = []
    for name, sec in sorted(spent.items(), key=lambda kv: -kv[1]):
        rows.append([name, f"{sec:.3f}", f"{1000 * sec / steps:.2f}", f"{100 * sec / total:.1f}%"])
    other = total - sum(spent.values())
    rows.append(
        [
            "(rest of step + loop)",
            f"{other:.3f}",
            f"{1000 * other / steps:.2f}",
            f"{100 * other / total:.1f}%",
        ]
    )
    print(
        f"\n{args.workers:,} workers ({args.scenario}, '{args.scaling}' scaling), {steps} steps: "
        f"{total:.2f} s, {1000 * total / steps:.1f} ms/step"
        f"{' (under cProfile)' if prof else ''}"
    )
    print(table(["phase", "seconds", "ms/step", "share"], rows))
    if prof:
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(args.cprofile)
        print(buf.getvalue())


if __name__ == "__main__":
    main()
