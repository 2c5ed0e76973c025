"""Take the screenshots used in docs/ui.md and docs/teaching.md (not a test).

    python tests/ui/screenshots.py            # starts clickfarm ui, writes docs/img/*.png

Needs Chromium at /usr/bin/chromium (or CLICKFARM_CHROMIUM). The runs are seeded, so
the pictures only change when the model or the app does.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from conftest import CHROMIUM, CHROMIUM_ARGS, free_port, wait_for_http  # noqa: E402
from test_browser import TITLES, choose, open_fold, wait_for_hour  # noqa: E402

OUT = HERE.parent.parent / "docs" / "img"


def panel(page, title: str):
    heading = page.locator(".cf-section").filter(has_text=re.compile(rf"^{re.escape(title)}"))
    return page.locator(".cf-panel").filter(has=heading).last


def settle(page, seconds: float = 1.2) -> None:
    time.sleep(seconds)  # let ECharts finish drawing


def load(page, name: str) -> None:
    choose(page, "Shipped scenario", TITLES[name])
    page.get_by_text(TITLES[name], exact=True).filter(visible=True).first.wait_for()
    page.get_by_text(re.compile(r"hour 0 of \d")).wait_for()  # the new run is on screen


def to_end(page) -> None:
    page.get_by_role("button", name="Run to end").click()
    page.get_by_text("· finished").wait_for(timeout=180_000)


def shoot(page, url: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(url)
    page.get_by_text("Headline metrics over time").wait_for(timeout=60_000)
    page.get_by_role("button", name="Play").click()
    wait_for_hour(page, 30)
    page.get_by_role("button", name="Pause").click()
    settle(page)
    page.screenshot(path=OUT / "explore.png")
    to_end(page)
    settle(page)
    panel(page, "Workers' effective hourly pay").screenshot(path=OUT / "pay.png")
    panel(page, "Headline metrics over time").screenshot(path=OUT / "timeseries.png")

    load(page, "us2016_content_farms")
    to_end(page)
    settle(page)
    panel(page, "Where the money goes").screenshot(path=OUT / "money.png")

    load(page, "purge_arms_race")
    to_end(page)
    settle(page)
    panel(page, "Headline metrics over time").screenshot(path=OUT / "timeseries-events.png")

    load(page, "ps2017_influencer_pyramid")
    for _ in range(10):
        page.get_by_role("button", name="Step").click()
    wait_for_hour(page, 10)
    page.get_by_role("button", name="Top earner").click()
    settle(page)
    panel(page, "The recruitment network").screenshot(path=OUT / "network.png")

    load(page, "fillon2017_points")
    to_end(page)
    settle(page)
    panel(page, "Points, leaderboard and objectives").screenshot(path=OUT / "gamification.png")
    page.get_by_role("button", name="A banned worker").click()
    page.get_by_test_id("chart-history").locator("canvas").first.wait_for()
    settle(page, 2)
    panel(page, "Inspector").screenshot(path=OUT / "inspector.png")

    load(page, "baseline_microtask_market")
    open_fold(page, "Platform and moderation")
    row = page.locator(".cf-control").filter(has_text="Moderators (people)")
    box = row.locator("input").last
    box.fill("6")
    box.press("Enter")
    page.get_by_text("1 changed from the scenario").wait_for()
    page.get_by_text("Paste or edit YAML").click()
    page.get_by_label("Scenario YAML").fill(
        "title: My market\ndescription: A first try\nregions:\n"
        "  home: {reservation_wage_per_hour: 1}\nrecruiters:\n  - id: broker\n"
        "    pays: {like: 0.01}\nworkers:\n  - {id: crowd, count: 100, region: home, "
        "recruiter: broker}\ncampaigns:\n  - id: likes\n    client: A brand\n"
        "    recruiter: brokr\n    audience_region: home\n    actions: {like: 500}\n"
    )
    page.get_by_role("button", name="Load pasted YAML").click()
    page.get_by_test_id("load-error").locator(".cf-bad-line").wait_for()
    settle(page, 0.5)
    page.set_viewport_size({"width": 1440, "height": 2600})  # tall panels fit whole
    settle(page, 0.5)
    panel(page, "Scenario").screenshot(path=OUT / "scenario-error.png")
    panel(page, "Parameters").screenshot(path=OUT / "parameters.png")
    open_fold(page, "Export")
    page.get_by_role("button", name="Step").click()
    page.get_by_role("button", name=re.compile("Everything")).wait_for()
    panel(page, "Run").screenshot(path=OUT / "run-controls.png")

    page.get_by_role("button", name="Compare").click()
    choose(page, "What-if", "Replace the workers with bots")
    page.get_by_role("button", name="Run both").click()
    page.get_by_test_id("compare-table").wait_for(timeout=120_000)
    settle(page, 2)
    page.set_viewport_size({"width": 1440, "height": 1500})
    settle(page)
    page.screenshot(path=OUT / "compare.png")

    page.set_viewport_size({"width": 1280, "height": 720})
    page.get_by_role("button", name="Present").click()
    page.get_by_test_id("slide-title").wait_for()
    settle(page)
    page.screenshot(path=OUT / "present-title.png")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.get_by_test_id("slide-number").filter(has_text="3 / 8").wait_for()
    page.keyboard.press("s")
    wait_for_hour(page, 1)
    for _ in range(11):
        page.keyboard.press("s")
    wait_for_hour(page, 12)
    settle(page)
    page.screenshot(path=OUT / "present-case.png")
    page.keyboard.press("4")
    page.get_by_test_id("compare-table").wait_for(timeout=120_000)
    settle(page)
    page.screenshot(path=OUT / "present-whatif.png")


def main() -> None:
    if not CHROMIUM.exists():
        sys.exit(f"Chromium not found at {CHROMIUM}")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "sim", "ui", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for_http(url, server, 90)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.set_default_timeout(60_000)
            shoot(page, url)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=15)
    for path in sorted(OUT.glob("*.png")):
        print(path)


if __name__ == "__main__":
    main()
