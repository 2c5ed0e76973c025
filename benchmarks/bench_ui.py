"""Latency of the browser app: from clicking Step to every plot showing the new hour.

It starts ``clickfarm ui`` on a free port (or uses ``--url``), opens the Explore page in
Chromium through Playwright, chooses the scenario at its default size, steps a few
warm-up hours, then measures ``--steps`` clicks on Step. Each measurement runs inside
the page: the clock starts when the button is clicked and stops two animation frames
after every chart on the page (time series, money diagram, shares, network, pay
histogram, inspector history) carries the new hour, that is once the browser has drawn
them. So the figure covers the websocket round trip, the model step, building the
views in Python, sending them, and ECharts drawing them.

For comparison it also times, in this process, the model step alone and the building
of the views' options alone (no browser), and a ``--seeds``-seed ensemble of the 14-day
baseline on the app's pool of two worker processes ("Run 10 seeds"): once from a cold
pool (worker start-up included, as for a visitor's first ensemble) and once warm.

    python benchmarks/bench_ui.py                          # about 1.5 minutes
    python benchmarks/bench_ui.py --scenario ps2017_influencer_pyramid --steps 20
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import emit, environment, table  # noqa: E402

TARGET_MEDIAN_MS = 150.0
TARGET_P90_MS = 300.0
TARGET_ENSEMBLE_S = 20.0

CLICK_AND_WAIT = """
async () => {
  const charts = () => Array.from(document.querySelectorAll('[data-testid^="chart-"][data-hour]'));
  const hourNow = Number(document.querySelector('[data-testid=hour]').textContent);
  const target = String(hourNow + 1);
  const button = Array.from(document.querySelectorAll('button'))
    .find((b) => b.textContent.trim().toLowerCase() === 'step');
  const first = {};
  const t0 = performance.now();
  button.click();
  await new Promise((resolve, reject) => {
    const check = () => {
      const all = charts();
      for (const c of all) {
        const id = c.getAttribute('data-testid');
        if (c.getAttribute('data-hour') === target && !(id in first)) {
          first[id] = performance.now() - t0;
        }
      }
      return all.length > 0 && all.every((c) => c.getAttribute('data-hour') === target);
    };
    if (check()) { resolve(); return; }
    setTimeout(() => reject(new Error('no redraw within 20 s (is the run finished?)')), 20000);
    const watcher = new MutationObserver(() => {
      if (check()) { watcher.disconnect(); resolve(); }
    });
    watcher.observe(document.body, { attributes: true, subtree: true, childList: true });
  });
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  return { total: performance.now() - t0, charts: first, count: charts().length };
}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "sim", "ui", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"clickfarm ui exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                if r.status == 200:
                    return process
        except OSError:
            time.sleep(0.25)
    process.terminate()
    raise RuntimeError("clickfarm ui did not start within 90 s")


def choose_scenario(page, title: str) -> None:
    import re

    name = page.locator("label").filter(has_text=re.compile(r"^Shipped scenario$"))
    page.locator(".v-select").filter(has=name).first.click()
    item = page.locator(".menuable__content__active .v-list-item").filter(has_text=title).first
    item.click()
    page.get_by_text(title, exact=True).last.wait_for()


def play_to(page, hour: int) -> None:
    """Play at full speed until the model reaches ``hour`` (longer time series)."""
    import re

    name = page.locator("label").filter(has_text=re.compile(r"^Speed"))
    page.locator(".v-select").filter(has=name).first.click()
    page.locator(".menuable__content__active .v-list-item").filter(has_text="48").first.click()
    page.get_by_role("button", name="Play").click()
    page.wait_for_function(
        "n => Number(document.querySelector('[data-testid=hour]').textContent) >= n",
        arg=hour,
        timeout=300_000,
    )
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Play").wait_for()
    time.sleep(1)


def measure_browser(
    url: str, chromium: str, scenario: str, steps: int, warmup: int, start_hour: int = 0
) -> dict:
    from playwright.sync_api import sync_playwright

    from sim.ui.session import DEFAULT_SCENARIO, shipped_titles

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(60_000)
        page.goto(url)
        page.get_by_text("Headline metrics over time").wait_for()
        if scenario != DEFAULT_SCENARIO:
            choose_scenario(page, shipped_titles()[scenario])
        page.locator("[data-testid=chart-network] canvas").first.wait_for()
        if start_hour:
            play_to(page, start_hour)
        for _ in range(warmup):
            page.evaluate(CLICK_AND_WAIT)
        runs = []
        for _ in range(steps):
            runs.append(page.evaluate(CLICK_AND_WAIT))
            time.sleep(0.1)  # a person does not click faster than this
        browser.close()
    totals = [r["total"] for r in runs]
    firsts = [min(r["charts"].values()) for r in runs]
    per_chart = {}
    for name in runs[0]["charts"]:
        per_chart[name] = statistics.median(r["charts"].get(name, float("nan")) for r in runs)
    return {
        "charts": runs[0]["count"],
        "median_ms": statistics.median(totals),
        "p90_ms": sorted(totals)[int(0.9 * (len(totals) - 1))],
        "min_ms": min(totals),
        "max_ms": max(totals),
        "first_chart_median_ms": statistics.median(firsts),
        "per_chart_median_ms": per_chart,
    }


