"""What a new student and a lecturer hit in the browser (issue 10), each seen as they see it."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from sim.ui.compare import MINUS
from sim.ui.flows import MODERATORS_NODE
from tests.ui.test_browser import choose, wait_for_hour

OPTION = """
([testid, path]) => {
  const box = document.querySelector(`[data-testid=${testid}]`);
  const chart = box && window.cfEchartsLoaded && window.cfEchartsLoaded.getInstanceByDom(box);
  if (!chart) return null;
  let value = chart.getOption();
  for (const part of path) value = value && value[part];
  return value;
}
"""


def option(page, testid: str, *path):
    """A part of a chart's option, once the chart is drawn (charts are redrawn at times)."""
    return page.wait_for_function(OPTION, arg=[testid, list(path)]).json_value()


def test_money_diagram_starts_without_the_platform_side(page):
    page.get_by_role("button", name="Step").click()
    wait_for_hour(page, 1)
    page.get_by_test_id("chart-sankey").locator("canvas").first.wait_for()
    box = page.get_by_label(re.compile("include the platform's side"))
    expect(box).not_to_be_checked()
    names = [n["name"] for n in option(page, "chart-sankey", "series", 0, "data")]
    assert MODERATORS_NODE not in names
    page.get_by_text(re.compile("include the platform's side")).click()
    page.wait_for_function(
        "(name) => { const box = document.querySelector('[data-testid=chart-sankey]');"
        " const c = box && window.cfEchartsLoaded && window.cfEchartsLoaded.getInstanceByDom(box);"
        " return c && c.getOption().series[0].data.some((n) => n.name === name); }",
        arg=MODERATORS_NODE,
    )


def test_presenter_slides_show_what_they_ask_for(page):
    page.get_by_role("button", name="Present").click()
    expect(page.get_by_test_id("slide-number")).to_have_text("1 / 8")
    page.keyboard.press("ArrowRight")
    page.get_by_test_id("slide-number").filter(has_text="2 / 8").wait_for()
    page.get_by_test_id("chart-pay").locator("canvas").first.wait_for()
    title = option(page, "chart-pay", "title", 0, "text")
    assert "No money paid" not in title and "no worker has been online yet" in title
    for n in range(3, 7):
        page.keyboard.press("ArrowRight")
        page.get_by_test_id("slide-number").filter(has_text=f"{n} / 8").wait_for()
    page.get_by_test_id("slide-title").filter(has_text="Bots or people?").wait_for()
    page.keyboard.press("s")
    wait_for_hour(page, 1)
    groups = page.get_by_test_id("groups-table")
    expect(groups).to_contain_text("bots")
    expect(groups).to_contain_text("people")
    expect(groups.locator("th").filter(has_text="banned").first).to_be_visible()


def test_compare_says_what_a_has_and_ends_at_the_run_length(page):
    page.get_by_role("button", name="Compare").click()
    choose(page, "B is", "Change one parameter")
    choose(page, "Parameter", "Moderators")
    expect(page.get_by_test_id("compare-param-hint")).to_have_text(
        "In A: 2 people. Valid: ≥ 0 and ≤ 50,000."
    )
    page.get_by_label("New value for B").fill("0")
    page.get_by_label("New value for B").press("Enter")
    days = page.get_by_label("Days for both")
    days.fill("1")
    days.press("Enter")
    page.get_by_role("button", name="Run both").click()
    table = page.get_by_test_id("compare-table")
    table.wait_for(timeout=60_000)
    # the last points of both curves, read once both runs' 24 hours are drawn
    ends = page.wait_for_function(
        "() => { const box = document.querySelector('[data-testid=chart-compare-overlay]');"
        " const c = box && window.cfEchartsLoaded && window.cfEchartsLoaded.getInstanceByDom(box);"
        " const s = c && c.getOption().series;"
        " return s && s.length === 2 && s.every((x) => x.data.length === 24)"
        " && { ends: s.map((x) => x.data[23][1]), max: c.getOption().xAxis[0].max }; }"
    ).json_value()
    assert ends["max"] == 1
    text = table.inner_text()
    assert not re.search(r"-\d", text), "negative numbers must use the minus sign"
    assert MINUS in text  # no moderators: fewer removals
    assert "-0%" not in text and f"{MINUS}0%" not in text
    # the chart opens on a metric that differs between the two runs
    assert ends["ends"][0] != ends["ends"][1]
