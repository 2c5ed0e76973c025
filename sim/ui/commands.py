"""``clickfarm ui``: start the browser app (registered by ``sim/cli.py``)."""

from __future__ import annotations

import ipaddress
import os
import socket
import subprocess
import sys
from typing import Annotated

import typer

LOOPBACK = "127.0.0.1"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _port_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def server_command(host: str, port: int, production: bool = True) -> list[str]:
    """The ``solara run`` command line for the app (also used by the tests)."""
    cmd = [
        sys.executable,
        "-m",
        "solara",
        "run",
        "sim.ui.app",
        "--host",
        host,
        "--port",
        str(port),
        "--no-open",
    ]
    if production:
        cmd.append("--production")
    return cmd


def server_env(max_workers: int | None = None) -> dict[str, str]:
    """Environment for the server: offline assets, no usage reporting."""
    env = dict(os.environ)
    env.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    env.setdefault("SOLARA_ASSETS_PROXY", "True")  # serve the bundled copies of JS assets
    # Solara warns on every start that cookies cannot be SameSite=None over plain http;
    # that only matters when the app is embedded in another site's iframe.
    env.setdefault("PYTHONWARNINGS", "ignore:Cookies with samesite=none require https")
    # A closed tab's model is freed after 15 minutes (Solara keeps it a day by default, so a
    # classroom reloading pages would pile up models in memory).
    env.setdefault("SOLARA_KERNEL_CULL_TIMEOUT", "15m")
    if max_workers is not None:
        env["CLICKFARM_UI_MAX_WORKERS"] = str(max_workers)
    return env


def register(app: typer.Typer) -> None:
    @app.command()
    def ui(
        port: Annotated[int, typer.Option(help="Port to listen on.")] = 8765,
        host: Annotated[
            str,
            typer.Option(
                help="Address to listen on. The default serves this computer only; use "
                "0.0.0.0 to share the app with a classroom network on purpose."
            ),
        ] = LOOPBACK,
        max_workers: Annotated[
            int,
            typer.Option(help="Largest number of workers a set-up may have in the app."),
        ] = 100_000,
        dev: Annotated[
            bool, typer.Option("--dev", help="Reload when the code changes (development).")
        ] = False,
    ) -> None:
        """Start the browser app: explore, compare and present scenarios (works offline)."""
        if not 0 < port < 65536:
            typer.echo(f"error: --port must be between 1 and 65535, got {port}", err=True)
            raise typer.Exit(2)
        if max_workers < 1:
            typer.echo("error: --max-workers must be at least 1", err=True)
            raise typer.Exit(2)
        if not _port_free(host, port):
            typer.echo(
                f"error: cannot listen on {host}:{port} (in use, or not an address of this "
                "computer); choose another with --port or --host",
                err=True,
            )
            raise typer.Exit(1)
        shown = "127.0.0.1" if host in ("localhost", "0.0.0.0", "::") else host
        typer.echo(f"clickfarm UI: open http://{shown}:{port}/ in a browser (Ctrl+C stops it)")
        if not _is_loopback(host):
            typer.echo(
                f"note: listening on {host}: anyone who can reach this computer on port "
                f"{port} can use the app",
                err=True,
            )
        cmd = server_command(host, port, production=not dev)
        if dev:
            cmd += ["--auto-restart"]
        env = server_env(max_workers)
        sys.stdout.flush()
        sys.stderr.flush()
        if os.name == "posix":
            # become the server, so that stopping this process stops the app
            os.execve(cmd[0], cmd, env)
        try:
            code = subprocess.call(cmd, env=env)
        except KeyboardInterrupt:
            code = 0
        raise typer.Exit(code)
