"""Detector retraining: a review queue that remembers what it flagged, and the learner.

``LabelledQueue`` is the review queue plus, per entry, the signals the detector saw when
it flagged the actions and whether they are genuine; it is used when a scenario has
genuine users or retraining. ``Trainer`` keeps the verdicts of recent reviews and, every
``every_hours``, re-fits the detector's weights to those older than the lag
(``rules.logistic_step``; docs/ODD.md 7.25).
"""

from __future__ import annotations

from collections import deque

import numpy as np

from sim.core import rules
from sim.core.moderation import ReviewQueue
from sim.scenario.schema import DetectionWeights, Retraining

SIGNALS = tuple(DetectionWeights.model_fields)
"""The detector's signals, in the order of a feature row."""
FEATURE_DTYPE = np.float32
"""How a queued entry's signals are kept: single precision halves the memory of a queue
that holds millions of flagged entries at a million workers (the fit itself is done in
double precision)."""


class LabelledQueue(ReviewQueue):
    """The review queue, with each entry's signals and whether its actions are genuine.

    Entries are reviewed oldest first, so the entries a review round takes are always the
    first ones in the queue: ``taken_features`` and ``taken_genuine`` describe them.
    """

    FIELDS = (*ReviewQueue.FIELDS, "features", "genuine")

    def __init__(self) -> None:
        super().__init__()
        self.features = np.zeros((0, len(SIGNALS)), dtype=FEATURE_DTYPE)
        self.genuine = np.zeros(0, dtype=bool)
        self.taken_features = self.features
        self.taken_genuine = self.genuine
        self._staged: list[tuple[np.ndarray, np.ndarray]] = []

    def stage(
        self, signals: dict[str, np.ndarray | float], keep: np.ndarray, genuine: bool
    ) -> None:
        """Remember the signals of the entries ``keep`` selects, for the next ``push``."""
        columns = [
            np.broadcast_to(np.asarray(signals[k], float), keep.shape)[keep] for k in SIGNALS
        ]
        rows = (
            np.column_stack(columns).astype(FEATURE_DTYPE)
            if keep.any()
            else np.zeros((0, len(SIGNALS)), dtype=FEATURE_DTYPE)
        )
        self._staged.append((rows, np.full(rows.shape[0], genuine)))

    def push(self, hour: int, entries: list[tuple[np.ndarray, ...]]) -> None:
        """Add entries (one staged set of signals per entry group, in the same order)."""
        staged, self._staged = self._staged, []
        if len(staged) != len(entries):
            raise RuntimeError("every pushed entry group needs its staged signals")
        super().push(hour, entries)
        if entries:
            self.features = np.concatenate([self.features, *(f for f, _ in staged)])
            self.genuine = np.concatenate([self.genuine, *(g for _, g in staged)])

    def take(self, capacity: int, now: int, window: int) -> tuple[np.ndarray, ...]:
        """Review as ``ReviewQueue.take`` does; also note the taken entries' labels."""
        self.expire(now, window)
        features, genuine = self.features, self.genuine
        out = super().take(capacity, now, window)
        taken = len(out[0])  # a prefix of the queue: reviews go oldest first
        # copies, not views: a view would keep this hour's whole queue alive in the trainer
        self.taken_features, self.taken_genuine = features[:taken].copy(), genuine[:taken].copy()
        return out


class Trainer:
    """The reviews of recent hours and the periodic re-fit of the detector's weights."""

    def __init__(self, spec: Retraining) -> None:
        self.spec = spec
        self.examples: deque[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = deque()
        self.refits = 0

    def note(
        self, hour: int, features: np.ndarray, reviewed: np.ndarray, removed: np.ndarray
    ) -> None:
        """Keep this hour's verdicts: the signals, actions reviewed and removed, per entry."""
        if reviewed.size:
            self.examples.append((hour, features, reviewed, removed))

    def due(self, hour: int) -> bool:
        """Whether the detector is re-fitted at the end of this hour."""
        return (hour + 1) % self.spec.every_hours == 0

    def refit(self, hour: int, bias: float, weights: dict[str, float]) -> dict[str, float]:
        """New weights from the reviews of hours (hour - lag - window, hour - lag]."""
        newest = hour - self.spec.lag_hours
        oldest = newest - self.spec.window_hours
        while self.examples and self.examples[0][0] <= oldest:
            self.examples.popleft()  # too old to be used again
        usable = [e for e in self.examples if e[0] <= newest]
        if not usable:
            return weights
        w = np.array([weights[k] for k in SIGNALS])
        # summed hour by hour: no copy of the whole window in double precision
        total = np.zeros(len(SIGNALS))
        reviewed_total = 0.0
        for _hour, features, reviewed, removed in usable:
            total += rules.logistic_gradient_sum(bias, w, features, reviewed, removed)
            reviewed_total += float(np.sum(reviewed))
        new = rules.logistic_step_from_sum(
            w, total, reviewed_total, self.spec.learning_rate, self.spec.max_step
        )
        self.refits += 1
        return dict(zip(SIGNALS, new.tolist(), strict=True))
