"""The classroom's web side: student pages, the projector page and their JSON endpoints.

Mounted under ``/class`` on the same ASGI app that serves the Solara UI
(:func:`sim.ui.server.create_app`), behind the same Host-header allow-list. The pages
are plain HTML with a little vanilla JavaScript, served from this package (no CDN: the
projector's charts use the ECharts copy that ``solara-assets`` bundles), so a phone
on a classroom network loads a few kilobytes and polls small JSON answers.

Who may do what:

* a student joins with the code and a nickname and gets the engine's player token as an
  ``HttpOnly``, ``SameSite=Strict`` cookie; every student request is answered for the
  player that token belongs to, so a student can only see and act for their own agent;
* the lecturer sends the key shown to whoever started the session (header
  ``X-Lecturer-Key``); without it no control is accepted;
* every POST must be a small JSON body (``Content-Type: application/json``, at most
  :data:`MAX_BODY` bytes), which a cross-site form cannot send;
* a refused action is an HTTP error with a one-line ``error``: 429 when the student is
  acting too fast, 410 once the session has ended, 400/403/404 otherwise.

Nothing a request carries reaches the file system: the export folder is named by the
server, and the static files come from a fixed list.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import math
import time
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from sim.classroom import charts as class_charts
from sim.classroom.hub import HUB, Classroom, join_link

STATIC = Path(__file__).with_name("static")
PAGES = {
    "": "student.html",
    "lecturer": "lecturer.html",
}
ASSETS = {
    "classroom.css": "text/css",
    "student.js": "text/javascript",
    "lecturer.js": "text/javascript",
}
"""The only files served (by fixed name, never from a path in the request)."""
COOKIE = "cf_class"
MAX_BODY = 4096
"""Largest request body accepted (bytes); every legitimate request is far smaller."""
LONG_POLL_SECONDS = 8.0
"""How long the projector's request waits for a change before answering anyway."""
WAIT_STEP = 0.03
RATE_LIMITED = "too many actions"
"""How the engine's refusals for acting too fast begin (answered 429)."""


class Refused(Exception):
    """A request answered with an HTTP error and a one-line reason."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


# ------------------------------------------------------------------ helpers
def jsonable(value: Any) -> Any:
    """Dataclasses, tuples and numpy scalars as plain JSON values (NaN becomes None)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return number if math.isfinite(number) else None


