"""Predict, then run: the lecturer's questions, the students' answers and their spread.

A question may name a model metric (``sim/core/metrics.py: METRICS``); once the run has
stepped, its current value is the outcome shown beside the answers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

QUESTION_MAX = 300
"""Longest question text kept (characters)."""
CHOICES_MAX = 8
CHOICE_TEXT_MAX = 60
SPREAD_QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)
KINDS = ("number", "share", "choice")


@dataclass(frozen=True)
class Question:
    """A prediction the lecturer posed.

    ``kind`` is ``number`` (any value in ``[low, high]``), ``share`` (0 to 1) or
    ``choice`` (one of ``choices``); ``metric`` names the model metric that answers it.
    """

    id: str
    text: str
    kind: str
    choices: tuple[str, ...] = ()
    metric: str | None = None
    low: float = 0.0
    high: float = 1.0
    posed_hour: int = 0


@dataclass(frozen=True)
class Spread:
    """The class's answers to one question, and the model's outcome once known.

    ``quantiles`` maps each of ``SPREAD_QUANTILES`` to the answers' quantile (number and
    share questions); ``choice_counts`` counts answers per choice (choice questions).
    ``outcome`` is the metric's value after the last step (None before the run has one);
    ``final`` says the session has ended, so the outcome will not change.
    """

    question: Question
    answers: list[float | str]
    count: int
    quantiles: dict[float, float]
    choice_counts: dict[str, int]
    outcome: float | None
    outcome_hour: int
    final: bool


def check_answer(q: Question, value: object) -> float | str:
    """The answer as stored, or ``ValueError`` saying what was expected."""
    if q.kind == "choice":
        if not isinstance(value, str) or value not in q.choices:
            raise ValueError(f"expected one of: {', '.join(q.choices)}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number from {q.low:g} to {q.high:g}")
    number = float(value)
    if not math.isfinite(number) or not q.low <= number <= q.high:
        raise ValueError(f"expected a number from {q.low:g} to {q.high:g}")
    return number


def quantiles(values: list[float]) -> dict[float, float]:
    """The answers' quantiles (linear interpolation), empty when nobody answered."""
    if not values:
        return {}
    found = np.quantile(np.array(values, dtype=np.float64), SPREAD_QUANTILES)
    return {q: float(v) for q, v in zip(SPREAD_QUANTILES, found, strict=True)}


def spread(
    q: Question,
    answers: list[float | str],
    metrics: dict[str, float],
    hour: int,
    final: bool,
) -> Spread:
    """The spread of ``answers`` beside the outcome in ``metrics`` (the model's, now)."""
    counts = {c: sum(1 for a in answers if a == c) for c in q.choices}
    numbers = [float(a) for a in answers if not isinstance(a, str)]
    outcome = None
    if q.metric is not None and hour >= 0:
        value = float(metrics[q.metric])
        outcome = value if math.isfinite(value) else None
    return Spread(
        question=q,
        answers=list(answers),
        count=len(answers),
        quantiles=quantiles(numbers),
        choice_counts=counts,
        outcome=outcome,
        outcome_hour=hour,
        final=final,
    )
