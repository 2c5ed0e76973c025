"""The class a server hosts: its session, who may steer it, and the clock that runs it.

A :class:`Classroom` wraps one :class:`~sim.classroom.session.ClassSession` (the engine:
join codes, roles, actions, predictions, export) with what the web needs on top of it:

* a **lecturer key**, shown once to whoever started the session (in the terminal, or in
  Presenter mode), without which no lecturer control is accepted;
* a **ticker** thread that advances the model at the lecturer's pace;
* a **version** counter bumped after every simulated hour, so that the projector's
  long-poll learns of a step at once instead of on its next poll.

The hub holds at most one running class per server process (:data:`HUB`); the
``clickfarm classroom`` command and Presenter mode's "Start a class session" button both
go through :meth:`ClassroomHub.start`. Nothing here touches the file system except
:meth:`Classroom.export`, which writes only under a folder the server chose.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TICK_SECONDS = 0.2
"""How often the ticker asks the engine whether an hour is due (real seconds)."""


@dataclass
class Classroom:
    """One running class: the engine's session plus lecturer key, ticker and version.

    Args:
        session: The engine's session (already built and validated).
        join_url: What students open (the QR code encodes it with the code).
        keep_nicknames: The export's default: keep nicknames (True) or replace them with
            random ids; the lecturer can change it when exporting.
    """

    session: Any
    join_url: str
    keep_nicknames: bool = False
    lecturer_key: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    version: int = 0
    """Bumped after every simulated hour, student action and lecturer control."""
    questions: list[Any] = field(default_factory=list)
    """The questions posed through this server, in order (students answer the latest)."""
    revealed: set[str] = field(default_factory=set)
    """Questions whose spread the lecturer has put on the projector (closed to answers)."""
    cache: dict[str, Any] = field(default_factory=dict)
    exported_to: Path | None = None
    last_step_seconds: float = 0.0
    """Wall time the last simulated hour took (shown on the projector)."""
    last_step_at: float = 0.0
    """When the last simulated hour finished (``time.time()``: the benchmark's lag origin)."""
    _busy_until: dict[str, float] = field(default_factory=dict)
    _ticker: threading.Thread | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- identity -----------------------------------------------------------------
    @property
    def code(self) -> str:
        """The join code students type (it stops working when the session ends)."""
        return self.session.join_code

    @property
    def ended(self) -> bool:
        """Whether the lecturer has ended the session."""
        return bool(self.session.ended)

    def is_lecturer(self, key: str | None) -> bool:
        """Whether ``key`` is this class's lecturer key (compared in constant time)."""
        return bool(key) and hmac.compare_digest(str(key).encode(), self.lecturer_key.encode())

    def state(self) -> str:
        """``running``, ``paused``, ``finished`` (last hour reached) or ``ended``."""
        s = self.session
        if s.ended:
            return "ended"
        if s.finished:
            return "finished"
        return "paused" if s.paused else "running"

    def qr_svg(self) -> str:
        """The join link as a QR code (an inline SVG drawn here; nothing is fetched)."""
        cached = self.cache.get("qr")
        if cached is None:
            from sim.ui.links import qr_svg

            cached = self.cache["qr"] = qr_svg(join_link(self.join_url, self.code), scale=6)
        return cached

    def open_questions(self) -> list[Any]:
        """Questions students may still answer (posed and not yet revealed)."""
        return [q for q in self.questions if q.id not in self.revealed]

    # -- a micro-worker's real seconds ---------------------------------------------
    def busy_seconds(self, player_id: str) -> float:
        """Seconds left before this player's last tasks are done (0 when free)."""
        with self._lock:
            return max(0.0, self._busy_until.get(player_id, 0.0) - time.monotonic())

    def keep_busy(self, player_id: str, seconds: float) -> None:
        """The player works (and searches) for ``seconds`` before taking more tasks."""
        with self._lock:
            self._busy_until[player_id] = time.monotonic() + max(0.0, float(seconds))

    # -- the clock ----------------------------------------------------------------
    def start_ticker(self) -> None:
        """Advance the model at the lecturer's pace in a background thread."""
        if self._ticker is not None:
            return
        self._ticker = threading.Thread(target=self._run, name="classroom-ticker", daemon=True)
        self._ticker.start()

    def _run(self) -> None:
        while not self._stop.wait(TICK_SECONDS):
            if self.ended:
                return
            started = time.perf_counter()
            hours = self.session.tick()
            if hours:
                self.last_step_seconds = (time.perf_counter() - started) / hours
                self.last_step_at = time.time()
                self.bump()

    def step(self, hours: int) -> int:
        """Run ``hours`` simulated hours now (the lecturer's Step button)."""
        started = time.perf_counter()
        ran = self.session.step(hours)
        self.last_step_seconds = (time.perf_counter() - started) / max(ran, 1)
        self.last_step_at = time.time()
        self.bump()
        return ran

    def bump(self) -> None:
        """Tell waiting projector pages that something changed."""
        with self._lock:
            self.version += 1

    def stop(self) -> None:
        """Stop the ticker (the session itself is ended by the lecturer)."""
        self._stop.set()

    # -- export -------------------------------------------------------------------
    def export(self, base: Path, keep_nicknames: bool) -> Path:
        """Write the session's export under ``base`` (once; later calls return it).

        The folder name is the code and the time; no part of it comes from a request.
        """
        with self._lock:
            if self.exported_to is not None:
                return self.exported_to
            folder = base / f"class-{self.code}-{time.strftime('%Y%m%d-%H%M%S')}"
            self.session.export(folder, keep_nicknames=keep_nicknames)
            self.exported_to = folder
            return folder


class ClassroomHub:
    """The class a server process hosts (at most one running at a time)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.current: Classroom | None = None
        self.export_base = Path("runs") / "classroom"

    def start(
        self,
        scenario: Any,
        *,
        join_url: str,
        seed: int | None = None,
        pace: float | None = None,
        keep_nicknames: bool = False,
    ) -> Classroom:
        """Start a class on ``scenario`` (a validated Scenario or a shipped name).

        A class that is already running is returned unchanged (one per server), so two
        clicks on "Start a class session" do not start two classes.

        Raises:
            ScenarioError: the scenario does not validate.
            SessionError: the pace is out of range.
        """
        from sim.classroom.session import ClassSession

        with self._lock:
            if self.current is not None and not self.current.ended:
                return self.current
            extra = {} if pace is None else {"pace": pace}
            session = ClassSession(scenario, seed=seed, **extra)
            room = Classroom(session, join_url=join_url, keep_nicknames=keep_nicknames)
            room.start_ticker()
            self.current = room
            return room

    def find(self, code: str) -> Classroom | None:
        """The class whose code this is (ended or not), or None."""
        from sim.classroom.actions import normalise_code

        room, typed = self.current, normalise_code(code)
        # compared as bytes: compare_digest refuses str with non-ASCII characters
        if (
            room is not None
            and typed.isascii()
            and hmac.compare_digest(typed.encode(), room.code.encode())
        ):
            return room
        return None


HUB = ClassroomHub()
"""The server process's classroom (the web routes and Presenter mode share it)."""


def join_link(join_url: str, code: str) -> str:
    """The join page's address with the code filled in (what the QR code encodes)."""
    return f"{join_url}?code={code}"
