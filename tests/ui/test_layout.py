"""Sizes measured in Chromium: a projector, a laptop, an old beamer, a tablet and a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from sim.ui.charts import PRESENTER_MIN_FONT, PRESENTER_MIN_HEIGHT
from tests.ui.test_browser import wait_for_hour

MEASURE = """
async (font) => {
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== "hidden" && s.display !== "none";
  };
  const small = [];
  for (const el of document.querySelectorAll(".cf-root *")) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (own && visible(el) && parseFloat(getComputedStyle(el).fontSize) < font) {
      small.push(`${el.textContent.trim().slice(0, 40)} (${getComputedStyle(el).fontSize})`);
    }
  }
  const echarts = await window.cfEcharts;
  const charts = [];
  for (const box of document.querySelectorAll(".cf-root [data-testid^=chart-]")) {
    const chart = echarts.getInstanceByDom(box);
    const sizes = [];
    const walk = (node) => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === "object") {
        if (typeof node.fontSize === "number") sizes.push(node.fontSize);
        Object.values(node).forEach(walk);
      }
    };
    if (chart) walk(chart.getOption());
    charts.push({ id: box.dataset.testid, height: box.getBoundingClientRect().height,
                  width: box.getBoundingClientRect().width,
                  smallestFont: sizes.length ? Math.min(...sizes) : null });
  }
  const panels = [...document.querySelectorAll(".cf-root .cf-panel")].filter(visible)
    .map((el) => el.getBoundingClientRect());
  let overlaps = 0;
  panels.forEach((a, i) => panels.slice(i + 1).forEach((b) => {
    const across = a.left < b.right - 1 && b.left < a.right - 1;
    if (across && a.top < b.bottom - 1 && b.top < a.bottom - 1) overlaps += 1;
  }));
  const number = document.querySelector("[data-testid=slide-number]");
  const badge = [...document.querySelectorAll("b")].some(
    (b) => b.textContent.includes("runs on") && visible(b));
  return {
    rootWidth: document.querySelector(".cf-root").getBoundingClientRect().width,
    scrollWidth: document.scrollingElement.scrollWidth,
    small, charts, overlaps, badge,
    numberLines: number ? Math.round(number.getBoundingClientRect().height /
      parseFloat(getComputedStyle(number).lineHeight || "20")) : null,
  };
}
"""


@pytest.mark.parametrize("width,height", [(1920, 1080), (1280, 720), (1024, 768)])
def test_presenter_slides_fill_a_projector_and_read_from_the_back(page, width, height):
    page.set_viewport_size({"width": width, "height": height})
    page.get_by_role("button", name="Present").click()
    expect(page.get_by_test_id("slide-number")).to_have_text("1 / 8")
    for n in (2, 3):
        page.keyboard.press("ArrowRight")
        page.get_by_test_id("slide-number").filter(has_text=f"{n} / 8").wait_for()
        page.keyboard.press("s")
        wait_for_hour(page, 1)
        page.locator(".cf-root [data-testid^=chart-] canvas").first.wait_for()
        m = page.evaluate(MEASURE, PRESENTER_MIN_FONT)
        assert m["rootWidth"] >= 0.95 * width, m["rootWidth"]
        assert m["scrollWidth"] <= width, "nothing may stick out sideways"
        assert not m["small"], f"text under {PRESENTER_MIN_FONT} px: {m['small'][:5]}"
        assert m["charts"], "the slide shows charts"
        for c in m["charts"]:
            assert c["height"] >= PRESENTER_MIN_HEIGHT, c
            assert c["smallestFont"] is None or c["smallestFont"] >= PRESENTER_MIN_FONT, c
        assert m["overlaps"] == 0
        assert m["numberLines"] == 1, "the slide counter stays on one line"
        assert not m["badge"], "the Solara badge covers slide text"


@pytest.mark.parametrize("width,height", [(768, 1024), (390, 844)])
def test_tablet_and_phone_get_a_stacked_layout(page, width, height):
    page.set_viewport_size({"width": width, "height": height})
    page.get_by_role("button", name="Step").click()
    wait_for_hour(page, 1)
    sidebar = page.locator(".cf-sidebar").bounding_box()
    series = page.get_by_test_id("chart-timeseries").bounding_box()
    assert sidebar["width"] >= 0.85 * width, "the sidebar takes the whole width"
    assert series["y"] >= sidebar["y"] + sidebar["height"] - 1, "charts come below it"
    assert series["width"] >= 0.85 * width
    subtitle = page.locator(".cf-sub").bounding_box()
    assert subtitle["width"] >= 0.6 * width, "the header's line is not squeezed to a column"
    m = page.evaluate(MEASURE, PRESENTER_MIN_FONT)
    assert m["scrollWidth"] <= width, "nothing may stick out sideways"
    assert m["overlaps"] == 0
    assert not m["badge"]