def measure_python(scenario: str, steps: int) -> dict:
    """The model step and the building of every view, without browser or server."""
    from sim.ui import charts
    from sim.ui.flows import money_graph
    from sim.ui.session import LiveRun, Setup

    run = LiveRun(Setup(scenario))
    layout = charts.network_layout(run.model, run.sample)
    step_ms, views_ms = [], []
    for _ in range(steps):
        t0 = time.perf_counter()
        run.step(1)
        t1 = time.perf_counter()
        for option in (
            charts.timeseries_option(run.rows, run.currency, max_days=run.max_steps / 24),
            charts.money_sankey_option(money_graph(run.model), run.currency),
            charts.network_option(run.model, run.sample, layout),
            charts.pay_histogram_option(run.model),
            charts.history_option(
                run.agent_history("worker", int(run.sample[0])), ["tasks_done", "earnings"], "w"
            ),
        ):
            charts.to_json(option)
        views_ms.append((time.perf_counter() - t1) * 1000)
        step_ms.append((t1 - t0) * 1000)
    return {
        "workers": int(run.model.workers.size),
        "model_step_median_ms": statistics.median(step_ms),
        "views_median_ms": statistics.median(views_ms),
    }


def measure_ensemble(seeds: int) -> dict:
    """Wall time of an ensemble of the 14-day baseline on the pool of two workers."""
    from sim.ui import ensemble
    from sim.ui.session import Setup

    setup = Setup("baseline_microtask_market").change("days", 14)
    chosen = ensemble.ensemble_seeds(setup.scenario().seed, seeds)
    out = {}
    for label in ("cold", "warm"):
        started = time.perf_counter()
        result = ensemble.run_ensemble(setup, chosen)
        out[f"ensemble_{label}_s"] = time.perf_counter() - started
        assert result is not None and len(result.runs) == seeds
    ensemble.pool().shutdown()
    return {"ensemble_seeds": seeds, "ensemble_workers": ensemble.WORKERS, **out}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default="baseline_microtask_market")
    parser.add_argument("--steps", type=int, default=30, help="measured clicks on Step")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument(
        "--start-hour",
        type=int,
        default=0,
        help="play to this hour first (longer time series to redraw)",
    )
    parser.add_argument("--seeds", type=int, default=10, help="seeds in the timed ensemble")
    parser.add_argument("--url", help="use a running app instead of starting one")
    parser.add_argument(
        "--chromium", default=os.environ.get("CLICKFARM_CHROMIUM", "/usr/bin/chromium")
    )
    args = parser.parse_args()
    if not Path(args.chromium).exists():
        sys.exit(f"Chromium not found at {args.chromium} (apt-get install chromium)")

    from sim.ui.session import Setup

    length = Setup(args.scenario).scenario().steps
    if args.start_hour + args.warmup + args.steps + 24 > length:
        sys.exit(
            f"{args.scenario} runs {length} hours: --start-hour + --warmup + --steps must "
            f"leave a day of margin (at most {length - 24})"
        )
    env = environment()
    python = measure_python(args.scenario, args.steps + args.warmup)
    ens = measure_ensemble(args.seeds)
    server = None
    url = args.url
    if url is None:
        port = free_port()
        server = start_server(port)
        url = f"http://127.0.0.1:{port}/"
    try:
        browser = measure_browser(
            url, args.chromium, args.scenario, args.steps, args.warmup, args.start_hour
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=15)

    print(
        f"Step-to-updated-plots latency: {args.scenario} ({python['workers']:,} workers), "
        f"{browser['charts']} charts, {args.steps} clicks after {args.warmup} warm-up, "
        f"from hour {args.start_hour}\n"
    )
    print(
        table(
            ["measure", "ms"],
            [
                ["click -> all plots drawn, median", f"{browser['median_ms']:.0f}"],
                ["click -> all plots drawn, 90th percentile", f"{browser['p90_ms']:.0f}"],
                [
                    "click -> all plots drawn, min / max",
                    f"{browser['min_ms']:.0f} / {browser['max_ms']:.0f}",
                ],
                ["click -> first plot updated, median", f"{browser['first_chart_median_ms']:.0f}"],
                ["model step alone (no UI), median", f"{python['model_step_median_ms']:.1f}"],
                ["building all views in Python, median", f"{python['views_median_ms']:.1f}"],
            ],
        )
    )
    print(
        f"\n{args.seeds}-seed ensemble of the 14-day baseline, {ens['ensemble_workers']} worker "
        f"processes: {ens['ensemble_cold_s']:.1f} s from a cold pool, "
        f"{ens['ensemble_warm_s']:.1f} s warm (target {TARGET_ENSEMBLE_S:.0f} s)"
    )
    print(
        "\nper chart, click -> new hour shown (median ms): "
        + ", ".join(
            f"{k.removeprefix('chart-')} {v:.0f}" for k, v in browser["per_chart_median_ms"].items()
        )
    )
    for what, value, target in (
        ("Median", browser["median_ms"], TARGET_MEDIAN_MS),
        ("90th percentile", browser["p90_ms"], TARGET_P90_MS),
    ):
        verdict = "meets" if value <= target else "misses"
        print(f"{what} {value:.0f} ms {verdict} the {target:.0f} ms target.")
    verdict = "meets" if ens["ensemble_cold_s"] <= TARGET_ENSEMBLE_S else "misses"
    print(
        f"Ensemble {ens['ensemble_cold_s']:.1f} s {verdict} the {TARGET_ENSEMBLE_S:.0f} s target."
    )
    print("Environment: " + ", ".join(f"{k} {v}" for k, v in env.items()))
    emit(
        {
            "scenario": args.scenario,
            "start_hour": args.start_hour,
            **python,
            **browser,
            **ens,
            "environment": env,
        }
    )


if __name__ == "__main__":
    main()
