"""Shows that "Failed to evaluate Vue script" comes from Solara itself, not from clickfarm.

Serves two bare Solara pages with the pinned Solara and loads each in Chromium:

1. a page with one line of text: the browser's console warns once;
2. the same page with Solara's router component (``navigator.vue``, which Solara's server
   adds to every page) read from a temporary copy whose ``modules.export`` is spelled
   ``module.exports``: no warning.

Run it with ``.venv/bin/python tests/ui/solara_navigator_repro.py``; it prints each page's
console messages. It changes nothing on disk outside a temporary folder.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

BARE = """
import solara

@solara.component
def Page():
    solara.Text("bare solara page")
"""

CORRECTED = """
import pathlib
import tempfile

import solara.widgets

original = pathlib.Path(solara.widgets.__file__).with_name("vue") / "navigator.vue"
fixed = pathlib.Path(tempfile.mkdtemp()) / "navigator.vue"
fixed.write_text(original.read_text().replace("modules.export =", "module.exports ="))
solara.widgets.Navigator.template_file = str(fixed)
"""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def console_of(script: Path) -> list[str]:
    """Serve ``script`` with ``solara run`` and return the console of its first page load."""
    from playwright.sync_api import sync_playwright

    port = free_port()
    solara = Path(sys.executable).with_name("solara")
    cmd = [str(solara), "run", str(script), "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(
        [*cmd, "--no-open", "--production"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
            )
            page = browser.new_page()
            messages: list[str] = []
            page.on("console", lambda m: messages.append(f"{m.type}: {m.text}"))
            page.goto(f"http://127.0.0.1:{port}/")
            page.get_by_text("bare solara page").wait_for(timeout=60_000)
            page.wait_for_load_state("networkidle")
            browser.close()
        return messages
    finally:
        server.terminate()
        server.wait(timeout=15)


def main() -> None:
    """Print the console of the bare page, then of the page with the typo corrected."""
    import solara

    print(f"solara {solara.__version__}")
    with tempfile.TemporaryDirectory() as folder:
        for name, prefix in (("bare.py", ""), ("corrected.py", CORRECTED)):
            script = Path(folder) / name
            script.write_text(prefix + BARE)
            print(f"--- {name}")
            for line in console_of(script):
                print(line[:160])


if __name__ == "__main__":
    main()
