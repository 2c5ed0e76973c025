"""Mesa agents: the inspectable face of the model's array state.

The hot loop works on numpy arrays (``sim/core/population.py``); each agent here reads its
own row, so ``model.agents`` can be browsed, filtered and reported on as in any Mesa
model without the step paying for per-agent Python calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import mesa

if TYPE_CHECKING:
    from sim.core.model import ClickFarmModel


class Recruiter(mesa.Agent):
    """A broker, farm, campaign platform, influencer network or bot operator."""

    def __init__(self, model: ClickFarmModel, index: int) -> None:
        super().__init__(model)
        self.index = index
        spec = model.spec.recruiters[index]
        self.recruiter_id = spec.id
        self.name = spec.name or spec.id
        self.kind = spec.kind
        self.parent_id = spec.parent

    @property
    def balance(self) -> float:
        """The recruiter's money balance now, in major currency units."""
        return self.model.money(
            self.model.ledger.balances["money"][self.model.recruiter_account[self.index]]
        )

    @property
    def workforce(self) -> int:
        """Workers and bots whose own market is this recruiter's tasks (0 unless it is a leaf)."""
        return int(
            (self.model.workers.market == self.model.leaf_of_recruiter.get(self.index, -1)).sum()
        )

    def state(self) -> dict[str, Any]:
        """A snapshot of this recruiter for inspection.

        Returns:
            Its id, name, kind, parent, money balance and workforce, keyed by name.
        """
        return {
            "kind": "recruiter",
            "id": self.recruiter_id,
            "name": self.name,
            "recruiter_kind": self.kind,
            "parent": self.parent_id,
            "balance": self.balance,
            "workforce": self.workforce,
        }


class Influencer(mesa.Agent):
    """An account with a community; relays tasks and is paid per action it generates."""

    def __init__(self, model: ClickFarmModel, index: int, network: str) -> None:
        super().__init__(model)
        self.index = index
        self.network = network

    @property
    def community_size(self) -> int:
        """How many workers belong to this influencer's community."""
        return int(self.model.community_sizes[self.index])

    @property
    def balance(self) -> float:
        """The influencer's money balance now, in major currency units."""
        return self.model.money(
            self.model.ledger.balances["money"][self.model.influencer_accounts[self.index]]
        )

    @property
    def relays(self) -> int:
        """How many times this influencer has relayed a call to act."""
        return int(self.model.influencer_relays[self.index])

    def state(self) -> dict[str, Any]:
        """A snapshot of this influencer for inspection.

        Returns:
            Its network, community size, relay count and money balance, keyed by name.
        """
        return {
            "kind": "influencer",
            "network": self.network,
            "community_size": self.community_size,
            "relays": self.relays,
            "balance": self.balance,
        }


class MicroWorker(mesa.Agent):
    """A person doing micro-tasks through one or more platform accounts."""

    def __init__(self, model: ClickFarmModel, index: int) -> None:
        super().__init__(model)
        self.index = index

    def _get(self, name: str) -> Any:
        return getattr(self.model.workers, name)[self.index]

    @property
    def group(self) -> str:
        """The id of the worker group this worker was drawn from."""
        return self.model.spec.workers[int(self._get("group"))].id

    @property
    def region(self) -> str:
        """The id of the worker's region."""
        return self.model.region_ids[int(self._get("region"))]

    @property
    def earnings(self) -> float:
        """Money earned so far (the worker's ledger balance), in major currency units."""
        return self.model.money(
            self.model.ledger.balances["money"][self.model.worker_accounts[self.index]]
        )

    @property
    def points(self) -> int:
        """Points earned so far."""
        return int(self._get("points"))

    @property
    def tasks_done(self) -> int:
        """Tasks completed so far."""
        return int(self._get("tasks_done"))

    @property
    def hours_online(self) -> float:
        """Hours spent online so far."""
        return float(self._get("hours_online"))

    @property
    def hours_unpaid(self) -> float:
        """Hours online not spent on paid work (searching, waiting, unpaid tasks)."""
        return float(self._get("hours_unpaid"))

    @property
    def effective_hourly_pay(self) -> float:
        """Earnings per hour online (0 before the first hour online)."""
        hours = self.hours_online
        return self.earnings / hours if hours > 0 else 0.0

    @property
    def fatigue(self) -> float:
        """Current fatigue level."""
        return float(self._get("fatigue"))

    @property
    def accounts(self) -> list[dict[str, Any]]:
        """The worker's platform accounts, banned ones included.

        Returns:
            One record per account: its row, age in days, trust, strikes and whether it is banned.
        """
        acc = self.model.accounts
        rows = (acc.owner == self.index).nonzero()[0]
        return [
            {
                "account": int(r),
                "age_days": float(acc.age_hours[r] / 24),
                "trust": float(acc.trust[r]),
                "strikes": int(acc.strikes[r]),
                "banned": bool(acc.banned[r]),
            }
            for r in rows
        ]

    def state(self) -> dict[str, Any]:
        """A snapshot of this worker for inspection.

        Returns:
            Its class name, group, region, speed, activity, running outcomes (tasks, earnings,
            points, hours, hourly pay, fatigue) and its accounts, keyed by name.
        """
        return {
            "kind": type(self).__name__,
            "group": self.group,
            "region": self.region,
            "speed": float(self._get("speed")),
            "activity": float(self._get("activity")),
            "tasks_done": self.tasks_done,
            "earnings": self.earnings,
            "points": self.points,
            "hours_online": self.hours_online,
            "hours_unpaid": self.hours_unpaid,
            "effective_hourly_pay": self.effective_hourly_pay,
            "fatigue": self.fatigue,
            "accounts": self.accounts,
        }


class BotAccount(MicroWorker):
    """A scripted account run by a bot operator: no pay, no fatigue, easier to detect."""


class Moderator(mesa.Agent):
    """A platform moderator with limited review capacity and imperfect accuracy."""

    def __init__(self, model: ClickFarmModel, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def reviews(self) -> int:
        """Actions this moderator has reviewed so far."""
        return int(self.model.moderator_reviews[self.index])

    @property
    def earnings(self) -> float:
        """Wages earned so far (the moderator's ledger balance), in major currency units."""
        return self.model.money(
            self.model.ledger.balances["money"][self.model.moderator_accounts[self.index]]
        )

    def state(self) -> dict[str, Any]:
        """A snapshot of this moderator for inspection.

        Returns:
            Its kind, review count and earnings, keyed by name.
        """
        return {"kind": "moderator", "reviews": self.reviews, "earnings": self.earnings}
