"""A live classroom session: students each drive one agent of a shared model.

API summary (everything is thread-safe: one lock guards the session and its model)::

    s = ClassSession("baseline_microtask_market", seed=1)   # or a validated Scenario
    s.join_code                                  # "K7QMPX": shown on the projector
    p = s.join("k7qmpx", "Ada")                  # Player; same code + nickname -> same Player
    p = s.choose_role(p, "worker")               # binds one free agent of that role
    s.view(p)                                    # WorkerView, BrokerView, ModeratorView...
    s.act(p, DoTasks("brand_page_growth", "like", 2))        # Receipt(accepted, reason, hour)
    s.act(p, SetRates("like", pay=0.03)); s.act(p, Judge(item, "fake"))
    s.act(p, PlaceOrder("like", 200, deadline_hours=12))
    q = s.pose("What share reaches workers?", kind="share", metric="worker_share_of_spend")
    s.answer(p, q.id, 0.4); s.spread(q.id)       # Spread: answers, quantiles, outcome
    s.resume(); s.pause(); s.step(3); s.set_pace(60); s.trigger("purge_day3"); s.end()
    s.tick()                                     # advance by the pace (or s.start_clock())
    s.lecturer_view()                            # LecturerView: roles, players, flows, board
    s.export("out/lesson1")                      # run/, actions.csv, predictions.csv, session.yaml
    s.read(lambda model: ...)                    # read the model under the lock

How a session stays replayable: an accepted action is queued, and at the next step it
becomes a dated scenario event of the hour it takes effect in (``sim/scenario/schema.py``,
the student-driven kinds); the model applies those events exactly as it applies a scenario
file's. ``session.yaml`` is the scenario with every recorded event appended and the run's
length, so ``clickfarm run session.yaml`` gives bit-identical outputs to the live run.

Refusals: ``join``, ``choose_role``, ``pose``, ``trigger`` and ``export`` raise
:class:`SessionError` (a one-line reason for the student or lecturer); ``act`` and
``answer`` return a refused :class:`Receipt`, and every action, accepted or refused, is
kept for ``actions.csv``.
"""

from __future__ import annotations

import csv
import json
import math
import os
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import yaml

from sim.classroom import predictions as pred
from sim.classroom.actions import (
    ACTION_ROLE,
    ROLES,
    Action,
    DoTasks,
    Judge,
    PlaceOrder,
    Receipt,
    SetRates,
    TokenBucket,
    clean_nickname,
    new_join_code,
    normalise_code,
)
from sim.classroom.views import (
    BrokerView,
    ClientView,
    ModeratorView,
    WorkerView,
    broker_view,
    client_budget,
    client_view,
    committed,
    moderator_view,
    queue_counts,
    worker_view,
)
from sim.core import rules
from sim.core.metrics import METRICS
from sim.core.model import ClickFarmModel
from sim.run.outputs import (
    RunResult,
    agents_frame,
    build_manifest,
    money_destinations,
    summarise,
    timeseries_frame,
    write_results,
)
from sim.scenario.errors import ScenarioError
from sim.scenario.load import ScenarioSource, load_scenario, resolved_dict
from sim.scenario.schema import (
    ACTION_TYPES,
    MAX_TASKS_PER_HOUR,
    MAX_VERDICTS_PER_HOUR,
    Event,
    Scenario,
)
from sim.scenario.student_events import STUDENT_CHECKS, human_rows, leaf_recruiters

T = TypeVar("T")

MAX_PLAYERS = 200
"""Default cap on players in one session (the issue asks for at least 60)."""
PACE_RANGE = (0.1, 600.0)
"""Simulated hours per real minute the lecturer may set."""
MAX_STEPS_PER_TICK = 24
"""Most hours one tick advances: a late tick never stalls the session."""
MAX_STEPS_PER_CALL = 24 * 7
"""Most hours one lecturer ``step`` call runs."""
MAX_RATE = Decimal(100)
"""Highest pay or price per action a student broker may set (major units)."""
MAX_ORDER = 1_000_000
"""Most actions in one student client order."""
MAX_DEADLINE_HOURS = 24 * 14
MAX_QUESTIONS = 50
BUCKET_BURST, BUCKET_RATE = 10.0, 3.0
"""Default rate limit: 10 actions at once, then 3 a second."""
DEFAULT_PACE = 30.0


class SessionError(Exception):
    """A request the session refuses; ``str(error)`` is a one-line reason to show."""


@dataclass(frozen=True)
class Player:
    """A student in the session.

    ``id`` is random and stable (it replaces the nickname in exports); ``token`` is a
    secret the web layer can keep in the student's browser to authenticate actions.
    ``agent`` is the driven agent's number: a worker row, a recruiter index, a
    moderator number or a campaign index; ``agent_label`` names it for people.
    """

    id: str
    token: str
    nickname: str
    role: str | None = None
    agent: int | None = None
    agent_label: str = ""


@dataclass(frozen=True)
class PlayerInfo:
    """A player as the projector shows it."""

    id: str
    nickname: str
    role: str | None
    agent: int | None
    agent_label: str
    connected_seconds_ago: float


@dataclass(frozen=True)
class Flow:
    """Money along one link of the money diagram (major units, so far)."""

    source: str
    target: str
    amount: float


@dataclass(frozen=True)
class LeaderRow:
    """One line of the leaderboard."""

    nickname: str
    role: str
    score: float
    unit: str


