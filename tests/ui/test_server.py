"""The UI server keeps to itself: bundled assets only, and only for the names it serves."""

from __future__ import annotations

import urllib.error
import urllib.request

from sim.ui.server import allowed_hosts, bundled_assets


def status(url: str, host: str | None = None) -> int:
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_allow_list_is_loopback_plus_the_names_given():
    assert allowed_hosts("127.0.0.1") == ["127.0.0.1", "localhost", "::1"]
    assert allowed_hosts("0.0.0.0", ["Lab-PC.local", "192.168.1.20"]) == [
        "127.0.0.1",
        "localhost",
        "::1",
        "lab-pc.local",
        "192.168.1.20",
    ]
    assert allowed_hosts("[::1]") == ["127.0.0.1", "localhost", "::1"]


def test_a_request_naming_another_host_is_refused(ui_url):
    port = ui_url.rsplit(":", 1)[1].strip("/")
    assert status(ui_url) == 200
    assert status(ui_url, host=f"localhost:{port}") == 200
    # DNS rebinding: a foreign name that resolves to 127.0.0.1
    assert status(ui_url, host=f"attacker.example:{port}") == 400
    assert status(ui_url + "_solara/cdn/requirejs@2.3.6/require.js", host="attacker.example") == 400


def test_bundled_assets_are_served_and_nothing_else_is_fetched(ui_url):
    assert status(ui_url + "_solara/cdn/echarts@5.4.0/dist/echarts.min.js") == 200
    missing = "lodash@4.17.21/lodash.min.js"
    assert not (bundled_assets() / missing).exists()
    assert status(ui_url + "_solara/cdn/" + missing) == 404
    assert not (bundled_assets() / missing).exists(), "the server must not download assets"
    assert status(ui_url + "_solara/cdn/../../../etc/passwd") == 404
