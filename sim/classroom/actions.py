"""What students can do in a session: typed action records, limits and small rules.

Every action a student takes is one of the records below; the session checks it,
queues it and turns it into a dated scenario event at the next step. This module also
holds the small pure rules a session applies: join codes, nickname cleaning and the
per-player token bucket.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass

JOIN_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
"""Join-code letters: no 0/O, 1/I/L, so a code read off a projector is typed right."""
JOIN_CODE_LENGTH = 6
NICKNAME_MAX = 24
"""Longest nickname kept (characters, after cleaning)."""
ROLES = ("worker", "broker", "moderator", "client")
"""The agents a student can drive: a micro-worker, a bottom-level recruiter, a
moderator, a campaign's client."""


def new_join_code(length: int = JOIN_CODE_LENGTH) -> str:
    """A fresh join code drawn from ``secrets`` (cryptographically random)."""
    return "".join(secrets.choice(JOIN_ALPHABET) for _ in range(length))


def normalise_code(code: str) -> str:
    """A typed code as the session compares it: upper case, spaces and dashes removed."""
    return re.sub(r"[\s-]", "", str(code)).upper()[:32]


def clean_nickname(raw: str) -> str:
    """A nickname safe to store and show: printable letters, digits and ``-_.' ``.

    Other characters are dropped, runs of spaces collapse to one and the result is cut to
    ``NICKNAME_MAX`` characters. Returns an empty string when nothing usable is left.
    """
    text = unicodedata.normalize("NFKC", str(raw)[:200])
    kept = "".join(ch for ch in text if ch.isalnum() or ch in " -_.'")
    return re.sub(r"\s+", " ", kept).strip()[:NICKNAME_MAX].strip()


class TokenBucket:
    """A rate limit: ``burst`` actions at once, refilled at ``per_second``.

    Args:
        burst: Most actions accepted in a quick run.
        per_second: Actions regained per second of wall time.
        now: The clock reading at creation.
    """

    def __init__(self, burst: float, per_second: float, now: float) -> None:
        self.burst, self.per_second = float(burst), float(per_second)
        self.tokens, self.last = float(burst), float(now)

    def take(self, now: float) -> bool:
        """Spend one token if there is one; returns whether the action may go ahead."""
        elapsed = max(0.0, float(now) - self.last)
        self.tokens = min(self.burst, self.tokens + elapsed * self.per_second)
        self.last = max(self.last, float(now))
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


@dataclass(frozen=True)
class DoTasks:
    """Worker: do ``tasks`` tasks of ``action`` for ``campaign`` in the next simulated hour."""

    campaign: str
    action: str
    tasks: int = 1


@dataclass(frozen=True)
class SetRates:
    """Broker: post ``pay`` to workers and/or ask ``price`` per ``action`` (major units)."""

    action: str
    pay: float | None = None
    price: float | None = None


@dataclass(frozen=True)
class Judge:
    """Moderator: mark flagged ``item`` (an id from the queue view) fake or genuine."""

    item: str
    verdict: str  # "fake" | "genuine"


@dataclass(frozen=True)
class PlaceOrder:
    """Client: order ``quantity`` of ``action`` due within ``deadline_hours``.

    ``recruiter`` is a top-level recruiter (default: the campaign's own); ``budget``
    caps what the order may cost (major units; default: all the budget left).
    """

    action: str
    quantity: int
    deadline_hours: int = 24
    recruiter: str | None = None
    budget: float | None = None


Action = DoTasks | SetRates | Judge | PlaceOrder
ACTION_ROLE = {DoTasks: "worker", SetRates: "broker", Judge: "moderator", PlaceOrder: "client"}
"""The role whose agent each kind of action drives."""


@dataclass(frozen=True)
class Receipt:
    """The session's answer to an action or a prediction: accepted, or refused and why.

    ``hour`` is the simulated hour the action takes effect in (-1 when refused).
    """

    accepted: bool
    reason: str = ""
    hour: int = -1
