"""The money diagram's labels, measured where Chromium draws them: none may overlap another
or leave the chart, on a laptop (1280x720) or an old beamer (1024x768).

Each scenario is opened by a link at hour 72 (three days, the whole of the bots case):
every paid scenario has money in all of its diagram's columns by then, and stepping
further would only make the tests slower.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from sim.scenario.load import shipped_scenarios
from sim.ui import links
from sim.ui.session import Setup

SIZES = [{"width": 1280, "height": 720}, {"width": 1024, "height": 768}]
HOUR = 72

LABELS = """
() => {
  const box = document.querySelector("[data-testid=chart-sankey]");
  const chart = box && window.cfEchartsLoaded && window.cfEchartsLoaded.getInstanceByDom(box);
  const series = chart && chart.getModel().getSeriesByIndex(0);
  if (!series || series.subType !== "sankey") return null;
  const data = series.getData();
  const labels = [];
  for (let i = 0; i < data.count(); i++) {
    const node = data.getItemGraphicEl(i);
    const text = node && node.getTextContent();
    if (!text || text.ignore || text.invisible) continue;
    text.updateTransform();
    const r = text.getBoundingRect().clone();
    r.applyTransform(text.getComputedTransform());
    labels.push({ name: data.getName(i), left: r.x, top: r.y, right: r.x + r.width,
                  bottom: r.y + r.height });
  }
  return { width: chart.getWidth(), height: chart.getHeight(), labels };
}
"""


def problems(drawn: dict) -> list[str]:
    """Pairs of labels that overlap, and labels that stick out of the chart (0.5 px slack)."""
    found, labels = [], drawn["labels"]
    for i, a in enumerate(labels):
        if a["left"] < -0.5 or a["top"] < -0.5:
            found.append(f"{a['name']!r} leaves the chart at the top or left")
        if a["right"] > drawn["width"] + 0.5 or a["bottom"] > drawn["height"] + 0.5:
            found.append(f"{a['name']!r} leaves the chart at the bottom or right")
        for b in labels[i + 1 :]:
            across = a["left"] < b["right"] - 0.5 and b["left"] < a["right"] - 0.5
            if across and a["top"] < b["bottom"] - 0.5 and b["top"] < a["bottom"] - 0.5:
                found.append(f"{a['name']!r} overlaps {b['name']!r}")
    return found


def assert_labels_apart(page, where: str) -> None:
    """Wait until the labels are drawn apart (they settle after each redraw), else fail."""
    page.get_by_test_id("chart-sankey").locator("canvas").first.wait_for()
    check = f"() => {{ const d = ({LABELS})(); return d && d.labels.length > 1 && d; }}"
    drawn = page.wait_for_function(check).json_value()
    try:
        page.wait_for_function(
            f"""() => {{ const d = ({LABELS})(); if (!d) return false;
              const l = d.labels, out = (a) => a.left < -0.5 || a.top < -0.5 ||
                a.right > d.width + 0.5 || a.bottom > d.height + 0.5;
              return l.every((a, i) => !out(a) && l.slice(i + 1).every((b) =>
                !(a.left < b.right - 0.5 && b.left < a.right - 0.5 &&
                  a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5))); }}""",
            timeout=10_000,
        )
    except Exception:
        drawn = page.evaluate(LABELS)
        pytest.fail(f"{where}: {problems(drawn)}")


def open_at_hour(page, url: str, name: str) -> None:
    """Open ``name`` by a link that runs it to :data:`HOUR` (or its end, if sooner)."""
    hour = min(HOUR, Setup(name).scenario().steps)
    page.goto(f"{url}?{links.to_query(links.RunLink(Setup(name), hour=hour))}")
    expect(page.get_by_test_id("hour").first).to_have_text(str(hour), timeout=60_000)


def measure_both_sizes(page, where: str) -> None:
    for size in SIZES:
        page.set_viewport_size(size)
        assert_labels_apart(page, f"{where} at {size['width']}x{size['height']}")


@pytest.fixture
def visitor(browser):
    context = browser.new_context(viewport=SIZES[0])
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


def test_money_labels_stay_apart_and_inside_in_every_scenario(visitor, ui_url):
    drawn = 0
    for name in sorted(shipped_scenarios()):
        visitor.set_viewport_size(SIZES[0])
        open_at_hour(visitor, ui_url, name)
        if visitor.get_by_test_id("money-empty").count():  # work paid in points: no Sankey
            continue
        measure_both_sizes(visitor, name)
        drawn += 1
    assert drawn >= 4, "most shipped scenarios pay money and draw a Sankey"


def test_money_labels_of_the_bots_case_with_the_platform_side(visitor, ui_url):
    open_at_hour(visitor, ui_url, "bots_vs_click_workers")
    box = visitor.get_by_label(re.compile("include the platform's side"))
    visitor.get_by_text(re.compile("include the platform's side")).click()
    expect(box).to_be_checked()
    visitor.wait_for_function(
        "() => { const box = document.querySelector('[data-testid=chart-sankey]');"
        " const c = box && window.cfEchartsLoaded && window.cfEchartsLoaded.getInstanceByDom(box);"
        " return c && c.getOption().series[0].data.some((n) => n.name === 'platform'); }"
    )
    measure_both_sizes(visitor, "the bots case with the platform's side")
