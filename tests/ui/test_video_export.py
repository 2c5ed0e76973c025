"""The Export panel's video of the whole run."""

from __future__ import annotations

import re

import imageio.v2 as imageio

from tests.ui.test_browser import open_fold


def test_export_gives_a_video_of_the_whole_run(page):
    open_fold(page, "Run")
    days = page.locator(".cf-control").filter(has_text="Simulated days").locator("input").last
    days.fill("0.5")
    days.press("Enter")
    page.get_by_text("of 12 (day").wait_for()
    open_fold(page, "Export")
    with page.expect_download(timeout=120_000) as info:
        page.get_by_role("button", name=re.compile(r"Video of the whole run \(GIF\)")).click()
    frames = imageio.mimread(info.value.path())
    assert len(frames) == 12, "one frame an hour for a 12-hour run"
    assert info.value.suggested_filename.endswith(".gif")
