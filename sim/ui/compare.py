"""Two set-ups run side by side on the same seed, and the numbers that differ.

Also defines the headline numbers every view shows, with their labels and formats, so
that the Explore strip, the comparison table and presenter mode say the same thing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sim.ui.ensemble import Ensemble, beyond_spread
from sim.ui.session import LiveRun

# (summary headline key, label, format: "int", "money", "share", "hours", "rate", "ratio")
HEADLINES: tuple[tuple[str, str, str], ...] = (
    ("total_delivered", "actions delivered", "int"),
    ("total_surviving", "actions surviving moderation", "int"),
    ("total_removed", "actions removed", "int"),
    ("total_banned", "accounts banned", "int"),
    ("total_client_spend", "client spend", "money"),
    ("total_worker_income", "workers' income", "money"),
    ("worker_share_of_spend", "workers' share of spend", "share"),
    ("cost_per_1000_surviving", "cost per 1,000 surviving actions", "money"),
    ("hourly_pay_median", "workers' effective hourly pay (median)", "rate"),
    ("top10_share_of_tasks", "top 10% of workers' share of tasks", "share"),
    ("total_unpaid_hours", "unpaid hours", "hours"),
    ("points_cost_saved", "points work priced by the paid twin", "money"),
    ("total_reach", "reach bought (impressions)", "int"),
    ("objectives_reached", "objectives reached", "int"),
)
LABELS = {key: label for key, label, _ in HEADLINES}
SHORT = {
    **LABELS,
    "total_surviving": "actions surviving",
    "total_client_spend": "client spend",
    "worker_share_of_spend": "workers' share",
    "hourly_pay_median": "median pay",
    "total_unpaid_hours": "unpaid hours",
}
"""Shorter labels for the tiles in presenter mode."""


MINUS = "\u2212"
"""The typographic minus sign, used for every negative number the page shows."""


def signed(text: str) -> str:
    """``text`` with a leading hyphen-minus written as a true minus sign."""
    return MINUS + text[1:] if text.startswith("-") else text


def fmt(value: float | None, kind: str, currency: str = "") -> str:
    """A headline number as the page shows it."""
    if value is None:
        return "—"
    v = float(value)
    if v < 0:
        return MINUS + fmt(-v, kind, currency)
    if kind == "int":
        return f"{v:,.0f}"
    if kind == "share":
        return f"{v:.1%}"
    if kind == "hours":
        return f"{v:,.1f} h"
    if kind == "rate":
        return f"{_num(v)} {currency}/h"
    if kind == "money":
        return f"{_num(v)} {currency}"
    return f"{v:,.4g}"


def _num(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 1:
        return f"{v:,.2f}"
    return f"{v:.3g}"


def fmt_change(a: float, b: float, kind: str, currency: str = "") -> tuple[str, str]:
    """``B − A`` in the metric's own format, and the relative change."""
    diff = float(b) - float(a)
    if kind == "share":
        text = f"{diff * 100:+.1f} points"
    elif kind == "int":
        text = f"{diff:+,.0f}"
    elif kind == "hours":
        text = f"{diff:+,.1f} h"
    else:
        text = ("+" if diff >= 0 else MINUS) + fmt(abs(diff), kind, currency)
    if a == 0:
        rel = ""
    else:
        ratio = diff / abs(float(a))
        rel = "0%" if round(ratio * 100) == 0 else f"{ratio:+.0%}"
    return signed(text).replace("+-", MINUS), signed(rel)


OVERLAY_PREFERENCE = (
    "total_surviving",
    "total_removed",
    "total_worker_income",
    "total_unpaid_hours",
    "total_banned",
    "total_delivered",
)
"""Metrics the comparison chart starts on, in order; the first that differs is shown."""


def default_overlay_metric(a: dict[str, Any] | None, b: dict[str, Any] | None) -> str:
    """The first preferred headline on which the two runs' end values differ.

    A what-if that moves nothing on the first choice (paying in points leaves no income
    to compare) would otherwise open on two flat, equal lines.
    """
    if a and b:
        for key in OVERLAY_PREFERENCE:
            if a["headline"].get(key) != b["headline"].get(key):
                return key
    return OVERLAY_PREFERENCE[0]


