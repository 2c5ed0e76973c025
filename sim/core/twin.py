"""The counterfactual twin of a points scenario: the same campaigns through a paid market.

What paying in points saves is measured against this twin, run with the same seed in step
with the scenario: the campaigns that a points-only recruiter served are placed instead
with the scenario's ``paid_alternative`` recruiter, whose workforce does them for money
under its own rate cards and pricing rule.
"""

from __future__ import annotations

from sim.scenario.schema import Scenario


def points_only_recruiters(s: Scenario) -> set[str]:
    """Top-level recruiters whose whole tree pays in points and never in money."""
    by_id = {r.id: r for r in s.recruiters}
    children: dict[str, list[str]] = {r.id: [] for r in s.recruiters}
    for r in s.recruiters:
        if r.parent is not None:
            children[r.parent].append(r.id)

    def tree(rid: str) -> list[str]:
        out, stack = [], [rid]
        while stack:
            cur = stack.pop()
            out.append(cur)
            stack.extend(children[cur])
        return out

    out = set()
    for r in s.recruiters:
        if r.parent is not None:
            continue
        members = [by_id[x] for x in tree(r.id)]
        pays_money = any(any(v > 0 for v in m.pays.values()) for m in members)
        pays_points = any(any(v > 0 for v in m.points.values()) for m in members)
        if pays_points and not pays_money:
            out.add(r.id)
    return out


def paid_twin(s: Scenario) -> Scenario | None:
    """The paid-market twin of ``s``, or None when ``s`` names no paid alternative."""
    alt = s.paid_alternative
    if alt is None:
        return None
    moved = points_only_recruiters(s)
    campaigns = [
        c.model_copy(
            update={
                "recruiter": alt.recruiter.id,
                "competitors": [],
                "price_per_action": dict(alt.price_per_action),
                "budget": None,
            }
        )
        if c.recruiter in moved
        else c
        for c in s.campaigns
    ]
    return s.model_copy(
        update={
            "recruiters": [*s.recruiters, alt.recruiter],
            "workers": [*s.workers, alt.workers],
            "campaigns": campaigns,
            "paid_alternative": None,
        }
    )
