"""The scenario's events, marked on the time-series charts as the CLI's figures mark them."""

from __future__ import annotations

from playwright.sync_api import expect

from sim.ui import links, story
from sim.ui.session import Setup
from tests.ui.test_browser import TITLES, choose

PURGE = [["purge", 4], ["detector_upgrade", 7]]  # hours 96 and 168, in days

MARKS = """
(testid) => {
  const box = document.querySelector(`[data-testid=${testid}]`);
  const chart = box && window.cfEchartsLoaded && window.cfEchartsLoaded.getInstanceByDom(box);
  if (!chart) return null;
  const option = chart.getOption();
  const marks = option.series.filter((s) => s.markLine && s.markLine.data.length)
    .map((s) => {
      const axis = s.xAxisIndex || 0;
      const grid = chart.getModel().getComponent("xAxis", axis).axis.grid.getRect();
      return {
        axis,
        events: s.markLine.data.map((d) => [d.name, d.xAxis]),
        // where each line is drawn: inside its panel, left to right
        inside: s.markLine.data.every((d) => {
          const x = chart.convertToPixel({ xAxisIndex: axis }, d.xAxis);
          return x > grid.x && x < grid.x + grid.width;
        }),
      };
    });
  return { panels: option.xAxis.length, marks };
}
"""


def marks(page, testid: str) -> dict:
    """The event marks of a drawn chart: per panel, its events and whether they fall inside."""
    page.get_by_test_id(testid).locator("canvas").first.wait_for()
    return page.wait_for_function(MARKS, arg=testid).json_value()


def assert_marked(found: dict, events: list) -> None:
    assert sorted(m["axis"] for m in found["marks"]) == list(range(found["panels"]))
    for m in found["marks"]:
        assert m["events"] == events, m
        assert m["inside"], m


def test_purge_and_detector_upgrade_are_marked_on_every_time_series(page):
    choose(page, "Shipped scenario", TITLES["purge_arms_race"])
    page.get_by_text("hour 0 of 288 (day 0.0 of 12)").wait_for()
    page.get_by_role("button", name="Run to end").click()
    page.get_by_text("· finished").wait_for(timeout=120_000)
    expect(page.get_by_test_id("chart-timeseries")).to_have_attribute("data-hour", "288")
    assert_marked(marks(page, "chart-timeseries"), PURGE)
    page.get_by_role("button", name="Top earner").click()
    page.get_by_test_id("chart-history").wait_for()
    history = marks(page, "chart-history")  # an axis in hours
    assert_marked(history, [["purge", 96], ["detector_upgrade", 168]])

    page.get_by_role("button", name="Compare").click()
    choose(page, "B is", "Change one parameter")
    choose(page, "Parameter", "Moderators")
    page.get_by_test_id("compare-param-hint").wait_for()
    value = page.get_by_label("New value for B")
    value.fill("20")
    value.press("Enter")
    days = page.get_by_label("Days for both")
    days.fill("8")
    days.press("Enter")
    page.get_by_role("button", name="Run both").click()
    page.get_by_test_id("compare-table").wait_for(timeout=120_000)
    for testid in ("chart-compare-overlay", "chart-compare-diff"):
        assert_marked(marks(page, testid), PURGE)


def test_a_slide_marks_the_events_of_the_run_it_shows(browser, ui_url):
    # a lecturer's link: the slide with the headline series, showing the purge case
    series_slide = next(i for i, s in enumerate(story.SLIDES) if "series" in s.views[:3])
    link = links.RunLink(Setup("purge_arms_race"), tab="present", hour=288, slide=series_slide)
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    try:
        page.goto(f"{ui_url}?{links.to_query(link)}")
        expect(page.get_by_test_id("slide-number")).to_contain_text(f"{series_slide + 1} /")
        expect(page.get_by_test_id("chart-timeseries")).to_have_attribute(
            "data-hour", "288", timeout=60_000
        )
        found = marks(page, "chart-timeseries")
        assert_marked(found, PURGE)
        font = page.evaluate(
            "() => window.cfEchartsLoaded.getInstanceByDom(document.querySelector("
            "'[data-testid=chart-timeseries]')).getOption().series[0].markLine.label.fontSize"
        )
        assert font >= 14, "slide labels are read from the back of the room"
    finally:
        context.close()