def _answer(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(jsonable(data), status_code=status, headers={"Cache-Control": "no-store"})


def _error(status: int, reason: str) -> JSONResponse:
    return JSONResponse(
        {"error": reason}, status_code=status, headers={"Cache-Control": "no-store"}
    )


async def _body(request: Request) -> dict[str, Any]:
    """The request's JSON object, or :class:`Refused` (wrong type, too large, not JSON)."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise Refused(415, "expected a JSON request")
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
        raise Refused(413, "request too large")
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY:
            raise Refused(413, "request too large")
    try:
        data = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise Refused(400, "the request is not valid JSON") from None
    if not isinstance(data, dict):
        raise Refused(400, "expected a JSON object")
    return data


def _room() -> Classroom:
    room = HUB.current
    if room is None:
        raise Refused(404, "no class session is running on this server")
    return room


def _student(request: Request) -> tuple[Classroom, Any]:
    """The class and the player whose cookie came with the request."""
    from sim.classroom.session import SessionError

    room = _room()
    if room.ended:
        raise Refused(410, "this session has ended")
    token = request.cookies.get(COOKIE, "")
    try:
        return room, room.session.player(token)
    except SessionError:
        raise Refused(401, "join the session first (your browser has no place in it)") from None


def _lecturer(request: Request) -> Classroom:
    room = _room()
    if not room.is_lecturer(request.headers.get("x-lecturer-key")):
        raise Refused(403, "only the lecturer can do that (the key is missing or wrong)")
    return room


def _text(data: dict[str, Any], name: str, limit: int = 200) -> str:
    value = data.get(name, "")
    if not isinstance(value, str):
        raise Refused(400, f"expected {name} as text")
    return value[:limit]


def _number(data: dict[str, Any], name: str, *, optional: bool = False) -> float | None:
    value = data.get(name)
    if value is None or value == "":
        if optional:
            return None
        raise Refused(400, f"expected a number for {name}")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise Refused(400, f"expected a number for {name}")
    try:
        number = float(value)
    except ValueError:
        raise Refused(400, f"expected a number for {name}, got {str(value)[:20]!r}") from None
    if not math.isfinite(number):
        raise Refused(400, f"expected a finite number for {name}")
    return number


def _whole(data: dict[str, Any], name: str, default: int | None = None) -> int:
    number = _number(data, name, optional=default is not None)
    if number is None:
        return int(default)  # type: ignore[arg-type]
    if number != int(number) or abs(number) > 10**9:
        raise Refused(400, f"expected a whole number for {name}")
    return int(number)


def guarded(handler):
    """Turn :class:`Refused` and the engine's refusals into one-line JSON errors."""

    async def endpoint(request: Request) -> Response:
        from sim.classroom.session import SessionError

        try:
            return await handler(request)
        except Refused as exc:
            return _error(exc.status, exc.reason)
        except SessionError as exc:
            reason = str(exc)
            return _error(410 if "has ended" in reason else 400, reason)

    return endpoint


def off_loop(handler):
    """A guarded endpoint whose work runs in a worker thread, off the event loop.

    The work takes the session's lock, which a step holds for milliseconds (more on a
    big scenario): waiting for it in a thread keeps every other request, and the
    projector's long-poll, answering meanwhile. The body is read first, on the loop.
    """

    async def endpoint(request: Request) -> Response:
        data = await _body(request) if request.method == "POST" else {}
        return await asyncio.to_thread(handler, request, data)

    endpoint.__doc__ = handler.__doc__
    return guarded(endpoint)


# ------------------------------------------------------------------ pages
async def page(request: Request) -> Response:
    """A page by its fixed name (the join/role page or the projector)."""
    name = PAGES.get(request.path_params.get("page", ""))
    if name is None:
        return _error(404, "no such page")
    return FileResponse(
        STATIC / name, media_type="text/html", headers={"Cache-Control": "no-store"}
    )


async def asset(request: Request) -> Response:
    """One of the fixed script and style files."""
    name = request.path_params["name"]
    if name not in ASSETS:
        return _error(404, "no such file")
    return FileResponse(STATIC / name, media_type=ASSETS[name])


# ------------------------------------------------------------------ students
def _player_json(player: Any) -> dict[str, Any]:
    return {"nickname": player.nickname, "role": player.role, "agent": player.agent_label}


@off_loop
def join(request: Request, data: dict[str, Any]) -> Response:
    """Join with ``{code, nickname}``; sets the player's cookie."""
    code, nickname = _text(data, "code", 40), _text(data, "nickname", 200)
    room = HUB.find(code)
    if room is None:
        raise Refused(404, "wrong join code; check the code on the projector")
    if room.ended:
        raise Refused(410, "this session has ended; its join code no longer works")
    player = room.session.join(code, nickname)
    response = _answer({"player": _player_json(player), "free": room.session.free_agents()})
    response.set_cookie(COOKIE, player.token, httponly=True, samesite="strict", path="/class")
    return response


@off_loop
def choose_role(request: Request, data: dict[str, Any]) -> Response:
    """Take one free agent of ``{role}``."""
    room, player = _student(request)
    player = room.session.choose_role(player, _text(data, "role", 20))
    room.bump()
    return _answer({"player": _player_json(player)})


def _open_question(room: Classroom) -> dict[str, Any] | None:
    questions = room.open_questions()
    return jsonable(questions[-1]) if questions else None


@off_loop
def me(request: Request, data: dict[str, Any]) -> Response:
    """The student's own screen: player, their role's view, the open question."""
    room, player = _student(request)
    session = room.session
    view = session.view(player) if player.role else None
    return _answer(
        {
            "player": _player_json(player),
            "free": session.free_agents() if not player.role else {},
            "view": view,
            "question": _open_question(room),
            "state": room.state(),
            "busy_seconds": room.busy_seconds(player.id),
            "currency": session.spec.currency.code,
        }
    )


def _action(role: str, data: dict[str, Any]):
    """The engine's typed action for ``role`` built from the request's fields."""
    from sim.classroom.actions import DoTasks, Judge, PlaceOrder, SetRates

    if role == "worker":
        return DoTasks(
            _text(data, "campaign", 80), _text(data, "action", 40), _whole(data, "tasks", 1)
        )
    if role == "broker":
        return SetRates(
            _text(data, "action", 40),
            pay=_number(data, "pay", optional=True),
            price=_number(data, "price", optional=True),
        )
    if role == "moderator":
        return Judge(_text(data, "item", 80), _text(data, "verdict", 20))
    if role == "client":
        return PlaceOrder(
            _text(data, "action", 40),
            _whole(data, "quantity"),
            deadline_hours=_whole(data, "deadline_hours", 24),
        )
    raise Refused(400, "choose a role first")


@off_loop
def act(request: Request, data: dict[str, Any]) -> Response:
    """One action for the student's own agent (refused with 429 when too fast)."""
    room, player = _student(request)
    action = _action(player.role or "", data)
    wait = room.busy_seconds(player.id)
    if wait > 0:
        raise Refused(429, f"you are still busy with your last task ({wait:.0f} s left)")
    receipt = room.session.act(player, action)
    if not receipt.accepted:
        status = 429 if receipt.reason.startswith(RATE_LIMITED) else 400
        raise Refused(status, receipt.reason)
    if player.role == "worker":
        room.keep_busy(player.id, _task_seconds(room, player, action))
    room.bump()
    return _answer(
        {"accepted": True, "hour": receipt.hour, "busy_seconds": room.busy_seconds(player.id)}
    )


def _task_seconds(room: Classroom, player: Any, action: Any) -> float:
    """Real seconds a worker is busy after taking tasks: the work plus finding each one."""
    view = room.session.view(player)
    for offer in view.tasks:
        if offer.campaign == action.campaign and offer.action == action.action:
            return action.tasks * (offer.seconds_per_task + offer.search_seconds)
    return 0.0


@off_loop
def answer(request: Request, data: dict[str, Any]) -> Response:
    """A prediction ``{question, value}``."""
    room, player = _student(request)
    value = data.get("value")
    if not isinstance(value, int | float | str) or isinstance(value, bool):
        raise Refused(400, "expected a number or a choice as the answer")
    receipt = room.session.answer(player, _text(data, "question", 20), value)
    if not receipt.accepted:
        raise Refused(400, receipt.reason)
    room.bump()
    return _answer({"accepted": True})


# ------------------------------------------------------------------ lecturer
@guarded
async def lecturer_state(request: Request) -> Response:
    """The projector's state; with ``?after=V`` it waits until something changed since V."""
    room = _lecturer(request)
    after = request.query_params.get("after", "")
    if after.lstrip("-").isdigit():
        deadline = time.monotonic() + LONG_POLL_SECONDS
        while room.version <= int(after) and time.monotonic() < deadline:
            await asyncio.sleep(WAIT_STEP)
    return _answer(await asyncio.to_thread(projector_state, room))


def projector_state(room: Classroom) -> dict[str, Any]:
    """Everything the projector draws, built once per version and shared by every poll."""
    version = room.version
    cached = room.cache.get("projector")
    if cached is not None and cached[0] == version:
        return cached[1]
    session = room.session
    view = session.lecturer_view()
    spreads = [session.spread(q.id) for q in view.questions]
    option_money, option_network = session.read(lambda model: class_charts.options(model, view))
    state = {
        "version": version,
        "view": view,
        "spreads": spreads,
        "revealed": sorted(room.revealed),
        "money": option_money,
        "network": option_network,
        "join": {
            "code": view.join_code,
            "url": room.join_url,
            "link": join_link(room.join_url, room.code),
            "qr": room.qr_svg(),
        },
        "exported": str(room.exported_to) if room.exported_to else None,
        "keep_nicknames": room.keep_nicknames,
        "step_seconds": room.last_step_seconds,
        "stepped_at": room.last_step_at,
    }
    room.cache["projector"] = (version, state)
    return state


CONTROLS = ("pause", "resume", "step", "pace", "trigger", "pose", "reveal", "end", "export")


@guarded
async def control(request: Request) -> Response:
    """A lecturer control ``{do: ..., ...}``: one of :data:`CONTROLS`."""
    data = await _body(request)
    room = _lecturer(request)
    command = _text(data, "do", 20)
    if command not in CONTROLS:
        raise Refused(400, f"unknown control {command!r}; expected one of: {', '.join(CONTROLS)}")
    result = await asyncio.to_thread(_control, room, command, data)
    room.bump()
    return _answer({"ok": True, **result})


def _control(room: Classroom, command: str, data: dict[str, Any]) -> dict[str, Any]:
    session = room.session
    if command == "pause":
        session.pause()
    elif command == "resume":
        session.resume()
    elif command == "step":
        return {"hours": room.step(_whole(data, "hours", 1))}
    elif command == "pace":
        return {"pace": session.set_pace(_number(data, "pace"))}
    elif command == "trigger":
        return {"hour": session.trigger(_text(data, "event", 80))}
    elif command == "pose":
        kind = _text(data, "kind", 20) or "share"
        choices = data.get("choices") or []
        if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
            raise Refused(400, "expected choices as a list of texts")
        metric = _text(data, "metric", 60) or None
        extra = {}
        if kind == "number":
            extra = {"low": _number(data, "low"), "high": _number(data, "high")}
        question = session.pose(
            _text(data, "text", 400), kind=kind, choices=choices[:8], metric=metric, **extra
        )
        room.questions.append(question)
        return {"question": jsonable(question)}
    elif command == "reveal":
        question = _text(data, "question", 20)
        session.spread(question)  # an unknown question is refused here
        room.revealed.add(question)
    elif command == "end":
        session.end()
    else:  # export (ends the session first: the export is what was played)
        if session.read(lambda model: model.steps) < 1:
            raise Refused(400, "nothing to export yet: run at least one hour first")
        session.end()
        keep = bool(data.get("keep_nicknames", room.keep_nicknames))
        room.keep_nicknames = keep
        folder = room.export(HUB.export_base, keep_nicknames=keep)
        return {"folder": str(folder)}
    return {}


# ------------------------------------------------------------------ the app
def create_classroom_app() -> Starlette:
    """The Starlette app serving ``/class/...`` (mounted by :mod:`sim.ui.server`)."""
    routes = [
        Route("/class/", page, methods=["GET"]),
        Route("/class", page, methods=["GET"]),
        Route("/class/{page:str}", page, methods=["GET"]),
        Route("/class/static/{name:str}", asset, methods=["GET"]),
        Route("/class/api/join", join, methods=["POST"]),
        Route("/class/api/role", choose_role, methods=["POST"]),
        Route("/class/api/me", me, methods=["GET"]),
        Route("/class/api/act", act, methods=["POST"]),
        Route("/class/api/answer", answer, methods=["POST"]),
        Route("/class/api/lecturer", lecturer_state, methods=["GET"]),
        Route("/class/api/control", control, methods=["POST"]),
    ]
    return Starlette(routes=routes)
