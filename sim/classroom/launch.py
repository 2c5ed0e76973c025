"""``clickfarm classroom``: build the session, print how to join, then serve it.

The server runs in this process (not ``exec``-ed like ``clickfarm ui``) because the
session, its join code and its lecturer key are made here, before the first request:
the code is printed for the projector and the key goes only to the lecturer's terminal.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path

from sim.scenario.errors import ScenarioError
from sim.scenario.schema import Scenario
from sim.ui.server import (
    SERVER_URL_ENV,
    WILDCARD_ADDRESSES,
    allowed_hosts,
    is_loopback,
    server_env,
    server_url,
)


def lan_address() -> str | None:
    """This computer's address on its local network, as its own name resolves (no traffic)."""
    try:
        address = socket.gethostbyname(socket.gethostname())
    except OSError:
        return None
    return None if is_loopback(address) else address


def lecturer_url(base: str, key: str) -> str:
    """The projector page's address; the key rides in the fragment, never sent in requests."""
    return f"{base}/class/lecturer#key={key}"


def serve_classroom(
    scenario: Scenario,
    *,
    host: str,
    port: int,
    seed: int | None,
    pace: float | None,
    keep_nicknames: bool,
    allow_hosts: list[str],
    export_dir: Path,
    echo: Callable[..., None],
) -> int:
    """Start the class on ``scenario`` and serve it until interrupted.

    Args:
        scenario: The validated scenario.
        host: Address to listen on (loopback unless the lecturer chose otherwise).
        port: Port to listen on.
        seed: The run's seed (default the scenario's).
        pace: Simulated hours per real minute (default the engine's).
        keep_nicknames: The export's default for nicknames.
        allow_hosts: Further names students' browsers may use (the Host allow-list).
        export_dir: Where the session's export folder is written.
        echo: Prints a line (``to_err=True`` for notes).

    Returns:
        The exit code (0 after Ctrl+C; 1 when the port cannot be used).

    Raises:
        ScenarioError: the pace is out of range (a one-line error, exit code 2).
    """
    from sim.classroom.session import SessionError
    from sim.ui.commands import _port_free

    if not _port_free(host, port):
        echo(
            f"error: cannot listen on {host}:{port} (in use, or not an address of this "
            "computer); choose another with --port or --host",
            to_err=True,
        )
        return 1
    extra = list(allow_hosts)
    if host in WILDCARD_ADDRESSES and not extra and (guess := lan_address()):
        extra.append(guess)
    hosts = allowed_hosts(host, extra)
    # Solara reads its settings from the environment when first imported: set them first.
    os.environ.update(server_env(hosts))
    base = server_url(host, port, hosts)
    os.environ[SERVER_URL_ENV] = base
    from sim.classroom.hub import HUB, join_link

    HUB.export_base = export_dir
    try:
        room = HUB.start(
            scenario,
            seed=seed,
            pace=pace,
            join_url=f"{base}/class/",
            keep_nicknames=keep_nicknames,
        )
    except SessionError as exc:
        raise ScenarioError(f"--pace: {exc}", file="command line") from None
    echo(f"clickfarm classroom: {scenario.title}")
    echo(f"Join code: {room.code}")
    echo(f"Students open: {room.join_url}  (or {join_link(room.join_url, room.code)})")
    projector = lecturer_url(base, room.lecturer_key)
    echo(f"Projector (lecturer only, keep this link to yourself): {projector}")
    if is_loopback(host):
        echo(
            "note: listening on this computer only; to let students' devices join, "
            "start with --host 0.0.0.0",
            to_err=True,
        )
    else:
        echo(f"note: answering requests addressed to {', '.join(hosts)}", to_err=True)
        if all(is_loopback(name) for name in hosts):
            echo(
                "note: this computer's network address is unknown here: start again with "
                f"--allow-host ADDRESS and give students http://ADDRESS:{port}/class/",
                to_err=True,
            )
    echo("Ctrl+C stops the session (export it from the projector first).", to_err=True)
    import uvicorn

    from sim.ui.server import create_app

    try:
        uvicorn.run(create_app(), host=host, port=port, log_level="warning")
    except KeyboardInterrupt:
        pass
    finally:
        room.stop()
    return 0