@dataclass(frozen=True)
class LecturerView:
    """The projector's snapshot of the session.

    ``state`` is ``paused``, ``running``, ``finished`` (the run reached its last hour) or
    ``ended``; ``join_code`` is None once the session has ended.
    """

    hour: int
    hours: int
    state: str
    pace: float
    join_code: str | None
    players: list[PlayerInfo]
    role_counts: dict[str, int]
    free_agents: dict[str, int]
    highlighted: dict[str, list[str]]  # per role, the ids of agents students drive
    flows: list[Flow]
    destinations: dict[str, float]
    metrics: dict[str, float]
    leaderboard: list[LeaderRow]
    triggers: list[str]  # ids of the scenario's own events the lecturer can fire now
    questions: list[pred.Question]
    actions_accepted: int
    actions_refused: int


@dataclass
class _Seat:
    """A player's state inside the session (mutable; never handed out)."""

    player: Player
    bucket: TokenBucket
    last_seen: float
    orders: list[str] = field(default_factory=list)  # client: names of its orders

    @property
    def id(self) -> str:
        return self.player.id

    @property
    def token(self) -> str:
        return self.player.token

    @property
    def nickname(self) -> str:
        return self.player.nickname

    @property
    def role(self) -> str | None:
        return self.player.role

    @property
    def agent(self) -> int | None:
        return self.player.agent

    @property
    def label(self) -> str:
        return self.player.agent_label

    def public(self) -> Player:
        return self.player


@dataclass
class ActionRecord:
    """One student (or lecturer) action, accepted or refused, as ``actions.csv`` keeps it."""

    seq: int
    wall_seconds: float  # since the session started
    utc: str
    hour: int  # the simulated hour it takes effect in (or would have)
    player: str
    nickname: str
    role: str
    agent: str
    action: str
    detail: str  # the action's fields, as JSON
    accepted: bool
    reason: str
    event: str = ""  # the recorded event it became ("" until its step, or if refused)


@dataclass
class _Queued:
    """An accepted action waiting for the next step."""

    record: ActionRecord
    seat: _Seat | None
    fields: dict[str, Any]


