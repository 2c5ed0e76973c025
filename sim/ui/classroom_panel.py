"""Presenter mode's "Start a class session": a live class on the app's own server.

The class runs on the same server as the app (its pages live under ``/class``), built
from the run on screen: same set-up, same seed. The panel shows the join code, the
address and a QR code for students, and a link to the projector page, which carries the
lecturer key: whoever can open this app can steer the class, so share the app itself
only on loopback (``clickfarm classroom`` is the way to serve students on a network).
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import solara

from sim.classroom.hub import HUB, join_link
from sim.classroom.launch import lecturer_url
from sim.ui.server import SERVER_URL_ENV
from sim.ui.state import guarded, live, page_base
from sim.ui.widgets import esc

DEFAULT_BASE = "http://127.0.0.1:8765"


def server_base(seen: str | None) -> str:
    """The app's origin: as the browser reached it, else as the server was started."""
    parts = urlsplit(seen or "")
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return os.environ.get(SERVER_URL_ENV, DEFAULT_BASE).rstrip("/")


@solara.component
def ClassSessionPanel():
    """The button that starts a class on the run on screen, then the class's join details."""
    room, set_room = solara.use_state(
        HUB.current if HUB.current and not HUB.current.ended else None
    )
    run = live.value

    def start():
        base = server_base(page_base.value)
        set_room(HUB.start(run.scenario, seed=run.seed, join_url=f"{base}/class/"))

    if room is None or room.ended:
        solara.Button(
            "Start a class session",
            on_click=guarded(start),
            disabled=run is None,
            outlined=True,
            classes=["cf-class-start"],
        )
        return
    base = server_base(room.join_url)
    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            f"Class session: join at <b>{esc(room.join_url)}</b> with the code "
            f"<b data-testid='class-code' class='cf-class-code'>{esc(room.code)}</b>"
        ),
    )
    solara.HTML(
        tag="div",
        unsafe_innerHTML=room.qr_svg(),
        classes=["cf-qr"],
        attributes={"data-testid": "class-qr", "title": join_link(room.join_url, room.code)},
    )
    solara.HTML(
        tag="a",
        unsafe_innerHTML="Open the class projector (lecturer only)",
        attributes={
            "href": lecturer_url(base, room.lecturer_key),
            "target": "_blank",
            "rel": "noopener",
            "data-testid": "class-projector",
        },
    )
