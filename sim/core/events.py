"""The timeline of interventions: dated events that change the economy at their hour.

Each event kind is one small function that changes the component it concerns; the
timeline applies the events due at the start of each hour, in the order of the file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.core.students import ReviewOrder, TaskOrder
from sim.scenario.load import to_minor
from sim.scenario.schema import ACTION_TYPES, Event, Scenario

if TYPE_CHECKING:
    from sim.core.model import ClickFarmModel


@dataclass
class Applied:
    """What one event did when it took effect."""

    id: str
    hour: int
    kind: str
    effect: int  # accounts banned (purge), moderators (moderation), orders expired...


def purge(model: ClickFarmModel, e: Event) -> int:
    """Ban every live account whose trust is below the threshold; returns how many."""
    acc, w = model.accounts, model.workers
    hit = np.flatnonzero(~acc.banned & (acc.trust < e.trust_below))
    acc.banned[hit] = True
    np.subtract.at(w.accounts_alive, acc.owner[hit], 1)
    model.moderation.purged += int(hit.size)
    model.workforce.leave_banned_accounts()  # a purged account does no more work
    return int(hit.size)


def set_moderators(model: ClickFarmModel, e: Event) -> int:
    """The platform now employs this many moderators."""
    model.moderation.set_capacity(e.moderators)
    return int(e.moderators)


def upgrade_detector(model: ClickFarmModel, e: Event) -> int:
    """New detector bias and/or weights."""
    model.moderation.retune(e.bias, e.weights)
    return len(e.weights) + (e.bias is not None)


def pay_shock(model: ClickFarmModel, e: Event) -> int:
    """Multiply what a recruiter posts to its workers and influencers."""
    return model.market.shock_pay(model.market.index[e.recruiter], e.factor)


def price_shock(model: ClickFarmModel, e: Event) -> int:
    """Multiply the price a recruiter asks."""
    model.market.price_factor[model.market.index[e.recruiter]] *= e.factor
    return 1


def shutdown(model: ClickFarmModel, e: Event) -> int:
    """A recruiter stops trading; returns the actions its open orders lose."""
    return model.market.shut_down(model.market.index[e.recruiter], model.steps - 1)


def enter(model: ClickFarmModel, e: Event) -> int:
    """A recruiter starts trading."""
    model.market.active[model.market.index[e.recruiter]] = True
    return 1


# -- student-driven agents (classroom sessions; docs/ODD.md) ---------------------------
def _campaign_index(model: ClickFarmModel, campaign_id: str) -> int:
    return [c.id for c in model.spec.campaigns].index(campaign_id)


def student_worker(model: ClickFarmModel, e: Event) -> int:
    """From now on the worker chooses no work of its own: its student tells it."""
    model.workforce.students.driven[e.worker] = True
    return 1


def worker_tasks(model: ClickFarmModel, e: Event) -> int:
    """The student's worker does these tasks in this hour's work phase; returns how many asked."""
    order = TaskOrder(
        e.id, e.worker, _campaign_index(model, e.campaign), ACTION_TYPES.index(e.action), e.tasks
    )
    model.workforce.students.pending.append(order)
    return int(e.tasks)


def broker_rates(model: ClickFarmModel, e: Event) -> int:
    """The student's broker posts this pay and/or asks this price, whatever its rule."""
    scale = model.scale
    pay = None if e.pay is None else to_minor(e.pay, scale)
    price = None if e.price is None else to_minor(e.price, scale)
    market = model.market
    market.set_student_rates(
        market.index[e.recruiter], ACTION_TYPES.index(e.action), pay, price, model.steps - 1
    )
    return 1


def student_moderator(model: ClickFarmModel, e: Event) -> int:
    """From now on the moderator reviews only what its student judges."""
    model.moderation.students.driven.add(int(e.moderator))
    return 1


def moderator_verdicts(model: ClickFarmModel, e: Event) -> int:
    """The student's verdicts, carried out in this hour's moderation phase."""
    model.moderation.students.pending.append(ReviewOrder(e.id, e.moderator, list(e.verdicts)))
    return len(e.verdicts)


def client_order(model: ClickFarmModel, e: Event) -> int:
    """The student's client places an order now; returns the actions ordered."""
    budget = None if e.budget is None else to_minor(e.budget, model.scale)
    orders = model.market.place_student_order(
        _campaign_index(model, e.campaign),
        model.market.index[e.recruiter],
        ACTION_TYPES.index(e.action),
        e.quantity,
        budget,
        e.deadline_hours,
        model.steps - 1,
        e.id,
    )
    return int(sum(int(o.quantities.sum()) for o in orders))


EFFECTS: dict[str, Callable[[ClickFarmModel, Event], int]] = {
    "purge": purge,
    "moderation": set_moderators,
    "detector": upgrade_detector,
    "pay_shock": pay_shock,
    "price_shock": price_shock,
    "shutdown": shutdown,
    "enter": enter,
    "student_worker": student_worker,
    "worker_tasks": worker_tasks,
    "broker_rates": broker_rates,
    "student_moderator": student_moderator,
    "moderator_verdicts": moderator_verdicts,
    "client_order": client_order,
}


class Timeline:
    """The scenario's events, in order of hour (then of the file)."""

    def __init__(self, scenario: Scenario) -> None:
        self.events = sorted(scenario.events, key=lambda e: e.hour)  # stable: file order
        self.next = 0
        self.applied: list[Applied] = []

    def entering(self) -> set[str]:
        """Recruiters that only start trading at an ``enter`` event."""
        return {e.recruiter for e in self.events if e.kind == "enter"}

    def add(self, event: Event) -> None:
        """Schedule one more event, as if it came last in the file (a live session's).

        It goes after every pending event of its hour or earlier: the order a scenario
        file with the event appended would give.
        """
        at = self.next
        while at < len(self.events) and self.events[at].hour <= event.hour:
            at += 1
        self.events.insert(at, event)

    def apply_due(self, model: ClickFarmModel, hour: int) -> list[Applied]:
        """Apply every event whose hour has come; returns what they did."""
        done = []
        while self.next < len(self.events) and self.events[self.next].hour <= hour:
            e = self.events[self.next]
            self.next += 1
            done.append(Applied(e.id, hour, e.kind, EFFECTS[e.kind](model, e)))
        self.applied += done
        return done
