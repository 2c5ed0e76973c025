"""The browser app driven in a real browser (Chromium through Playwright).

Run with ``pytest tests/ui``; the server and the browser start once for the whole file
(see conftest.py). Each test checks what a visitor would see.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from sim.scenario.load import shipped_scenarios
from sim.ui.compare import HEADLINES, fmt
from sim.ui.session import shipped_titles

TITLES = shipped_titles()


def hour(page) -> int:
    return int(page.get_by_test_id("hour").first.inner_text())


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the Vuetify select labelled ``label``."""
    name = page.locator("label").filter(has_text=re.compile(rf"^{re.escape(label)}$"))
    page.locator(".v-select").filter(has=name).first.click()
    item = page.locator(".menuable__content__active .v-list-item").filter(has_text=option).first
    item.wait_for(state="visible")
    item.click()
    page.locator(".menuable__content__active").wait_for(state="detached")


def open_fold(page, title: str) -> None:
    page.get_by_role("button", name=re.compile(rf"^\W*{re.escape(title)}$")).click()


def wait_for_hour(page, at_least: int, timeout: float = 30_000) -> None:
    page.wait_for_function(
        "n => { const e = document.querySelector('[data-testid=hour]');"
        " return e && Number(e.textContent) >= n; }",
        arg=at_least,
        timeout=timeout,
    )


def chart_hour(page, testid: str) -> str:
    return page.get_by_test_id(testid).get_attribute("data-hour")


def test_page_loads_offline_with_every_view(page):
    for testid in ("chart-timeseries", "chart-network", "chart-pay", "tiles"):
        page.get_by_test_id(testid).wait_for()
    page.locator("[data-testid=chart-timeseries] canvas").first.wait_for()
    assert page.outside_requests == [], "the app must not fetch anything from the network"
    assert page.get_by_role("alert").count() == 0


@pytest.mark.parametrize("name", sorted(shipped_scenarios()))
def test_every_shipped_scenario_loads(page, name):
    choose(page, "Shipped scenario", TITLES[name])
    page.get_by_text(TITLES[name], exact=True).filter(visible=True).first.wait_for()
    page.get_by_role("button", name="Step").click()
    wait_for_hour(page, 1)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=chart-timeseries]')"
        ".getAttribute('data-hour') === '1'"
    )
    assert page.get_by_role("alert").count() == 0
    assert page.get_by_test_id("about").inner_text().strip()


def test_step_and_play_advance_the_model_and_redraw(page):
    chart = page.get_by_test_id("chart-timeseries")
    chart.locator("canvas").first.wait_for()
    before = chart.screenshot()
    page.get_by_role("button", name="Step").click()
    wait_for_hour(page, 1)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=chart-network]')"
        ".getAttribute('data-hour') === '1'"
    )
    page.wait_for_timeout(300)
    assert chart.screenshot() != before, "the time series must change after a step"
    expect(page.get_by_test_id("tiles")).not_to_contain_text("—")
    page.get_by_role("button", name="Play").click()
    wait_for_hour(page, 4)
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Play").wait_for()
    page.wait_for_timeout(300)  # a step already under way when Pause came may still land
    stopped = hour(page)
    page.wait_for_timeout(800)
    assert hour(page) == stopped, "pause must stop the model"
    assert int(chart_hour(page, "chart-pay")) == stopped
    page.get_by_role("button", name="Reset").click()
    page.wait_for_function("() => document.querySelector('[data-testid=hour]').textContent === '0'")


def test_bad_yaml_shows_an_inline_error_and_the_page_keeps_working(page, tmp_path):
    open_fold_details = page.get_by_text("Paste or edit YAML")
    open_fold_details.click()
    box = page.get_by_label("Scenario YAML")
    box.fill(
        "title: broken\ndescription: d\nregions:\n  r: {reservation_wage_per_hour: 1}\n"
        "recruiters:\n  - id: b\n    pays: {like: 0.01}\nworkers:\n"
        "  - {id: w, count: 10, region: r, recruiter: b}\ncampaigns:\n"
        "  - id: c\n    client: x\n    recruiter: b\n    audience_region: r\n"
        "    actions: {like: 10}\n    urgency: 9\n"
    )
    page.get_by_role("button", name="Load pasted YAML").click()
    error = page.get_by_test_id("load-error")
    error.locator(".cf-bad-line").wait_for()
    text = error.inner_text()
    assert "pasted scenario:16: campaigns.c.urgency: expected a number <= 3, got 9" in text
    assert "urgency: 9" in text  # the offending line is quoted
    bad_file = tmp_path / "oops.yaml"
    bad_file.write_text("title: [unclosed\n")
    page.get_by_test_id("upload-input").set_input_files(str(bad_file))
    page.get_by_test_id("load-error").filter(has_text="oops.yaml:").wait_for()
    # the previous scenario still runs
    page.get_by_role("button", name="Step").click()
    wait_for_hour(page, 1)


