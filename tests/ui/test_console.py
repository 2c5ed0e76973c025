"""What the browser's console says while the app loads: no errors and no Vue warning.

Solara 1.64's own router component (``solara/widgets/vue/navigator.vue``, which Solara's
server puts on every page) spells its export ``modules.export``; the browser then warns
"Failed to evaluate Vue script ..." once per page load (``tests/ui/solara_navigator_repro.py``
shows it on a bare Solara page). The app serves a corrected copy
(``sim/ui/solara_fixes.py``), so no page of ours may warn.
"""

from __future__ import annotations

from pathlib import Path

import solara.widgets

import sim.ui
from tests.ui.conftest import LOADED

VUE_WARNING = "Failed to evaluate Vue script"
NAVIGATOR = Path(solara.widgets.__file__).with_name("vue") / "navigator.vue"
OUR_VUE_FILES = sorted(Path(sim.ui.__file__).parent.glob("*.vue"))

# ipyvue's way of reading a component's <script>: run it with `module` and `exports`.
EVALUATE = """
(source) => {
  const module = { exports: {} };
  try {
    new Function("module", "exports", source)(module, module.exports);
  } catch (error) {
    return String(error);
  }
  return typeof module.exports === "object" && Object.keys(module.exports).length > 0
    ? "ok" : "module.exports is empty";
}
"""


def solara_navigator_has_the_typo() -> bool:
    """True while the installed Solara's router component exports to ``modules.export``."""
    return "modules.export" in NAVIGATOR.read_text(encoding="utf-8")


def script_of(vue_file: Path) -> str:
    text = vue_file.read_text(encoding="utf-8")
    return text.split("<script>", 1)[1].split("</script>", 1)[0]


def test_page_load_logs_no_error_and_no_vue_warning_of_ours(browser, ui_url):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    messages: list[tuple[str, str]] = []
    page.on("console", lambda m: messages.append((m.type, m.text)))
    page.on("pageerror", lambda e: messages.append(("pageerror", str(e))))
    try:
        page.goto(ui_url)
        page.get_by_text(LOADED).wait_for(timeout=60_000)
        page.locator("[data-testid=chart-timeseries] canvas").first.wait_for(timeout=30_000)
        errors = [text for kind, text in messages if kind in ("error", "pageerror")]
        assert not errors, errors
        warnings = [text for _kind, text in messages if VUE_WARNING in text]
        assert not warnings, warnings
        # every component of ours is read the first way, so none of them can warn
        assert OUR_VUE_FILES, "the app's Vue components were not found"
        for vue_file in OUR_VUE_FILES:
            assert page.evaluate(EVALUATE, script_of(vue_file)) == "ok", vue_file.name
        # Solara's own file still has the typo (so the correction is what removed the
        # warning), and the corrected copy the app serves reads the first way
        if solara_navigator_has_the_typo():
            assert "not defined" in page.evaluate(EVALUATE, script_of(NAVIGATOR))
            from sim.ui.solara_fixes import corrected_text

            served = corrected_text(NAVIGATOR.read_text(encoding="utf-8"))
            script = served.split("<script>", 1)[1].split("</script>", 1)[0]
            assert page.evaluate(EVALUATE, script) == "ok"
    finally:
        context.close()


def test_the_correction_changes_only_the_misspelt_export():
    from sim.ui.solara_fixes import corrected_text

    assert corrected_text("<script>\nmodules.export = {a: 1}\n</script>") == (
        "<script>\nmodules.export = {a: 1}\n</script>".replace("modules.export", "module.exports")
    )
    assert corrected_text("<script>module.exports = {}</script>") is None
