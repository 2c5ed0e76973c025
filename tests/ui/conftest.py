"""Fixtures for the browser tests: one ``clickfarm ui`` server and one Chromium per run.

The server is started on a free port for the whole session and stopped at the end;
each test gets a fresh page (a fresh Solara session, so no state leaks between tests).
Browser tests are skipped, with the reason, when Debian's Chromium is not installed.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("CLICKFARM_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
START_TIMEOUT = 90.0
LOADED = "Headline metrics over time"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the UI server exited early with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"the UI server did not answer {url} within {timeout:.0f} s")


@pytest.fixture(scope="session")
def ui_url(tmp_path_factory):
    """Start ``clickfarm ui`` on a free port; yield its address; stop it afterwards."""
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    port = free_port()
    log = tmp_path_factory.mktemp("ui-server") / "server.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "sim", "ui", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=tmp_path_factory.mktemp("ui-cwd"),
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for_http(url, process, START_TIMEOUT)
        yield url
    except RuntimeError as exc:
        pytest.fail(f"{exc}; server log:\n{log.read_text(errors='replace')[-3000:]}")
    finally:
        stop_server(process)


def stop_server(process: subprocess.Popen) -> None:
    """Stop a server started by a fixture (politely, then for good)."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium driven by Playwright, once per run (skipped when it is missing)."""
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def browser(ui_url, chromium):
    return chromium


@pytest.fixture
def page(browser, ui_url):
    """A fresh visitor on the Explore page, once the first model has been built."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.outside_requests = []
    page.on(
        "request",
        lambda r: (
            page.outside_requests.append(r.url)
            if not r.url.startswith(("http://127.0.0.1", "data:", "blob:"))
            else None
        ),
    )
    page.goto(ui_url)
    page.get_by_text(LOADED).wait_for(timeout=60_000)
    yield page
    context.close()