def test_a_good_upload_loads(page, tmp_path):
    good = tmp_path / "tiny.yaml"
    good.write_text(
        "title: Tiny market\ndescription: d\nregions:\n  r: {reservation_wage_per_hour: 0.1}\n"
        "recruiters:\n  - id: b\n    pays: {like: 0.01}\nworkers:\n"
        "  - {id: w, count: 50, region: r, recruiter: b}\ncampaigns:\n"
        "  - id: c\n    client: x\n    recruiter: b\n    audience_region: r\n"
        "    actions: {like: 100}\n    price_per_action: {like: 0.02}\n"
    )
    page.get_by_test_id("upload-input").set_input_files(str(good))
    page.get_by_text("Tiny market", exact=True).first.wait_for()
    page.get_by_role("button", name="Run to end").click()
    page.get_by_text("· finished").wait_for()


def moderators_box(page):
    row = page.locator(".cf-control").filter(has_text="Moderators (people)")
    return row.locator("input[type=text], input:not([type])").last


def test_refused_values_say_why_and_the_box_shows_the_value_in_use(page):
    open_fold(page, "Platform and moderation")
    hint = page.locator(".cf-control").filter(has_text="Moderators (people)").locator(".cf-hint")
    expect(hint).to_contain_text("≤ 50,000")  # the limit the app applies, not the schema's
    before = moderators_box(page).input_value()
    for typed, says in (("60000", "≤ 50,000, got 60,000"), ("-3", "≥ 0 and ≤ 50,000, got -3")):
        moderators_box(page).fill(typed)
        moderators_box(page).press("Enter")
        page.get_by_test_id("param-error").filter(has_text=says).wait_for()
        expect(moderators_box(page)).to_have_value(before)
    moderators_box(page).fill("6")
    moderators_box(page).press("Enter")
    page.get_by_text("1 changed from the scenario: Moderators").wait_for()
    expect(page.get_by_test_id("param-error")).to_have_count(0)
    expect(moderators_box(page)).to_have_value("6")
    open_fold(page, "Run")
    days = page.locator(".cf-control").filter(has_text="Simulated days").locator("input").last
    for typed, says in (("1e-320", "≥ 0.0416667 and ≤ 3,650"), ("3650", "orders")):
        days.fill(typed)
        days.press("Enter")
        page.get_by_test_id("param-error").filter(has_text=says).wait_for()
    page.get_by_role("button", name="Step").click()
    wait_for_hour(page, 1)


def test_an_oversized_paste_is_refused_with_its_size(page):
    page.get_by_text("Paste or edit YAML").click()
    box = page.get_by_label("Scenario YAML")
    # what a paste does: the whole text arrives in one input event (fill() types it)
    paste = "(el, text) => { el.value = text; el.dispatchEvent(new Event('input')); }"
    box.evaluate(paste, "title: big\n" + "# padding\n" * 250_000)  # 2.5 MB
    error = page.get_by_test_id("load-error").filter(has_text="2.5 MB is larger than")
    error.wait_for()
    page.get_by_role("button", name="Load pasted YAML").click()
    error.wait_for()
    assert "expected a mapping" not in page.get_by_test_id("load-error").inner_text()
    box.evaluate(paste, "title: [unclosed\n")
    page.get_by_role("button", name="Load pasted YAML").click()
    page.get_by_test_id("load-error").filter(has_text="pasted scenario:").wait_for()


def test_compare_shows_two_runs_and_their_difference(page):
    page.get_by_role("button", name="Compare").click()
    choose(page, "B is", "Change one parameter")
    choose(page, "Parameter", "Moderators")
    page.get_by_test_id("compare-param-hint").wait_for()  # the box for B's value is ready
    value = page.get_by_label("New value for B")
    value.fill("40")
    value.press("Enter")
    page.get_by_label("Days for both").fill("1")
    page.get_by_label("Days for both").press("Enter")
    page.get_by_role("button", name="Run both").click()
    table = page.get_by_test_id("compare-table")
    table.wait_for(timeout=60_000)
    text = table.inner_text()
    assert "B − A" in text and "accounts banned" in text
    page.locator(".cf-section").filter(has_text="vs").filter(
        has_text="B: Moderators = 40"
    ).wait_for()
    page.get_by_test_id("chart-compare-diff").locator("canvas").first.wait_for()
    page.get_by_test_id("chart-compare-overlay").locator("canvas").first.wait_for()


