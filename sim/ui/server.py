"""The web server behind ``clickfarm ui``: Solara's app, kept to itself.

``solara run`` is not used, because it asks PyPI for Solara's latest version at start-up
and its asset proxy downloads any missing ``/_solara/cdn/<path>`` from a CDN on request.
Here Solara's Starlette app is wrapped so that:

* the page takes its JavaScript and CSS from the copies that ``solara-assets`` installed
  (served read-only: a path that is not bundled is a 404, never a download);
* a request whose ``Host`` header is not on the allow-list is refused (400), so a web page
  that rebinds its own DNS name to 127.0.0.1 cannot reach the app;
* usage reporting is off.

Settings travel in environment variables (set by :func:`server_env`) because Solara reads
its own settings from the environment when it is first imported.
"""

from __future__ import annotations

import ipaddress
import os
import sys
from pathlib import Path

APP_MODULE = "sim.ui.app"
CDN_PATH = "/_solara/cdn"
CLASS_PATH = "/class"
"""Where the classroom's student and projector pages live (see sim/classroom/web.py)."""
SERVER_URL_ENV = "CLICKFARM_UI_URL"
"""The address the server was started on (Presenter mode builds the class's join URL from it)."""
ALLOWED_HOSTS_ENV = "CLICKFARM_UI_ALLOWED_HOSTS"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
"""Names a browser on this computer uses for it; always allowed."""
WILDCARD_ADDRESSES = ("0.0.0.0", "::", "")


def bundled_assets() -> Path:
    """Where ``solara-assets`` put the JavaScript and CSS the page needs."""
    return Path(sys.prefix) / "share" / "solara" / "cdn"


def allowed_hosts(bind: str, extra: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The ``Host`` names the server answers: loopback, the bind address, and ``extra``.

    Args:
        bind: The address given with ``--host``; a wildcard (``0.0.0.0``) adds nothing,
            since no browser sends it as a name.
        extra: Further names or addresses given with ``--allow-host`` (for a classroom:
            the address or name that students type).

    Returns:
        Lower-case names without duplicates, loopback first.
    """
    names = list(LOOPBACK_NAMES)
    for name in (bind, *extra):
        name = name.strip().lower().strip("[]")
        if name and name not in WILDCARD_ADDRESSES and name not in names:
            names.append(name)
    return names


def is_loopback(host: str) -> bool:
    """Whether ``host`` serves this computer only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def server_env(
    hosts: list[str], max_workers: int | None = None, production: bool = True
) -> dict[str, str]:
    """Environment for the server process: local assets only, no reporting, the allow-list."""
    env = dict(os.environ)
    env["SOLARA_APP"] = APP_MODULE
    env["SOLARA_MODE"] = "production" if production else "development"
    env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    # The "This website runs on Solara" badge covers axes and slide text in a corner.
    env["SOLARA_THEME_SHOW_BANNER"] = "False"
    # No proxy: the page asks our read-only copy of the bundled assets instead of the CDN.
    env["SOLARA_ASSETS_PROXY"] = "False"
    env["SOLARA_ASSETS_CDN"] = CDN_PATH
    env[ALLOWED_HOSTS_ENV] = ",".join(hosts)
    # Solara warns on every start that cookies cannot be SameSite=None over plain http;
    # that only matters when the app is embedded in another site's iframe.
    env.setdefault("PYTHONWARNINGS", "ignore:Cookies with samesite=none require https")
    # A closed tab's model is freed after 15 minutes (Solara keeps it a day by default, so a
    # classroom reloading pages would pile up models in memory).
    env.setdefault("SOLARA_KERNEL_CULL_TIMEOUT", "15m")
    if max_workers is not None:
        env["CLICKFARM_UI_MAX_WORKERS"] = str(max_workers)
    return env


def server_url(host: str, port: int, names: list[str] | tuple[str, ...] = ()) -> str:
    """The address to show people: the bind address, or a name they can reach it by.

    A wildcard bind (``0.0.0.0``) is not an address anyone can type: the first non-loopback
    name in ``names`` (the allow-list) is shown instead, else 127.0.0.1.
    """
    shown = host
    if host in WILDCARD_ADDRESSES or host == "localhost":
        outside = [n for n in names if not is_loopback(n)]
        shown = outside[0] if outside and host != "localhost" else "127.0.0.1"
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def server_command(host: str, port: int, dev: bool = False) -> list[str]:
    """The command line that starts the server (run it with :func:`server_env`)."""
    cmd = [sys.executable, "-m", "sim.ui.server", host, str(port)]
    return cmd + (["--dev"] if dev else [])


def create_app():
    """Solara's app behind the Host check, with the bundled assets served read-only.

    Returns:
        app (starlette.middleware.trustedhost.TrustedHostMiddleware): An ASGI
            application. Solara's settings must already be in the environment.
    """
    import solara.server.settings as solara_settings
    import solara.server.starlette as solara_server
    from starlette.applications import Starlette
    from starlette.middleware.trustedhost import TrustedHostMiddleware
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles

    # Belt and braces: whatever the environment says, never proxy and never report.
    solara_settings.assets.proxy = False
    solara_settings.telemetry.mixpanel_enable = False
    # A Starlette app of its own, so that a missing file is a plain 404 response.
    from sim.classroom.web import create_classroom_app

    assets = Starlette(routes=[Mount(CDN_PATH, app=StaticFiles(directory=bundled_assets()))])
    classroom = create_classroom_app()

    async def local_assets_first(scope, receive, send):
        path = scope.get("path", "")
        if scope["type"] == "http" and path.startswith(CDN_PATH + "/"):
            await assets(scope, receive, send)
            return
        if scope["type"] == "http" and (path == CLASS_PATH or path.startswith(CLASS_PATH + "/")):
            await classroom(scope, receive, send)
            return
        await solara_server.app(scope, receive, send)

    hosts = os.environ.get(ALLOWED_HOSTS_ENV, ",".join(LOOPBACK_NAMES)).split(",")
    return TrustedHostMiddleware(local_assets_first, allowed_hosts=hosts, www_redirect=False)


def main(argv: list[str]) -> None:
    """Serve the app: ``python -m sim.ui.server HOST PORT [--dev]``."""
    import uvicorn

    host, port = argv[0], int(argv[1])
    dev = "--dev" in argv[2:]
    names = os.environ.get(ALLOWED_HOSTS_ENV, "").split(",")
    os.environ.setdefault(SERVER_URL_ENV, server_url(host, port, names))
    uvicorn.run(
        "sim.ui.server:create_app",
        factory=True,
        host=host,
        port=port,
        reload=dev,
        reload_dirs=[str(Path(__file__).parent)] if dev else None,
        log_level="warning",
    )


if __name__ == "__main__":
    main(sys.argv[1:])
