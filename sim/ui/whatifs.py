"""One-click what-ifs: each is a list of scenario changes that really runs.

A what-if turns a scenario into a variant through the same ``dotted.key=value`` changes
the parameter controls make, so a variant can be exported as YAML and reproduced with
``clickfarm run``. Each one says in a sentence what it changes and what it assumes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from sim.scenario.load import resolved_dict
from sim.scenario.schema import Scenario


class NotApplicable(Exception):
    """The what-if makes no sense for this scenario (the message says why)."""


@dataclass(frozen=True)
class WhatIf:
    """A ready-made change to a scenario, for comparing against the scenario as it is.

    Attributes:
        id: The what-if's name in ``WHATIFS``.
        title: Its name in the label of set-up B.
        explains: A sentence saying what changes, with this scenario's numbers.
        changes: ``(dotted.key, value)`` pairs to apply to the set-up.
    """

    id: str
    title: str
    explains: str
    changes: tuple[tuple[str, Any], ...]


def _plain(value: Decimal) -> float | int:
    return int(value) if value == value.to_integral_value() else float(value)


def _floor_units(value: Decimal, scale: int) -> Decimal:
    """Round a money amount down to a whole number of ledger units."""
    return (value * scale).to_integral_value(rounding=ROUND_FLOOR) / scale


def _leaves_with_humans(s: Scenario) -> list[int]:
    parents = {r.parent for r in s.recruiters if r.parent}
    humans = {g.recruiter for g in s.workers if g.kind == "human" and g.count > 0}
    return [i for i, r in enumerate(s.recruiters) if r.id not in parents and r.id in humans]


def double_moderators(s: Scenario) -> WhatIf:
    """Twice the platform's moderators (10 when it has none)."""
    now = s.platform.moderation.moderators
    new = 2 * now if now else 10
    return WhatIf(
        id="double_moderators",
        title="Double the moderators",
        explains=f"The platform employs {new:,} moderators instead of {now:,}; "
        "everything else stays the same.",
        changes=(("platform.moderation.moderators", new),),
    )


def pay_in_points(s: Scenario) -> WhatIf:
    """Workers get points instead of money; a point feels worth what the work paid."""
    changes: list[tuple[str, Any]] = []
    touched = []
    for i in _leaves_with_humans(s):
        r = s.recruiters[i]
        paid = {a: p for a, p in r.pays.items() if p > 0}
        if not paid:
            continue
        unit = min(paid.values())
        points = {a: min(1000, max(1, round(p / unit))) for a, p in paid.items()}
        for a, pts in r.points.items():
            points[a] = max(points.get(a, 0), pts)
        changes.append((f"recruiters.{r.id}.pays", {}))
        changes.append((f"recruiters.{r.id}.points", points))
        for g in s.workers:
            if g.recruiter == r.id and g.kind == "human":
                m = g.motivation
                changes.append(
                    (
                        f"workers.{g.id}.motivation",
                        {
                            "money": 0.0,
                            "points": 1.0,
                            "conviction": m.conviction,
                            "point_value": _plain(unit),
                            "conviction_value_per_hour": _plain(m.conviction_value_per_hour),
                        },
                    )
                )
        touched.append(r.name or r.id)
    if not changes:
        raise NotApplicable("nobody here is paid money for tasks, so there is nothing to replace")
    return WhatIf(
        id="pay_in_points",
        title="Pay in points instead of money",
        explains=f"{', '.join(touched)} award points instead of pay; each point feels worth "
        "what the cheapest task used to pay, so workers value the work as before, but "
        "nobody hands over any money. Clients still pay the same prices.",
        changes=tuple(changes),
    )


