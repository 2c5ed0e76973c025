"""Ensembles in the browser: N seeds, a band for every series, and whether B beats chance."""

from __future__ import annotations

import re

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.ui.test_browser import choose, open_fold


def set_days(page, days: str) -> None:
    box = page.locator(".cf-control").filter(has_text="Simulated days").locator("input").last
    if not box.is_visible():
        open_fold(page, "Run")
    box.fill(days)
    box.press("Enter")
    page.get_by_text(f"of {round(float(days) * 24)} (day").wait_for()


def set_seeds(page, n: int) -> None:
    """Type the number of seeds; typed again if the box was redrawn while typing."""
    box = page.get_by_label("Seeds", exact=True)
    button = page.get_by_role("button", name=f"Run {n} seeds")
    for _ in range(5):
        box.fill(str(n))
        box.press("Enter")
        try:
            button.wait_for(timeout=5_000)
            return
        except PlaywrightTimeout:
            continue
    button.wait_for()


def test_explore_runs_seeds_shows_bands_and_can_cancel(page):
    set_days(page, "1")
    set_seeds(page, 4)
    page.get_by_role("button", name="Run 4 seeds").click()
    table = page.get_by_test_id("ensemble-table")
    table.wait_for(timeout=90_000)
    expect(page.get_by_text("Across 4 seeds")).to_be_visible()
    # every order is delivered in full, so spend is the same; removals differ by seed
    row = table.locator("tr").filter(
        has=page.locator("td", has_text=re.compile("^actions removed$"))
    )
    low, high = (
        float(x.replace(",", ""))
        for x in re.findall(r"[\d,.]+", row.locator("td").last.inner_text())
    )
    assert low < high, "different seeds give different removals"
    page.get_by_test_id("chart-ensemble").locator("canvas").first.wait_for()
    # a long ensemble can be stopped half-way
    set_days(page, "14")
    set_seeds(page, 30)
    page.get_by_role("button", name="Run 30 seeds").click()
    page.get_by_test_id("ensemble-progress").filter(
        has_text=re.compile(r"^[1-9]\d* of 30")
    ).wait_for(timeout=90_000)
    page.get_by_role("button", name="Cancel").click()
    page.get_by_text("Cancelled.").wait_for()
    expect(page.get_by_test_id("ensemble-table")).to_have_count(0)


def test_compare_says_whether_a_difference_beats_seed_spread(page):
    page.get_by_role("button", name="Compare").click()
    choose(page, "B is", "Change one parameter")
    choose(page, "Parameter", "Moderators")
    page.get_by_test_id("compare-param-hint").wait_for()
    page.get_by_label("New value for B").fill("0")
    page.get_by_label("New value for B").press("Enter")
    page.get_by_label("Days for both").fill("1")
    page.get_by_label("Days for both").press("Enter")
    page.get_by_role("button", name="Run both").click()
    page.get_by_test_id("compare-table").wait_for(timeout=60_000)
    page.get_by_test_id("chart-compare-overlay").locator("canvas").first.wait_for()
    set_seeds(page, 3)
    page.get_by_role("button", name="Run 3 seeds").click()
    table = page.get_by_test_id("ensemble-compare-table")
    table.wait_for(timeout=90_000)
    removed = table.locator("tr").filter(
        has=page.locator("td", has_text=re.compile("^actions removed$"))
    )
    # with no moderators nothing is removed: far beyond chance
    expect(removed.locator("td").last).to_have_text("yes")
    page.get_by_test_id("chart-ensemble-compare").locator("canvas").first.wait_for()