class ClassSession:
    """A shared run that students join from their devices (see the module docstring).

    Args:
        scenario: A shipped scenario name, a path or a validated ``Scenario``.
        seed: The run's seed; default the scenario's own.
        max_players: Cap on players (join refuses beyond it).
        pace: Simulated hours per real minute while running.
        clock: Monotonic seconds (injectable for tests); default ``time.monotonic``.
        bucket: ``(burst, per_second)`` of each player's rate limit.
    """

    def __init__(
        self,
        scenario: ScenarioSource = "baseline_microtask_market",
        *,
        seed: int | None = None,
        max_players: int = MAX_PLAYERS,
        pace: float = DEFAULT_PACE,
        clock: Callable[[], float] = time.monotonic,
        bucket: tuple[float, float] = (BUCKET_BURST, BUCKET_RATE),
    ) -> None:
        spec = load_scenario(scenario)
        self.seed = int(spec.seed if seed is None else seed)
        self.spec: Scenario = spec
        self.model = ClickFarmModel(spec, rng=self.seed)
        self._lock = threading.RLock()
        self._clock = clock
        self._started = clock()
        self._last_tick = self._started
        self._carry = 0.0
        self._bucket = bucket
        self.max_players = int(max_players)
        self.pace = self._bounded_pace(pace)
        self.join_code = new_join_code()
        self.paused = True
        self.ended = False
        self._seats: dict[str, _Seat] = {}  # by casefolded nickname
        self._by_token: dict[str, _Seat] = {}
        self._taken: dict[str, dict[int, str]] = {r: {} for r in ROLES}  # agent -> player id
        self._queue: list[_Queued] = []
        self._log: list[ActionRecord] = []
        self.events: list[Event] = []  # every event recorded, in the order applied
        self._takes: list[Event] = []  # the recorded events that hand an agent to a student
        self._event_ids = {e.id for e in spec.events}
        self._questions: dict[str, pred.Question] = {}
        self._answers: dict[str, dict[str, float | str]] = {}
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._index = {c.id: i for i, c in enumerate(spec.campaigns)}
        self._leaves = [self.model.market.index[r] for r in leaf_recruiters(spec)]
        self._human = [range(first, end) for first, end in human_rows(spec)]  # per group

    # ------------------------------------------------------------------ players
    def join(self, code: str, nickname: str) -> Player:
        """Join with the projector's code; the same code and nickname rejoin as before.

        Raises:
            SessionError: wrong code, session ended, bad nickname, or the session is full.
        """
        with self._lock:
            if self.ended:
                raise SessionError("this session has ended; its join code no longer works")
            if not secrets.compare_digest(normalise_code(code).encode(), self.join_code.encode()):
                raise SessionError("wrong join code; check the code on the projector")
            name = clean_nickname(nickname)
            if not name:
                raise SessionError("expected a nickname of letters or digits")
            seat = self._seats.get(name.casefold())
            now = self._clock()
            if seat is None:
                if len(self._seats) >= self.max_players:
                    raise SessionError(f"the session is full ({self.max_players} players)")
                player = Player("p" + secrets.token_hex(4), secrets.token_urlsafe(16), name)
                seat = _Seat(player, TokenBucket(*self._bucket, now), now)
                self._seats[name.casefold()] = seat
                self._by_token[seat.token] = seat
            seat.last_seen = now
            return seat.public()

    def player(self, token: str) -> Player:
        """The player a token belongs to (the web layer's session cookie).

        Raises:
            SessionError: the token is unknown or the session has ended.
        """
        with self._lock:
            return self._seat(token, acting=False).public()

    def choose_role(self, player: Player | str, role: str) -> Player:
        """Drive one free agent of ``role``; choosing the role you already have is a no-op.

        Raises:
            SessionError: unknown role, a different role already chosen, or none left.
        """
        with self._lock:
            seat = self._seat(player)
            if role not in ROLES:
                raise SessionError(
                    f"unknown role '{_short(role)}'; expected one of: {', '.join(ROLES)}"
                )
            if seat.role == role:
                return seat.public()
            if seat.role is not None:
                raise SessionError(f"you already drive {seat.label}; a player keeps one agent")
            agent = self._free_agent(role)
            if agent is None:
                raise SessionError(f"no {role} is left to take; choose another role")
            seat.player = replace(
                seat.player, role=role, agent=agent, agent_label=self._label(role, agent)
            )
            self._taken[role][agent] = seat.id
            if role == "worker":
                self._enqueue(seat, "take", {"kind": "student_worker", "worker": agent})
            elif role == "moderator":
                self._enqueue(seat, "take", {"kind": "student_moderator", "moderator": agent})
            return seat.public()

    def free_agents(self) -> dict[str, int]:
        """How many agents of each role are still free."""
        with self._lock:
            return {r: self._count(r) - len(self._taken[r]) for r in ROLES}

    def _count(self, role: str) -> int:
        """Agents of ``role`` in the model, taken or not."""
        if role == "worker":
            return sum(len(rows) for rows in self._human)
        return len(self._candidates(role))

    def _candidates(self, role: str) -> list[int]:
        if role == "broker":
            return self._leaves
        if role == "moderator":
            return list(range(self.model.moderation.capacity_limit))
        return list(range(len(self.spec.campaigns)))

    def _free_agent(self, role: str) -> int | None:
        taken = self._taken[role]
        if role == "worker":
            # spread students over the groups (regions): the group with fewest students first
            def students(rows: range) -> int:
                return sum(1 for r in taken if r in rows)

            for rows in sorted(self._human, key=lambda rows: (students(rows), rows.start)):
                row = next((r for r in rows if r not in taken), None)
                if row is not None:
                    return row
            return None
        if role == "moderator":
            employed = self.model.moderation.moderators
            ranked = sorted(self._candidates(role), key=lambda m: (m >= employed, m))
            return next((m for m in ranked if m not in taken), None)
        return next((a for a in self._candidates(role) if a not in taken), None)

    def _label(self, role: str, agent: int) -> str:
        if role == "worker":
            group = self.spec.workers[int(self.model.workers.group[agent])].id
            return f"worker {agent} ({group})"
        if role == "broker":
            return self.spec.recruiters[agent].id
        if role == "moderator":
            return f"moderator {agent}"
        return self.spec.campaigns[agent].id

    def _seat(self, player: Player | str, *, acting: bool = True) -> _Seat:
        if self.ended and acting:
            raise SessionError("this session has ended")
        token = player.token if isinstance(player, Player) else str(player)
        seat = self._by_token.get(token)
        if seat is None:
            raise SessionError("unknown player; join the session again with its code")
        forged = isinstance(player, Player) and (
            player.id != seat.id or player.agent not in (None, seat.agent)
        )
        if forged:  # a record naming another player's agent (a stale one has no agent)
            raise SessionError("that agent is not yours; a student can only act for their own")
        seat.last_seen = self._clock()
        return seat

    # ------------------------------------------------------------------ views
    def view(self, player: Player | str) -> WorkerView | BrokerView | ModeratorView | ClientView:
        """What the player's role sees now.

        Raises:
            SessionError: unknown player, or no role chosen yet.
        """
        with self._lock:
            seat = self._seat(player, acting=False)  # the final screens stay readable
            m = self.model
            if seat.role == "worker":
                return worker_view(m, seat.agent)
            if seat.role == "broker":
                return broker_view(m, seat.agent)
            if seat.role == "moderator":
                return moderator_view(m, seat.agent)
            if seat.role == "client":
                return client_view(m, seat.agent, seat.orders)
            raise SessionError("choose a role first")

    def read(self, fn: Callable[[ClickFarmModel], T]) -> T:
        """Call ``fn(model)`` under the session's lock (for read-only views elsewhere)."""
        with self._lock:
            return fn(self.model)

    # ------------------------------------------------------------------ actions
    def act(self, player: Player | str, action: Action) -> Receipt:
        """Queue a student's action for the next simulated hour, or refuse it and say why.

        The action drives the player's own agent only; every call is logged.
        """
        with self._lock:
            hour = self.model.steps
            try:
                seat = self._seat(player)
            except SessionError as err:
                self._record(None, action, hour, False, str(err))
                return Receipt(False, str(err))
            if not seat.bucket.take(self._clock()):
                reason = (
                    f"too many actions at once: wait a moment (at most "
                    f"{self._bucket[1]:g} a second)"
                )
                self._record(seat, action, hour, False, reason)
                return Receipt(False, reason)
            try:
                fields = self._check(seat, action)
            except SessionError as err:
                self._record(seat, action, hour, False, str(err))
                return Receipt(False, str(err))
            record = self._record(seat, action, hour, True, "")
            self._queue.append(_Queued(record, seat, fields))
            return Receipt(True, "", hour)

    def _check(self, seat: _Seat, action: Action) -> dict[str, Any]:
        """The event fields an action becomes, or ``SessionError`` saying what is wrong."""
        if self.finished:
            raise SessionError("the run has reached its last hour; no more actions")
        needed = ACTION_ROLE.get(type(action))
        if needed is None:
            raise SessionError("unknown action")
        if seat.role != needed:
            mine = f"you drive {seat.label}" if seat.role else "you have no role yet"
            raise SessionError(f"{mine}; only a {needed} can do that")
        if isinstance(action, DoTasks):
            return self._check_tasks(seat, action)
        if isinstance(action, SetRates):
            return self._check_rates(seat, action)
        if isinstance(action, Judge):
            return self._check_judge(seat, action)
        return self._check_order(seat, action)

    def _pending(self, seat: _Seat, kind: str) -> list[dict[str, Any]]:
        return [q.fields for q in self._queue if q.seat is seat and q.fields["kind"] == kind]

    def _check_tasks(self, seat: _Seat, a: DoTasks) -> dict[str, Any]:
        tasks = _whole(a.tasks, 1, MAX_TASKS_PER_HOUR, "tasks")
        if a.action not in ACTION_TYPES:
            raise SessionError(f"unknown action '{_short(a.action)}'")
        offers = worker_view(self.model, seat.agent).tasks
        if not any(o.campaign == a.campaign and o.action == a.action for o in offers):
            raise SessionError(f"no open {a.action} tasks for {_short(a.campaign)} in your feed")
        asked = sum(f["tasks"] for f in self._pending(seat, "worker_tasks"))
        if asked + tasks > MAX_TASKS_PER_HOUR:
            raise SessionError(f"at most {MAX_TASKS_PER_HOUR} tasks in one hour")
        return {
            "kind": "worker_tasks",
            "worker": seat.agent,
            "campaign": a.campaign,
            "action": a.action,
            "tasks": tasks,
        }

    def _check_rates(self, seat: _Seat, a: SetRates) -> dict[str, Any]:
        if a.action not in ACTION_TYPES:
            raise SessionError(f"unknown action '{_short(a.action)}'")
        if a.pay is None and a.price is None:
            raise SessionError("expected a pay or a price to set")
        fields: dict[str, Any] = {"kind": "broker_rates", "action": a.action}
        fields["recruiter"] = self.spec.recruiters[seat.agent].id
        for name in ("pay", "price"):
            value = getattr(a, name)
            if value is not None:
                fields[name] = self._money(value, name)
        return fields

    def _check_judge(self, seat: _Seat, a: Judge) -> dict[str, Any]:
        if a.verdict not in ("fake", "genuine"):
            raise SessionError("expected a verdict of fake or genuine")
        counts = queue_counts(self.model, seat.agent)
        if str(a.item) not in counts:
            raise SessionError("that item is not in your review queue (any more)")
        pending = self._pending(seat, "moderator_verdicts")
        if any(f["item"] == a.item for f in pending):
            raise SessionError("you already judged that item this hour")
        if len(pending) >= MAX_VERDICTS_PER_HOUR:
            raise SessionError(f"at most {MAX_VERDICTS_PER_HOUR} verdicts in one hour")
        capacity = rules.review_capacity(1, self.spec.platform.moderation.reviews_per_hour)
        if sum(counts.get(f["item"], 0) for f in pending) >= capacity:
            raise SessionError(f"your capacity this hour ({capacity} actions) is used up")
        return {
            "kind": "moderator_verdicts",
            "moderator": seat.agent,
            "item": str(a.item),
            "verdict": a.verdict,
        }

    def _check_order(self, seat: _Seat, a: PlaceOrder) -> dict[str, Any]:
        c = self.spec.campaigns[seat.agent]
        m = self.model
        orderable = client_view(m, seat.agent, []).prices
        if a.action not in orderable:
            raise SessionError(
                f"{c.id} cannot order '{_short(a.action)}'; expected one of: {', '.join(orderable)}"
            )
        quantity = _whole(a.quantity, 1, MAX_ORDER, "quantity")
        deadline = _whole(a.deadline_hours, 1, MAX_DEADLINE_HOURS, "deadline_hours")
        recruiter = a.recruiter or c.recruiter
        tops = [r.id for r in self.spec.recruiters if r.parent is None]
        if recruiter not in tops:
            raise SessionError(
                f"unknown recruiter '{_short(recruiter)}'; expected one of: {', '.join(tops)}"
            )
        fields = {
            "kind": "client_order",
            "campaign": c.id,
            "recruiter": recruiter,
            "action": a.action,
            "quantity": quantity,
            "deadline_hours": deadline,
        }
        if not orderable[a.action] and a.budget is None:
            return fields  # paid in points: no money budget to cap it
        mine = [o for o in m.market.orders if o.name in set(seat.orders)]
        pending = sum(f.get("budget", 0) for f in self._pending(seat, "client_order"))
        left = client_budget(m, seat.agent) - sum(committed(o) for o in mine)
        left -= int(pending * m.scale)
        cap = (
            left if a.budget is None else min(left, int(self._money(a.budget, "budget") * m.scale))
        )
        if cap <= 0:
            raise SessionError("your budget is spent")
        fields["budget"] = Decimal(cap) / Decimal(m.scale)
        return fields

    def _money(self, value: object, name: str) -> Decimal:
        """A student's amount, rounded to the ledger's unit and bounded."""
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            raise SessionError(f"expected a number for {name}")
        if not math.isfinite(float(value)) or not 0 <= value <= MAX_RATE * 10_000:
            raise SessionError(f"expected {name} from 0 to {MAX_RATE}")
        scale = self.model.scale
        minor = round(Decimal(str(value)) * scale)
        amount = Decimal(minor) / Decimal(scale)
        if name in ("pay", "price") and amount > MAX_RATE:
            raise SessionError(f"expected {name} from 0 to {MAX_RATE}")
        return amount

    def _record(
        self, seat: _Seat | None, action: Any, hour: int, accepted: bool, reason: str
    ) -> ActionRecord:
        detail = action.__dict__ if hasattr(action, "__dict__") else {"value": repr(action)}
        record = ActionRecord(
            seq=len(self._log),
            wall_seconds=round(self._clock() - self._started, 3),
            utc=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            hour=hour,
            player=seat.id if seat else "",
            nickname=seat.nickname if seat else "",
            role=(seat.role or "") if seat else "",
            agent=seat.label if seat else "",
            action=type(action).__name__,
            detail=json.dumps(detail, default=str, sort_keys=True)[:1000],
            accepted=accepted,
            reason=reason,
        )
        self._log.append(record)
        return record

    def _enqueue(self, seat: _Seat | None, what: str, fields: dict[str, Any]) -> None:
        """Queue a session-made event (a role taken, a lecturer's trigger) for the next step."""
        record = ActionRecord(
            seq=len(self._log),
            wall_seconds=round(self._clock() - self._started, 3),
            utc=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            hour=self.model.steps,
            player=seat.id if seat else "",
            nickname=seat.nickname if seat else "",
            role=(seat.role or "") if seat else "lecturer",
            agent=seat.label if seat else "",
            action=what,
            detail=json.dumps(fields, default=str, sort_keys=True),
            accepted=True,
            reason="",
        )
        self._log.append(record)
        self._queue.append(_Queued(record, seat, fields))

    # ------------------------------------------------------------------ stepping
    @property
    def finished(self) -> bool:
        """Whether the run has simulated its last hour."""
        return not self.model.running

    def _new_id(self, stem: str) -> str:
        n = len(self._event_ids)
        while f"{stem}_{n}" in self._event_ids:
            n += 1
        self._event_ids.add(f"{stem}_{n}")
        return f"{stem}_{n}"

    def _flush(self) -> list[Event]:
        """Turn the queued actions into this hour's events (merged per agent) and add them."""
        hour = self.model.steps
        groups: dict[tuple, list[_Queued]] = {}
        for q in self._queue:
            f = q.fields
            if f["kind"] == "worker_tasks":
                key = (f["kind"], f["worker"], f["campaign"], f["action"])
            elif f["kind"] == "broker_rates":
                key = (f["kind"], f["recruiter"], f["action"])
            elif f["kind"] == "moderator_verdicts":
                key = (f["kind"], f["moderator"])
            else:
                key = (f["kind"], q.record.seq)  # each its own event
            groups.setdefault(key, []).append(q)
        self._queue = []
        events = []
        for items in groups.values():
            fields = dict(items[0].fields)
            kind = fields.pop("kind")
            if kind == "worker_tasks":
                fields["tasks"] = sum(q.fields["tasks"] for q in items)
            elif kind == "broker_rates":
                for q in items[1:]:  # a later setting replaces an earlier one
                    fields.update({k: v for k, v in q.fields.items() if k in ("pay", "price")})
            elif kind == "moderator_verdicts":
                del fields["item"], fields["verdict"]
                fields["verdicts"] = [
                    {"item": q.fields["item"], "verdict": q.fields["verdict"]} for q in items
                ]
            elif kind == "copy":
                fields = dict(fields["event"])
                kind = fields.pop("kind")
            stem = "lecturer" if items[0].seat is None else "student"
            fields.update(id=self._new_id(stem), hour=hour, kind=kind)
            event = Event.model_validate(fields)
            self._check_event(event)
            if kind in ("student_worker", "student_moderator"):
                self._takes.append(event)
            for q in items:
                q.record.event = event.id
            if kind == "client_order":
                items[0].seat.orders.append(f"{event.campaign}#{event.id}")
            events.append(event)
        for event in events:
            self.model.timeline.add(event)
            if self.model.twin is not None:
                self.model.twin.timeline.add(event)
        self.events += events
        return events

    def _check_event(self, event: Event) -> None:
        """The same cross-field check a scenario file's event gets (a bug if it fails)."""
        check = STUDENT_CHECKS.get(event.kind)
        if check is None:
            return
        # the agents handed to students so far are all a check needs to see
        scenario = self.spec.model_copy(update={"events": [*self._takes, event]})

        def fail(loc: tuple, message: str) -> None:
            raise SessionError(f"recorded event {event.id}: {message}")

        check(scenario, event, ("events",), fail)

    def _advance(self, n: int) -> int:
        """Run up to ``n`` hours (each applies what was queued before it); returns how many."""
        done = 0
        while done < n and self.model.running:
            self._flush()
            self.model.step()
            done += 1
        return done

    def step(self, hours: int = 1) -> int:
        """Lecturer: run ``hours`` simulated hours now (paused or not); returns how many ran.

        Raises:
            SessionError: the session has ended or ``hours`` is out of range.
        """
        with self._lock:
            self._not_ended()
            return self._advance(_whole(hours, 1, MAX_STEPS_PER_CALL, "hours"))

    def tick(self, now: float | None = None) -> int:
        """Advance by the pace for the wall time since the last tick; returns hours run."""
        with self._lock:
            now = self._clock() if now is None else float(now)
            elapsed = max(0.0, now - self._last_tick)
            self._last_tick = now
            if self.paused or self.ended or self.finished:
                self._carry = 0.0
                return 0
            due = self._carry + elapsed * self.pace / 60.0
            hours = min(int(due), MAX_STEPS_PER_TICK)
            self._carry = due - int(due) if hours == int(due) else 0.0
            return self._advance(hours)

    def start_clock(self, interval: float = 0.25) -> None:
        """Tick in a background thread every ``interval`` seconds until the session ends."""
        with self._lock:
            if self._thread is not None:
                return
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run_clock, args=(float(interval),), daemon=True, name="classroom"
            )
            self._thread.start()

    def stop_clock(self) -> None:
        """Stop the background thread (if any) and wait for it."""
        thread = self._thread
        self._stop.set()
        if thread is not None:
            thread.join(timeout=10)
        self._thread = None

    def _run_clock(self, interval: float) -> None:
        while not self._stop.wait(interval):
            self.tick()
            if self.ended:
                return

    # ------------------------------------------------------------------ lecturer
    def pause(self) -> None:
        """Stop the clock (students may still act; their actions wait for the next step)."""
        with self._lock:
            self.paused = True

    def resume(self) -> None:
        """Start (or restart) the clock at the current pace."""
        with self._lock:
            self._not_ended()
            self._last_tick = self._clock()
            self._carry = 0.0
            self.paused = False

    def set_pace(self, hours_per_minute: float) -> float:
        """Simulated hours per real minute, within ``PACE_RANGE``; returns the pace set.

        Raises:
            SessionError: not a number in range.
        """
        with self._lock:
            self.pace = self._bounded_pace(hours_per_minute)
            return self.pace

    @staticmethod
    def _bounded_pace(value: float) -> float:
        low, high = PACE_RANGE
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SessionError(f"expected a pace from {low:g} to {high:g} hours a minute")
        if not math.isfinite(float(value)) or not low <= float(value) <= high:
            raise SessionError(f"expected a pace from {low:g} to {high:g} hours a minute")
        return float(value)

    def triggers(self) -> list[str]:
        """Ids of the scenario's own events the lecturer can fire now."""
        return [e.id for e in self.spec.events if e.kind not in STUDENT_CHECKS]

    def trigger(self, event_id: str) -> int:
        """Fire one of the scenario's own events at the next hour, as a new dated event.

        Returns:
            The simulated hour it takes effect in.

        Raises:
            SessionError: no such event, or the session has ended.
        """
        with self._lock:
            self._not_ended()
            original = next((e for e in self.spec.events if e.id == event_id), None)
            if original is None or original.kind in STUDENT_CHECKS:
                raise SessionError(
                    f"no event '{_short(event_id)}' to trigger; expected one of: "
                    f"{', '.join(self.triggers()) or 'none in this scenario'}"
                )
            copy = original.model_dump(exclude={"id", "hour"}, exclude_defaults=True)
            copy["kind"] = original.kind
            self._enqueue(None, f"trigger {event_id}", {"kind": "copy", "event": copy})
            return self.model.steps

    def end(self) -> None:
        """End the session: the join code expires and no one can act any more."""
        with self._lock:
            self.ended = True
            self.paused = True
            self._stop.set()

    def _not_ended(self) -> None:
        if self.ended:
            raise SessionError("this session has ended")

    # ------------------------------------------------------------------ predictions
    def pose(
        self,
        text: str,
        *,
        kind: str = "share",
        choices: list[str] | tuple[str, ...] = (),
        metric: str | None = None,
        low: float = 0.0,
        high: float = 1.0,
    ) -> pred.Question:
        """Ask the class a question; ``metric`` names the model metric that answers it.

        Raises:
            SessionError: bad kind, choices, range or metric, or too many questions.
        """
        with self._lock:
            self._not_ended()
            body = " ".join(str(text).split())[: pred.QUESTION_MAX]
            if not body:
                raise SessionError("expected the text of a question")
            if kind not in pred.KINDS:
                raise SessionError(
                    f"unknown kind '{_short(kind)}'; expected one of: {', '.join(pred.KINDS)}"
                )
            if metric is not None and metric not in METRICS:
                raise SessionError(f"unknown metric '{_short(metric)}'")
            if len(self._questions) >= MAX_QUESTIONS:
                raise SessionError(f"at most {MAX_QUESTIONS} questions in a session")
            options = tuple(clean_nickname(c)[: pred.CHOICE_TEXT_MAX] for c in choices)
            if kind == "choice" and not 2 <= len(set(options) - {""}) == len(options) <= 8:
                raise SessionError("expected 2 to 8 different, non-empty choices")
            if kind == "share":
                low, high = 0.0, 1.0
            if kind == "number" and not (math.isfinite(low) and math.isfinite(high) and low < high):
                raise SessionError("expected a range with low below high")
            q = pred.Question(
                id=f"q{len(self._questions) + 1}",
                text=body,
                kind=kind,
                choices=options if kind == "choice" else (),
                metric=metric,
                low=float(low),
                high=float(high),
                posed_hour=self.model.steps,
            )
            self._questions[q.id] = q
            self._answers[q.id] = {}
            return q

    def answer(self, player: Player | str, question_id: str, value: object) -> Receipt:
        """A student's answer (a later answer replaces an earlier one)."""
        with self._lock:
            try:
                seat = self._seat(player)
            except SessionError as err:
                return Receipt(False, str(err))
            q = self._questions.get(str(question_id))
            if q is None:
                return Receipt(False, "no such question")
            try:
                self._answers[q.id][seat.id] = pred.check_answer(q, value)
            except ValueError as err:
                return Receipt(False, str(err))
            return Receipt(True, "", self.model.steps)

    def spread(self, question_id: str) -> pred.Spread:
        """The answers' spread beside the model's outcome so far.

        Raises:
            SessionError: no such question.
        """
        with self._lock:
            q = self._questions.get(str(question_id))
            if q is None:
                raise SessionError("no such question")
            answers = list(self._answers[q.id].values())
            return pred.spread(q, answers, self.model.metrics, self.model.hour, self.ended)

    # ------------------------------------------------------------------ projector
    def lecturer_view(self) -> LecturerView:
        """The projector's snapshot: roles, players, money flows, leaderboard."""
        from sim.ui.flows import money_graph  # plain Python (no Solara): the Sankey's data

        with self._lock:
            m = self.model
            now = self._clock()
            seats = sorted(self._seats.values(), key=lambda s: s.nickname.casefold())
            players = [
                PlayerInfo(s.id, s.nickname, s.role, s.agent, s.label, round(now - s.last_seen, 1))
                for s in seats
            ]
            graph = money_graph(m)
            flows = [Flow(a, b, m.money(v)) for (a, b), v in graph.links.items() if v]
            state = (
                "ended"
                if self.ended
                else "finished"
                if self.finished
                else ("paused" if self.paused else "running")
            )
            highlighted = {
                role: [self._agent_id(role, a) for a in sorted(self._taken[role])] for role in ROLES
            }
            log = self._log
            return LecturerView(
                hour=m.hour,
                hours=m.max_steps,
                state=state,
                pace=self.pace,
                join_code=None if self.ended else self.join_code,
                players=players,
                role_counts={r: len(self._taken[r]) for r in ROLES},
                free_agents={r: self._count(r) - len(self._taken[r]) for r in ROLES},
                highlighted=highlighted,
                flows=flows,
                destinations=money_destinations(m),
                metrics={k: float(m.metrics[k]) for k in SHOWN_METRICS},
                leaderboard=self._leaderboard() if self.gamified else [],
                triggers=self.triggers(),
                questions=list(self._questions.values()),
                actions_accepted=sum(1 for r in log if r.accepted),
                actions_refused=sum(1 for r in log if not r.accepted),
            )

    def _agent_id(self, role: str, agent: int) -> str:
        """The agent's id as the model's tables name it (to highlight it among the rest)."""
        if role == "worker":
            return str(self.model.worker_agents[agent].unique_id)
        if role == "broker":
            return self.spec.recruiters[agent].id
        if role == "moderator":
            return str(self.model.moderator_agents[agent].unique_id)
        return self.spec.campaigns[agent].id

    @property
    def gamified(self) -> bool:
        """Whether the scenario pays points or has badges or a leaderboard."""
        g = self.spec.gamification
        points = any(any(v > 0 for v in r.points.values()) for r in self.spec.recruiters)
        return bool(points or g.badges or g.leaderboard_size)

    def _leaderboard(self) -> list[LeaderRow]:
        rows = []
        for s in self._seats.values():
            if s.role is None:
                continue
            v = self.view(s.token)
            if isinstance(v, WorkerView):
                rows.append(LeaderRow(s.nickname, s.role, float(v.points), "points"))
            elif isinstance(v, BrokerView):
                rows.append(LeaderRow(s.nickname, s.role, v.margin, "margin"))
            elif isinstance(v, ModeratorView):
                rows.append(LeaderRow(s.nickname, s.role, float(v.removed), "fakes removed"))
            else:
                rows.append(LeaderRow(s.nickname, s.role, float(v.surviving), "surviving"))
        return sorted(rows, key=lambda r: (ROLES.index(r.role), -r.score, r.nickname))

    # ------------------------------------------------------------------ export
    def session_scenario(self) -> Scenario:
        """The scenario that replays the session: seed, length and every recorded event.

        Raises:
            SessionError: nothing has been simulated yet.
        """
        with self._lock:
            steps = self.model.steps
            if steps < 1:
                raise SessionError("nothing to export yet: run at least one hour")
            data = session_data(
                self.spec.model_copy(
                    update={"seed": self.seed, "days": steps / 24, "events": self._applied()}
                )
            )
            try:  # every rule a scenario file meets, without the file-size limits
                return load_scenario(data, label="session.yaml")
            except ScenarioError as err:  # a recorded event the loader refuses is our bug
                raise SessionError(f"the recorded session does not validate: {err}") from err

    def _applied(self) -> list[Event]:
        """The scenario's events, then the recorded ones already applied (file order)."""
        done = {a.id for a in self.model.timeline.applied}
        return [*self.spec.events, *(e for e in self.events if e.id in done)]

    def export(
        self, folder: str | Path, *, keep_nicknames: bool = False, figures: bool = True
    ) -> Path:
        """Write the session's files, all at once or not at all.

        ``run/`` (as ``clickfarm run`` writes it), ``actions.csv``, ``predictions.csv``
        and ``session.yaml``.

        Args:
            folder: A new or empty folder.
            keep_nicknames: Keep students' nicknames (default: their random ids only).
            figures: Also draw the run's figures.

        Returns:
            The folder written.

        Raises:
            SessionError: the folder is not new or empty, or nothing has run yet.
        """
        with self._lock:
            target = Path(folder).expanduser().resolve()
            if target.exists() and (not target.is_dir() or any(target.iterdir())):
                raise SessionError(f"{folder}: expected a new or empty folder")
            scenario = self.session_scenario()
            m = self.model
            timeseries = timeseries_frame(m)
            manifest = build_manifest(m, "session.yaml", [], self._clock() - self._started)
            manifest["scenario"] = resolved_dict(scenario)
            result = RunResult(
                model=m,
                timeseries=timeseries,
                agents=agents_frame(m),
                flows=pd.DataFrame(m.ledger.flows_table()),
                summary=summarise(m, timeseries),
                manifest=manifest,
            )
            actions = self._action_rows(keep_nicknames)
            answers = self._prediction_rows(keep_nicknames)
            yaml_text = SESSION_HEADER + session_yaml(scenario)
            manifest["replay"] = replay_check(yaml_text)
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
            try:
                write_results(result, tmp / "run", figures=figures)
                _write_csv(tmp / "actions.csv", actions, ACTION_COLUMNS)
                _write_csv(tmp / "predictions.csv", answers, PREDICTION_COLUMNS)
                (tmp / "session.yaml").write_text(yaml_text, encoding="utf-8")
                os.chmod(tmp, 0o755)
                if target.exists():
                    target.rmdir()  # empty, checked above
                tmp.rename(target)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            return target

    def _who(self, seat_id: str, nickname: str, keep: bool) -> str:
        return nickname if keep and nickname else seat_id

    def _action_rows(self, keep: bool) -> list[dict[str, Any]]:
        applied = {a.id for a in self.model.timeline.applied}
        rows = []
        for r in self._log:
            row = {c: getattr(r, c) for c in ACTION_COLUMNS if c != "applied"}
            row["player"] = self._who(r.player, r.nickname, keep)
            row["applied"] = bool(r.event and r.event in applied)
            rows.append(row)
        return rows

    def _prediction_rows(self, keep: bool) -> list[dict[str, Any]]:
        names = {s.id: s.nickname for s in self._seats.values()}
        rows = []
        for q in self._questions.values():
            outcome = pred.spread(q, [], self.model.metrics, self.model.hour, self.ended).outcome
            for pid, value in self._answers[q.id].items():
                rows.append(
                    {
                        "question": q.id,
                        "text": q.text,
                        "kind": q.kind,
                        "metric": q.metric or "",
                        "player": self._who(pid, names.get(pid, ""), keep),
                        "answer": value,
                        "outcome": "" if outcome is None else outcome,
                        "outcome_hour": self.model.hour,
                    }
                )
        return rows


