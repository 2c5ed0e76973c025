"""Run every shipped scenario under two environments and compare the results.

Meant for checking that clickfarm gives identical results on two Mesa versions (e.g. a
Python 3.11 venv with Mesa 3.3.1 and a Python 3.12 venv with Mesa 3.5.x):

    python benchmarks/compare_mesa_versions.py \
        --env a=/work/venv311 --env b=/work/venv312 --out /tmp/cmp

For each scenario listed by ``clickfarm list`` it runs ``clickfarm run NAME --out
OUT/<env>/NAME --quiet`` in each environment (with ``PYTHONWARNINGS=default`` so that
deprecation warnings are shown), then compares ``summary.json`` byte for byte and the
Parquet tables with ``DataFrame.equals``. It also runs ``mesa.batch_run`` on the
``bots_vs_click_workers`` scenario in each environment and prints what comes back.
Anything written to stderr by a run is printed as is.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

BATCH_SNIPPET = r"""
import json, warnings
import mesa
from sim import ClickFarmModel
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    try:
        rows = mesa.batch_run(ClickFarmModel,
                              parameters={"scenario": "bots_vs_click_workers", "days": 1},
                              iterations=1, max_steps=30, number_processes=1,
                              display_progress=False)
        out = {"ok": True, "rows": len(rows), "last": {k: repr(v) for k, v in rows[-1].items()}}
    except Exception as exc:
        out = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
out["mesa"] = mesa.__version__
out["warnings"] = [f"{w.category.__name__}: {w.message}" for w in caught]
print("BATCH " + json.dumps(out))
"""


def run(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)


def compare_folders(a: Path, b: Path) -> list[str]:
    import pandas as pd

    notes = []
    sa, sb = (a / "summary.json").read_bytes(), (b / "summary.json").read_bytes()
    if sa != sb:
        ja, jb = json.loads(sa), json.loads(sb)
        diffs = []

        def walk(x, y, path):
            if isinstance(x, dict) and isinstance(y, dict):
                for k in sorted(set(x) | set(y)):
                    walk(x.get(k), y.get(k), f"{path}.{k}")
            elif x != y:
                diffs.append(f"{path}: {x!r} != {y!r}")

        walk(ja, jb, "summary")
        notes.append("summary.json differs: " + ("; ".join(diffs[:10]) or "formatting only"))
    for name in sorted(p.name for p in a.glob("*.parquet")):
        fa, fb = pd.read_parquet(a / name), pd.read_parquet(b / name)
        if not fa.equals(fb):
            notes.append(f"{name} differs (dtypes {dict(fa.dtypes)} vs {dict(fb.dtypes)})")
    for name in sorted(p.name for p in a.glob("*.csv")):
        if (a / name).read_bytes() != (b / name).read_bytes():
            notes.append(f"{name} differs byte for byte")
    return notes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--env",
        action="append",
        required=True,
        metavar="NAME=VENV",
        help="a virtual environment with clickfarm installed (give two)",
    )
    ap.add_argument("--out", type=Path, default=Path("/tmp/clickfarm-mesa-compare"))
    ap.add_argument("--scenarios", nargs="*", help="default: every shipped scenario")
    args = ap.parse_args()
    envs = dict(e.split("=", 1) for e in args.env)
    if len(envs) != 2:
        ap.error("give exactly two --env NAME=VENV")
    base_env = dict(os.environ, PYTHONWARNINGS="default")
    first = next(iter(envs.values()))
    names = args.scenarios or [
        line.split()[0]
        for line in run([f"{first}/bin/clickfarm", "list"], base_env).stdout.splitlines()
        if line.strip()
    ]
    failures = 0
    for name, venv in envs.items():
        version = run(
            [
                f"{venv}/bin/python",
                "-c",
                "import sys, mesa; print(sys.version.split()[0], mesa.__version__)",
            ],
            base_env,
        )
        print(f"{name}: {venv} python/mesa {version.stdout.strip() or version.stderr.strip()}")
    for scenario in names:
        outs = {}
        for name, venv in envs.items():
            target = args.out / name / scenario
            proc = run(
                [f"{venv}/bin/clickfarm", "run", scenario, "--out", str(target), "--quiet"],
                base_env,
            )
            outs[name] = target
            status = "ok" if proc.returncode == 0 else f"FAILED (exit {proc.returncode})"
            print(f"  {scenario:<28} {name}: {status}")
            if proc.stderr.strip():
                lines = proc.stderr.strip().splitlines()
                # the exception and warning lines (a chained traceback has several), then the end
                keep = [ln for ln in lines if re.match(r"^\S+(Error|Exception|Warning)\b", ln)]
                keep += [ln for ln in lines[-2:] if ln not in keep]
                print("      stderr: " + "\n              ".join(keep))
            if proc.returncode:
                failures += 1
        a, b = outs.values()
        if (a / "summary.json").exists() and (b / "summary.json").exists():
            notes = compare_folders(a, b)
            print(f"  {scenario:<28} compare: " + ("identical" if not notes else "; ".join(notes)))
            failures += bool(notes)
    for name, venv in envs.items():
        proc = run([f"{venv}/bin/python", "-c", BATCH_SNIPPET], base_env)
        line = [ln for ln in proc.stdout.splitlines() if ln.startswith("BATCH ")]
        if not line:
            print(f"batch_run {name}: no result; stderr: {proc.stderr.strip()[-800:]}")
            failures += 1
            continue
        res = json.loads(line[-1][6:])
        if res["ok"]:
            last = res["last"]
            print(
                f"batch_run {name} (mesa {res['mesa']}): {res['rows']} row(s), "
                f"Step={last.get('Step')}, hour={last.get('hour')}, "
                f"total_delivered={last.get('total_delivered')}, keys={len(last)}"
            )
        else:
            failures += 1
            print(f"batch_run {name} (mesa {res['mesa']}): ERROR {res['error']}")
        for w in res["warnings"]:
            print(f"    warning: {w}")
    print(f"\n{failures} problem(s)")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
