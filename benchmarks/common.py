"""Helpers shared by the benchmark scripts in this folder.

Every measurement runs in a fresh Python process so that its peak resident set size
(``ru_maxrss``) belongs to that measurement alone: the parent starts the child, waits for
it with ``os.wait4`` and reads the child's own resource usage.
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

RESULT_TAG = "BENCH-RESULT "


# ---------------------------------------------------------------------------- scenarios
def worker_overrides(
    scenario: str, n: int, scaling: str = "proportional", scale_demand: bool = False
) -> list[str]:
    """``--set`` style overrides that give ``scenario`` exactly ``n`` workers.

    ``proportional`` scales every worker group by the same factor (largest-remainder
    rounding, so the counts add up to exactly ``n`` and the regional mix is kept);
    ``first`` puts all ``n`` workers in the first group and sets the others to 0.
    With ``scale_demand`` every campaign's ordered actions are scaled by the same factor
    as the workforce, so the work per worker stays what the scenario intends.
    """
    from sim.scenario.load import load_scenario

    spec = load_scenario(scenario)
    groups = [(g.id, g.count) for g in spec.workers]
    total = sum(c for _, c in groups)
    if scaling == "first":
        counts = [n] + [0] * (len(groups) - 1)
    elif scaling == "proportional":
        exact = [c * n / total for _, c in groups]
        counts = [math.floor(x) for x in exact]
        short = n - sum(counts)
        by_remainder = sorted(range(len(groups)), key=lambda i: (counts[i] - exact[i], i))
        for i in by_remainder[:short]:
            counts[i] += 1
    else:
        raise ValueError(f"unknown scaling {scaling!r}")
    assert sum(counts) == n
    out = [f"workers.{gid}.count={c}" for (gid, _), c in zip(groups, counts, strict=True)]
    if scale_demand:
        factor = n / total
        for c in spec.campaigns:
            for action, qty in c.actions.items():
                out.append(f"campaigns.{c.id}.actions.{action}={max(1, round(qty * factor))}")
    return out


# ---------------------------------------------------------------------------- processes
def max_rss_mib(usage) -> float:
    """``ru_maxrss`` in MiB (Linux reports KiB, macOS bytes)."""
    div = 1024 * 1024 if sys.platform == "darwin" else 1024
    return usage.ru_maxrss / div


def self_peak_mib() -> float:
    import resource

    return max_rss_mib(resource.getrusage(resource.RUSAGE_SELF))


def run_child(script: Path, spec: dict[str, Any], python: str | None = None) -> dict[str, Any]:
    """Run ``script --child SPEC`` in a new process; return its result with ``peak_rss_mib``.

    The child prints one line starting with ``RESULT_TAG`` followed by JSON. Its stderr
    is passed through, so warnings and tracebacks stay visible.
    """
    cmd = [python or sys.executable, str(script), "--child", json.dumps(spec)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read()
    proc.stdout.close()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark child failed ({proc.returncode}): {' '.join(cmd)}\n{out}")
    lines = [ln for ln in out.splitlines() if ln.startswith(RESULT_TAG)]
    if not lines:
        raise RuntimeError(f"benchmark child printed no result: {' '.join(cmd)}\n{out}")
    result = json.loads(lines[-1][len(RESULT_TAG) :])
    result["peak_rss_mib"] = max_rss_mib(usage)
    return result


def emit(result: dict[str, Any]) -> None:
    print(RESULT_TAG + json.dumps(result), flush=True)


def environment() -> dict[str, str]:
    from importlib import metadata

    info = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": str(os.cpu_count()),
        "load avg (1 min) at start": f"{os.getloadavg()[0]:.2f}",
    }
    for dist in ("mesa", "numpy", "clickfarm"):
        try:
            info[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            info[dist] = "-"
    return info


def fmt_int(x: float) -> str:
    return f"{x:,.0f}"


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A plain fixed-width table (first column left-aligned, the rest right-aligned)."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), sep, *(line(r) for r in rows)])


def timed_steps(model: Any, max_seconds: float | None = None) -> dict[str, Any]:
    """Step a model to its end (or until ``max_seconds``), timing every step."""
    import time

    per_step, active = [], []
    c0 = time.process_time()
    t0 = time.perf_counter()
    while model.running:
        t1 = time.perf_counter()
        model.step()
        per_step.append(time.perf_counter() - t1)
        active.append(model.metrics["active_workers"])
        if max_seconds is not None and time.perf_counter() - t0 > max_seconds:
            break
    wall = time.perf_counter() - t0
    return {
        "per_step": per_step,
        "active": active,
        "wall": wall,
        "cpu_share": (time.process_time() - c0) / wall,
    }