@dataclass
class Comparison:
    """Set-up A and set-up B, same seed, stepped together."""

    a: LiveRun
    b: LiveRun
    label_a: str
    label_b: str
    explains: str = ""

    @property
    def finished(self) -> bool:
        """Whether both runs have stopped."""
        return self.a.finished and self.b.finished

    @property
    def steps(self) -> tuple[int, int]:
        """Hours run by A and by B."""
        return self.a.steps, self.b.steps

    def step(self, n: int = 1) -> None:
        """Advance A, then B, by up to ``n`` hours each."""
        self.a.step(n)
        self.b.step(n)

    def run_to_end(
        self,
        should_stop: Callable[[], bool] | None = None,
        on_progress: Callable[[float], None] | None = None,
        chunk: int = 24,
    ) -> None:
        """Step both runs to their end in chunks, checking ``should_stop`` between them.

        Args:
            should_stop: Called before each chunk; returning True stops early.
            on_progress: Called after each chunk with the fraction of both runs' hours done.
            chunk: Hours per chunk.
        """
        total = max(self.a.max_steps + self.b.max_steps, 1)
        while not self.finished:
            if should_stop is not None and should_stop():
                return
            self.step(chunk)
            if on_progress is not None:
                on_progress((self.a.steps + self.b.steps) / total)

    def table(self) -> list[dict[str, Any]]:
        """One row per headline figure: A, B, B − A and the relative change.

        The difference keeps a currency only when both runs use the same one; a side
        with no summary yet shows a dash and no difference.
        """
        sa, sb = self.a.summary(), self.b.summary()
        cur_a, cur_b = self.a.currency, self.b.currency
        rows = []
        for key, label, kind in HEADLINES:
            va = sa["headline"][key] if sa else None
            vb = sb["headline"][key] if sb else None
            change, rel = ("", "")
            if va is not None and vb is not None:
                change, rel = fmt_change(va, vb, kind, cur_a if cur_a == cur_b else "")
            rows.append(
                {
                    "metric": label,
                    "A": fmt(va, kind, cur_a),
                    "B": fmt(vb, kind, cur_b),
                    "B − A": change,
                    "change": rel,
                }
            )
        return rows


def band_text(low: float, high: float, kind: str, currency: str = "") -> str:
    """A 10th–90th percentile range in the metric's own format."""
    return f"{fmt(low, kind, currency)} – {fmt(high, kind, currency)}"


def ensemble_rows(ens: Ensemble) -> list[dict[str, Any]]:
    """Each headline figure of an ensemble: its mean and 10th–90th percentile band."""
    cur = ens.setup.scenario().currency.code
    rows = []
    for key, label, kind in HEADLINES:
        mean, low, high = ens.band(key).end
        rows.append(
            {
                "metric": label,
                "mean": fmt(mean, kind, cur),
                "10th–90th percentile": band_text(low, high, kind, cur),
            }
        )
    return rows


def ensemble_comparison_rows(a: Ensemble, b: Ensemble) -> list[dict[str, Any]]:
    """A against B across seeds, and whether each difference exceeds seed-to-seed spread."""
    cur_a, cur_b = (e.setup.scenario().currency.code for e in (a, b))
    cur = cur_a if cur_a == cur_b else ""
    rows = []
    for key, label, kind in HEADLINES:
        ma, la, ha = a.band(key).end
        mb, lb, hb = b.band(key).end
        change, rel = fmt_change(ma, mb, kind, cur)
        rows.append(
            {
                "metric": label,
                "A (mean)": fmt(ma, kind, cur_a),
                "A band": band_text(la, ha, kind, cur_a),
                "B (mean)": fmt(mb, kind, cur_b),
                "B band": band_text(lb, hb, kind, cur_b),
                "B − A": change,
                "beyond seed spread?": "yes" if beyond_spread(a, b, key) else "no",
            }
        )
    return rows