def to_pyramid(s: Scenario) -> WhatIf:
    """A central recruiter hands its work to an influencer network below it."""
    scale = s.currency.minor_units
    central = [
        i
        for i in _leaves_with_humans(s)
        if s.recruiters[i].parent is None and s.recruiters[i].influencers is None
    ]
    if not central:
        raise NotApplicable("no recruiter here hires its workers directly: it is already a pyramid")
    data = resolved_dict(s)
    recruiters = data["recruiters"]
    taken = {r["id"] for r in recruiters}
    changes: list[tuple[str, Any]] = []
    names = []
    for i in central:
        r = s.recruiters[i]
        prices: dict[str, Decimal] = {}
        for c in s.campaigns:
            if c.recruiter == r.id:
                for a, p in c.price_per_action.items():
                    prices[a] = max(prices.get(a, Decimal(0)), p)
        charges, influencer_pay = {}, {}
        for a in set(r.pays) | set(prices):
            pay = r.pays.get(a, Decimal(0))
            price = prices.get(a, pay)
            charge = _floor_units(pay + max(price - pay, Decimal(0)) / 2, scale)
            charges[a] = _plain(charge)
            influencer_pay[a] = _plain(_floor_units((charge - pay) * Decimal("0.8"), scale))
        workers = sum(g.count for g in s.workers if g.recruiter == r.id)
        new_id = (r.id[:32] + "_network") if f"{r.id[:32]}_network" not in taken else "network_x"
        taken.add(new_id)
        # the leaf's own practices (tactics, held pay) move down with its workers
        moved = {k: recruiters[i][k] for k in ("tactics", "pay_hold_hours") if k in recruiters[i]}
        recruiters[i] = {
            **recruiters[i],
            "pays": {},
            "points": {},
            "tactics": {"repertoire": []},
            "pay_hold_hours": 0,
        }
        recruiters.append(
            {
                "id": new_id,
                "name": f"{r.name or r.id}: influencer network",
                "kind": "influencer_network",
                "parent": r.id,
                "charges": charges,
                "pays": {a: _plain(p) for a, p in r.pays.items()},
                "points": dict(r.points),
                **moved,
                "influencers": {
                    "count": max(5, min(1000, workers // 100)),
                    "pay_per_action": {a: v for a, v in influencer_pay.items() if v > 0},
                    "relay_probability_per_hour": 0.2,
                    "attention_hours": 6,
                    "community_size_exponent": 1.0,
                },
            }
        )
        for g in s.workers:
            if g.recruiter == r.id:
                changes.append((f"workers.{g.id}.recruiter", new_id))
        names.append(r.name or r.id)
    return WhatIf(
        id="to_pyramid",
        title="Switch to a pyramid",
        explains=f"{', '.join(names)} stop hiring workers directly and hand the work to an "
        "influencer network below them; the workers join the influencers' communities and "
        "act when an influencer relays a call. Workers keep their pay; the central recruiter "
        "gives half its margin to the network, which passes 80% of that to influencers.",
        changes=(("recruiters", recruiters), *changes),
    )


def to_bots(s: Scenario) -> WhatIf:
    """Every human worker is replaced by a bot account run by the same recruiter."""
    leaves = _leaves_with_humans(s)
    if not leaves:
        raise NotApplicable("there are no human workers to replace")
    changes: list[tuple[str, Any]] = []
    for i in leaves:
        r = s.recruiters[i]
        changes += [
            (f"recruiters.{r.id}.kind", "bot_operator"),
            (f"recruiters.{r.id}.influencers", None),
            (f"recruiters.{r.id}.pays", {}),
            (f"recruiters.{r.id}.points", {}),
            (f"recruiters.{r.id}.software_cost", max(100, _plain(r.software_cost))),
        ]
        for g in s.workers:
            if g.recruiter == r.id and g.kind == "human":
                changes += [
                    (f"workers.{g.id}.kind", "bot"),
                    (
                        f"workers.{g.id}.accounts",
                        {
                            "per_worker": {"mean": 1.0},
                            "age_days": {"mean": 2, "cv": 0.5},
                            "trust": 0.1,
                            "reopen_probability_per_day": 1.0,
                        },
                    ),
                ]
                # bots neither join, leave nor learn (validation refuses the blocks)
                changes += [
                    (f"workers.{g.id}.{block}", None)
                    for block in ("turnover", "learning")
                    if getattr(g, block) is not None
                ]
    # with no people left, a reseller has no one to move its orders to
    for r in s.recruiters:
        if "to_people" in r.tactics.repertoire:
            kept = [t for t in r.tactics.repertoire if t != "to_people"]
            changes.append((f"recruiters.{r.id}.tactics.repertoire", kept))
    return WhatIf(
        id="to_bots",
        title="Replace the workers with bots",
        explains="Each human worker becomes a bot account (young, little trusted, re-opened "
        "within a day when banned); each recruiter buys bot software once for 100 "
        f"{s.currency.code} (the seed document's price) and pays nobody per task.",
        changes=tuple(changes),
    )


WHATIFS: dict[str, Callable[[Scenario], WhatIf]] = {
    "pay_in_points": pay_in_points,
    "double_moderators": double_moderators,
    "to_pyramid": to_pyramid,
    "to_bots": to_bots,
}
TITLES = {
    "pay_in_points": "Pay in points instead of money",
    "double_moderators": "Double the moderators",
    "to_pyramid": "Switch to a pyramid",
    "to_bots": "Replace the workers with bots",
}


def build(name: str, scenario: Scenario) -> WhatIf:
    """The what-if ``name`` for ``scenario``.

    Raises:
        KeyError: ``name`` is not a known what-if.
        NotApplicable: The what-if makes no sense for this scenario.
    """
    if name not in WHATIFS:
        raise KeyError(f"unknown what-if {name!r}; expected one of {', '.join(WHATIFS)}")
    return WHATIFS[name](scenario)


def available(scenario: Scenario) -> dict[str, WhatIf | str]:
    """Every what-if for this scenario, or the reason it does not apply."""
    out: dict[str, WhatIf | str] = {}
    for name, make in WHATIFS.items():
        try:
            out[name] = make(scenario)
        except NotApplicable as exc:
            out[name] = str(exc)
    return out
