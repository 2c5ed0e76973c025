"""Bit-exact fingerprints of model runs, for changes that must not move a single number.

Each case is run to its end with ``run_scenario``; its fingerprint hashes the summary, the
timeseries, agents, flows, rates and detector tables, the final per-worker and
per-account arrays, every pool's counters, the ledger's balances and the state of the
model's random generator. A speed change is bit-identical when every fingerprint is the
same before and after it.

    python benchmarks/fingerprint.py --write /tmp/before.json     # on the old code
    python benchmarks/fingerprint.py --check /tmp/before.json     # on the new code
    python benchmarks/fingerprint.py --quick --check /tmp/b.json  # shipped scenarios only

Exit code 1 when ``--check`` finds a difference (the cases that differ are listed).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import worker_overrides  # noqa: E402

SHIPPED = (
    "baseline_microtask_market",
    "bots_to_people",
    "bots_vs_click_workers",
    "fillon2017_points",
    "microtask_turnover",
    "ps2017_influencer_pyramid",
    "purge_arms_race",
    "us2016_content_farms",
)


def cases(quick: bool) -> list[tuple[str, list[str]]]:
    """Scenario names with their overrides: shipped scenarios, then scaled and edge cases."""
    out = [(name, []) for name in SHIPPED]
    if quick:
        return out
    scaled = (
        ("baseline_microtask_market", 10_000, 2.0),
        ("baseline_microtask_market", 100_000, 2.0),
        ("ps2017_influencer_pyramid", 20_000, 3.0),
        ("bots_vs_click_workers", 20_000, 3.0),
        ("purge_arms_race", 20_000, 6.0),
    )
    for name, n, days in scaled:
        out.append((name, worker_overrides(name, n, "proportional", True) + [f"days={days}"]))
    out.append(
        (
            "us2016_content_farms",
            [
                "recruiters.dhaka_like_farm.pay_hold_hours=0",
                "workers.click_workers.also_works_for=[dhaka_like_farm]",
            ],
        )
    )
    out.append(
        (
            "bots_vs_click_workers",
            [
                "platform.moderation.moderators=40",
                "platform.detection.bias=-3",
                "recruiters.click_farm.capital=300",
                "campaigns.human_posts.payment=escrow",
                "campaigns.human_posts.escrow_hold_hours=24",
            ],
        )
    )
    return out


def _update_arrays(h, obj) -> None:
    for name in sorted(vars(obj)):
        value = getattr(obj, name)
        if isinstance(value, np.ndarray):
            h.update(name.encode())
            h.update(np.ascontiguousarray(value).tobytes())


def fingerprint(name: str, overrides: list[str]) -> str:
    """The hash of everything one run produced and the state it ended in."""
    from sim.run.outputs import run_scenario

    result = run_scenario(name, overrides=overrides)
    model = result.model
    h = hashlib.sha256()
    h.update(json.dumps(result.summary, sort_keys=True, default=str).encode())
    for frame in (result.timeseries, result.agents, result.flows, result.rates, result.detector):
        h.update(frame.to_csv(index=False, float_format="%.17g").encode())
    _update_arrays(h, model.workers)
    _update_arrays(h, model.accounts)
    for unit, balance in model.ledger.balances.items():
        h.update(unit.encode())
        h.update(balance.tobytes())
    for pool in model.market.pools:
        for field in ("remaining", "refill_owed", "delivered", "refilled", "removed", "expired"):
            h.update(getattr(pool, field).tobytes())
        h.update(repr(pool.fill).encode())
    h.update(repr(model.rng.bit_generator.state).encode())
    return h.hexdigest()[:20]


def main() -> int:
    """Fingerprint every case; write them, or check them against a file written before."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--write", type=Path, help="write the fingerprints to this JSON file")
    ap.add_argument("--check", type=Path, help="compare with fingerprints written before")
    ap.add_argument("--quick", action="store_true", help="shipped scenarios only")
    args = ap.parse_args()
    found: dict[str, str] = {}
    for name, overrides in cases(args.quick):
        key = f"{name} {' '.join(overrides)}".strip()
        found[key] = fingerprint(name, overrides)
        print(found[key], key[:110], flush=True)
    if args.write:
        args.write.write_text(json.dumps(found, indent=1) + "\n")
    if args.check:
        before = json.loads(args.check.read_text())
        differ = [k for k in found if k in before and before[k] != found[k]]
        missing = [k for k in found if k not in before]
        for k in differ:
            print(f"DIFFERENT: {k[:110]}")
        for k in missing:
            print(f"not in {args.check}: {k[:110]}")
        if differ:
            return 1
        print(f"IDENTICAL ({len(found) - len(missing)} cases)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
