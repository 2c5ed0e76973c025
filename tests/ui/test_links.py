"""Links to a run: what goes in the URL comes back out, in code and in the browser."""

from __future__ import annotations

import base64
import zlib

import pytest
from playwright.sync_api import expect

from sim.ui.links import LinkError, RunLink, from_query, qr_svg, to_query
from sim.ui.session import Setup
from tests.ui.test_browser import open_fold, wait_for_hour


def test_a_shipped_set_up_survives_the_round_trip():
    setup = Setup("baseline_microtask_market", None, (("platform.moderation.moderators", 6),), 99)
    link = RunLink(setup, "compare", 30)
    assert from_query(to_query(link)) == link
    assert from_query("tab=explore") is None  # not a link to a run


def test_pasted_yaml_travels_compressed():
    from sim.scenario.load import shipped_scenarios

    text = shipped_scenarios()["baseline_microtask_market"].read_text()
    link = RunLink(Setup("mine.yaml", text, (), 5), "present", 2, slide=3)
    query = to_query(link)
    assert len(query) < len(text)
    assert from_query(query) == link


@pytest.mark.parametrize(
    "query,says",
    [
        ("scenario=../../etc/passwd", "no shipped scenario"),
        ("scenario=baseline_microtask_market&hour=-1", "hour must be a whole number"),
        ("scenario=baseline_microtask_market&tab=admin", "tab must be one of"),
        ("scenario=baseline_microtask_market&set=days=__import__", "is not key=number"),
        ("yaml=not-base64!!", "damaged"),
        (
            "yaml=" + base64.urlsafe_b64encode(zlib.compress(b" " * 5_000_000)).decode(),
            "larger than 1,000 kB",
        ),
    ],
)
def test_a_bad_link_is_refused_with_one_line(query, says):
    with pytest.raises(LinkError, match=says):
        from_query(query)


def test_qr_code_is_an_svg_drawn_locally():
    svg = qr_svg("http://192.168.1.20:8765/?scenario=baseline_microtask_market")
    assert svg.startswith("<svg") and "<path" in svg


def test_a_copied_link_rebuilds_the_same_run_in_another_tab(page, browser, ui_url):
    open_fold(page, "Platform and moderation")
    box = page.locator(".cf-control").filter(has_text="Moderators (people)").locator("input").last
    box.fill("6")
    box.press("Enter")
    page.get_by_text("1 changed from the scenario").wait_for()
    page.get_by_label("Seed", exact=True).fill("99")
    page.get_by_label("Seed", exact=True).press("Enter")
    page.get_by_text("seed 99").wait_for()
    for n in (1, 2, 3):
        page.get_by_role("button", name="Step").click()
        wait_for_hour(page, n)
    page.get_by_test_id("copy-link").click()
    expect(page.get_by_test_id("copy-link")).to_have_text("Link copied")
    link = page.get_by_test_id("link-text").input_value()
    assert link.startswith(ui_url) and "seed=99" in link and "hour=3" in link
    tiles = page.get_by_test_id("tiles").text_content()
    other = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    try:
        other.goto(link)
        wait_for_hour(other, 3, timeout=60_000)
        expect(other.get_by_test_id("status")).to_contain_text("seed 99")
        expect(other.get_by_text("1 changed from the scenario: Moderators")).to_be_visible()
        expect(other.get_by_test_id("tiles")).to_have_text(tiles)
        other.get_by_role("button", name="Present").click()
        expect(other.get_by_test_id("slide-number")).to_have_text("1 / 8")
        other.keyboard.press("ArrowRight")
        other.get_by_test_id("link-qr").locator("svg").wait_for()
        assert "tab=present" in other.get_by_test_id("link-qr").get_attribute("title")
    finally:
        other.context.close()