def test_exported_yaml_reproduces_the_ui_summary_with_the_cli(page, tmp_path):
    open_fold(page, "Run")
    days = page.locator(".cf-control").filter(has_text="Simulated days").locator("input").last
    days.fill("1")
    days.press("Enter")
    page.get_by_text("of 24 (day").wait_for()
    page.get_by_label("Seed", exact=True).fill("99")
    page.get_by_label("Seed", exact=True).press("Enter")
    page.get_by_text("seed 99").wait_for()
    page.get_by_role("button", name="Run to end").click()
    page.get_by_text("· finished").wait_for()
    open_fold(page, "Export")
    with page.expect_download() as info:
        page.get_by_role("button", name=re.compile("Scenario YAML")).click()
    exported = tmp_path / "exported.yaml"
    info.value.save_as(exported)
    with page.expect_download() as info:
        page.get_by_role("button", name=re.compile("summary JSON")).click()
    ui_summary = json.loads(info.value.path().read_text())
    out = tmp_path / "cli-run"
    subprocess.run(
        [sys.executable, "-m", "sim", "run", str(exported), "--out", str(out), "-q"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    cli = json.loads((out / "summary.json").read_text())
    assert cli == ui_summary
    table = page.get_by_test_id("summary-table")
    for key, label, kind in HEADLINES:
        value = fmt(cli["headline"][key], kind, cli["currency"])
        row = table.locator("tr").filter(
            has=page.locator("td", has_text=re.compile(f"^{re.escape(label)}$"))
        )
        expect(row.locator("td").last).to_have_text(value)


FIND_LONE_WORKER = """
async (testid) => {
  const box = document.querySelector(`[data-testid=${testid}]`);
  const chart = (await window.cfEcharts).getInstanceByDom(box);
  const nodes = [];
  chart.getOption().series.forEach((series) => {
    if (series.type !== "scatter" || series.silent) return;
    for (const item of series.data) {
      const [x, y] = chart.convertToPixel({ gridIndex: 0 }, item.value);
      nodes.push({ id: item.id, x, y, size: item.symbolSize });
    }
  });
  const rect = box.getBoundingClientRect();
  // a worker with no other node within 12 px, so that the click can only hit it
  const lone = nodes.find((n) => n.id.startsWith("w") && n.x > 20 && n.y > 30 &&
    nodes.every((m) => m === n || Math.hypot(m.x - n.x, m.y - n.y) > 12 + m.size / 2));
  return lone && { id: lone.id, x: rect.left + lone.x, y: rect.top + lone.y };
}
"""


def test_inspector_follows_a_click_on_the_network(page):
    for n in range(1, 11):
        page.get_by_role("button", name="Step").click()
        wait_for_hour(page, n)
    network = page.get_by_test_id("chart-network")
    network.scroll_into_view_if_needed()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=chart-network]').dataset.hour === '10'"
    )
    node = page.evaluate(FIND_LONE_WORKER, "chart-network")
    assert node, "the network shows no worker node to click"
    number = int(node["id"][1:])
    title = page.get_by_test_id("inspector-title")
    expect(title).not_to_contain_text(f"worker {number} (")
    page.mouse.click(node["x"], node["y"])
    expect(title).to_contain_text(f"worker {number} (")
    expect(page.get_by_label(re.compile(r"^Number"))).to_have_value(str(number))
    page.get_by_role("button", name="Top earner").click()
    expect(title).not_to_contain_text(f"worker {number} (")
    choose(page, "Kind", "recruiter")
    page.get_by_test_id("inspector-title").filter(has_text="recruiter").wait_for()
    assert "balance" in page.get_by_test_id("inspector-state").inner_text()
    page.get_by_test_id("chart-history").wait_for()


def test_presenter_mode_can_be_navigated_with_the_keyboard(page):
    page.get_by_role("button", name="Present").click()
    number = page.get_by_test_id("slide-number")
    expect(number).to_have_text("1 / 8")
    page.keyboard.press("ArrowRight")
    page.get_by_test_id("slide-number").filter(has_text="2 / 8").wait_for()
    page.get_by_test_id("slide-title").filter(has_text="micro-task market").wait_for()
    page.keyboard.press("s")
    wait_for_hour(page, 1)
    page.keyboard.press("1")  # first what-if of the slide: pay in points
    table = page.get_by_test_id("compare-table")
    table.wait_for(timeout=60_000)
    page.locator(".cf-section").filter(has_text="vs").filter(has_text="B: Pay in points").wait_for()
    page.keyboard.press("ArrowRight")
    page.get_by_test_id("slide-number").filter(has_text="3 / 8").wait_for()
    page.keyboard.press("ArrowLeft")
    page.get_by_test_id("slide-number").filter(has_text="2 / 8").wait_for()
    page.keyboard.press("End")
    page.get_by_test_id("slide-number").filter(has_text="8 / 8").wait_for()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    page.get_by_test_id("slide-number").filter(has_text="6 / 8").wait_for()
    page.keyboard.press(" ")  # play the bots-versus-people case
    wait_for_hour(page, 2)
    page.keyboard.press(" ")
    campaigns = page.get_by_test_id("campaigns-table").inner_text()
    assert "bot_posts" in campaigns and "human_posts" in campaigns
    page.keyboard.press("Escape")
    page.get_by_text("Headline metrics over time").wait_for()
