"""Load-time checks of the events that record student-driven agents (classroom sessions).

A classroom session records each student's action as a dated event (``sim/classroom``);
these checks make a recorded session refuse, at load, any event that names an agent the
scenario does not have: a worker row that is not a human micro-worker, a recruiter of the
wrong level, a moderator beyond the platform's limit, a campaign that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable

from sim.scenario.schema import Event, Scenario, moderator_capacity

STUDENT_FIELDS = frozenset(
    {"worker", "campaign", "action", "tasks", "pay", "price", "moderator", "quantity"}
    | {"budget", "deadline_hours"}
)
"""Event fields only the student-driven kinds use."""

Fail = Callable[[tuple, str], None]


def human_rows(s: Scenario) -> list[tuple[int, int]]:
    """``(first, end)`` row ranges of the human micro-workers, group by group."""
    out, start = [], 0
    for g in s.workers:
        if g.kind == "human" and g.count:
            out.append((start, start + g.count))
        start += g.count
    return out


def is_human_worker(s: Scenario, row: int) -> bool:
    """Whether worker row ``row`` is a human micro-worker of the scenario."""
    return any(first <= row < end for first, end in human_rows(s))


def leaf_recruiters(s: Scenario) -> list[str]:
    """Ids of the bottom-level recruiters that have workers (the brokers a student can run)."""
    parents = {r.parent for r in s.recruiters if r.parent is not None}
    staffed = {g.recruiter for g in s.workers if g.count}
    return [r.id for r in s.recruiters if r.id not in parents and r.id in staffed]


def top_recruiters(s: Scenario) -> list[str]:
    """Ids of the top-level recruiters (those that take clients' orders)."""
    return [r.id for r in s.recruiters if r.parent is None]


def _check_worker(s: Scenario, e: Event, loc: tuple, fail: Fail) -> None:
    if not is_human_worker(s, e.worker):
        total = sum(g.count for g in s.workers)
        fail(
            (*loc, "worker"),
            f"row {e.worker} is not a human micro-worker; expected a worker row below "
            f"{total} in a group of kind human",
        )


def _one_of(value: str, allowed: list[str], where: tuple, fail: Fail, problem: str) -> None:
    """Fail unless ``value`` is one of ``allowed``, saying what was expected."""
    if value not in allowed:
        fail(where, f"{problem}; expected one of: {', '.join(allowed)}")


def _check_campaign(s: Scenario, e: Event, loc: tuple, fail: Fail) -> None:
    ids = [c.id for c in s.campaigns]
    problem = f"names campaign '{e.campaign}', which does not exist"
    _one_of(e.campaign, ids, (*loc, "campaign"), fail, problem)


_DRIVEN: list[tuple[Scenario, dict[tuple[str, int], int]]] = []


def driven_from(s: Scenario, kind: str, agent: int) -> int | None:
    """The first hour a ``kind`` event hands ``agent`` to a student, or None.

    ``kind`` is student_worker or student_moderator; cached per scenario, since a
    recorded session has many events.
    """
    for cached, first in _DRIVEN:
        if cached is s:
            return first.get((kind, agent))
    first: dict[tuple[str, int], int] = {}
    for o in s.events:
        for k, f in (("student_worker", "worker"), ("student_moderator", "moderator")):
            if o.kind == k:
                key = (k, getattr(o, f))
                first[key] = min(first.get(key, o.hour), o.hour)
    _DRIVEN[:] = [*_DRIVEN[-3:], (s, first)]
    return first.get((kind, agent))


def _check_driven(s: Scenario, e: Event, loc: tuple, fail: Fail, kind: str, field: str) -> None:
    """The agent must have been handed to a student at or before this event's hour."""
    since = driven_from(s, kind, getattr(e, field))
    if since is None or since > e.hour:
        fail(
            (*loc, field),
            f"{field} {getattr(e, field)} is not student-driven by hour {e.hour}; expected "
            f"a {kind} event for it at or before this hour",
        )


def check_student_worker(s: Scenario, e: Event, loc: tuple, fail: Fail) -> None:
    """A student_worker event names a human micro-worker."""
    _check_worker(s, e, loc, fail)


def check_worker_tasks(s: Scenario, e: Event, loc: tuple, fail: Fail) -> None:
    """A worker_tasks event names a student-driven human worker and an existing campaign."""
    _check_worker(s, e, loc, fail)
    _check_campaign(s, e, loc, fail)
    _check_driven(s, e, loc, fail, "student_worker", "worker")


def check_broker_rates(s: Scenario, e: Event, loc: tuple, fail: Fail) -> None:
    """A broker_rates event names a bottom-level recruiter with workers, and sets something."""
    problem = f"recruiter '{e.recruiter}' is not a bottom-level recruiter with workers"
    _one_of(e.recruiter, leaf_recruiters(s), (*loc, "recruiter"), fail, problem)
    if e.pay is None and e.price is None:
        fail(loc, "a broker_rates event needs pay or price; expected at least one")


def check_student_moderator(s: Scenario, e: Event, loc: tuple, fail: Fail) -> None:
    """A student_moderator event names one of the moderators the platform can employ."""
    cap = moderator_capacity(s)
    if e.moderator >= cap:
        fail(
            (*loc, "moderator"),
            f"the platform can employ {cap} moderators; expected a moderator number below {cap}",
        )


def check_moderator_verdicts(s: Scenario, e: Event, loc: tuple, fail: Fail) -> None:
    """A moderator_verdicts event comes from a student-driven moderator and judges items."""
    check_student_moderator(s, e, loc, fail)
    _check_driven(s, e, loc, fail, "student_moderator", "moderator")
    if not e.verdicts:
        fail((*loc, "verdicts"), "expected at least one verdict")


def check_client_order(s: Scenario, e: Event, loc: tuple, fail: Fail) -> None:
    """A client_order event names an existing campaign and a top-level recruiter."""
    _check_campaign(s, e, loc, fail)
    problem = f"recruiter '{e.recruiter}' is not a top-level recruiter (takes no orders)"
    _one_of(e.recruiter, top_recruiters(s), (*loc, "recruiter"), fail, problem)


STUDENT_CHECKS: dict[str, Callable[[Scenario, Event, tuple, Fail], None]] = {
    "student_worker": check_student_worker,
    "worker_tasks": check_worker_tasks,
    "broker_rates": check_broker_rates,
    "student_moderator": check_student_moderator,
    "moderator_verdicts": check_moderator_verdicts,
    "client_order": check_client_order,
}
"""The cross-field check of each student-driven event kind."""
