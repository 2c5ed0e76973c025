"""``clickfarm ui``: start the browser app (registered by ``sim/cli.py``)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from typing import Annotated

import typer

from sim.ui.server import allowed_hosts, is_loopback, server_command, server_env

LOOPBACK = "127.0.0.1"


def _port_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def register(app: typer.Typer) -> None:
    """Add the ``ui`` command, which serves the browser app, to the CLI ``app``."""

    @app.command()
    def ui(
        port: Annotated[int, typer.Option(help="Port to listen on.", metavar="PORT")] = 8765,
        host: Annotated[
            str,
            typer.Option(
                metavar="ADDRESS",
                help="Address to listen on. The default serves this computer only; use "
                "0.0.0.0 to share the app with a classroom network on purpose.",
            ),
        ] = LOOPBACK,
        allow_host: Annotated[
            list[str] | None,
            typer.Option(
                metavar="NAME",
                help="A further name or address that browsers may use to reach the app (the "
                "one students type, with --host 0.0.0.0); repeat for several. Requests "
                "naming any other host are refused, so other web sites cannot reach the app.",
            ),
        ] = None,
        max_workers: Annotated[
            int,
            typer.Option(
                metavar="N", help="Largest number of workers a set-up may have in the app."
            ),
        ] = 100_000,
        dev: Annotated[
            bool,
            typer.Option("--dev", metavar="", help="Reload when the code changes (development)."),
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
        if not is_loopback(host):
            typer.echo(
                f"note: listening on {host}: anyone who can reach this computer on port "
                f"{port} can use the app",
                err=True,
            )
        hosts = allowed_hosts(host, allow_host or [])
        if not is_loopback(host):
            typer.echo(f"note: answering requests addressed to {', '.join(hosts)}", err=True)
        cmd = server_command(host, port, dev=dev)
        env = server_env(hosts, max_workers, production=not dev)
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