SHOWN_METRICS = (
    "total_client_spend",
    "total_worker_income",
    "worker_share_of_spend",
    "total_delivered",
    "total_removed",
    "total_surviving",
    "hourly_pay_median",
    "moderators_employed",
)
"""Metrics the projector shows beside the money diagram."""
ACTION_COLUMNS = (
    "seq",
    "wall_seconds",
    "utc",
    "hour",
    "player",
    "role",
    "agent",
    "action",
    "detail",
    "accepted",
    "reason",
    "event",
    "applied",
)
PREDICTION_COLUMNS = (
    "question",
    "text",
    "kind",
    "metric",
    "player",
    "answer",
    "outcome",
    "outcome_hour",
)
SESSION_HEADER = (
    "# A classroom session, recorded: the scenario with every student action as a dated\n"
    "# event. `clickfarm run session.yaml` replays the session's simulated part exactly.\n"
)


def session_data(scenario: Scenario) -> dict[str, Any]:
    """The session scenario as plain data, each event with only the fields it sets."""
    data = resolved_dict(scenario)
    data["events"] = [
        {k: v for k, v in e.items() if k in ("id", "hour", "kind") or v not in (None, {}, [])}
        for e in data["events"]
    ]
    return data


def session_yaml(scenario: Scenario) -> str:
    """The session scenario as YAML, one line per event."""
    data = session_data(scenario)
    events = data.pop("events")
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    if not events:
        return text + "events: []\n"
    lines = [
        "- " + yaml.safe_dump(e, default_flow_style=True, width=10**6, sort_keys=False)
        for e in events
    ]
    return text + "events:\n" + "".join(lines)


def replay_check(text: str) -> dict[str, Any]:
    """Whether ``clickfarm run`` will read the session file, and if not why.

    A very long session can record more events than a scenario file may hold
    (``sim/scenario/document.py: MAX_VALUES``, ``MAX_FILE_BYTES``); its run, actions and
    predictions are still exported.
    """
    try:
        load_scenario(text, label="session.yaml")
    except ScenarioError as err:
        return {"file": "session.yaml", "loads": False, "problem": str(err)}
    return {"file": "session.yaml", "loads": True, "problem": None}


def _short(value: object, limit: int = 40) -> str:
    """A user's text, cut short for a message (never more than ``limit`` characters)."""
    text = "".join(ch for ch in str(value) if ch.isprintable())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _whole(value: object, low: int, high: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SessionError(f"expected {name} to be a whole number from {low} to {high}")
    return int(value)


def _write_csv(path: Path, rows: list[dict[str, Any]], columns: tuple[str, ...]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns))
        writer.writeheader()
        writer.writerows(rows)
