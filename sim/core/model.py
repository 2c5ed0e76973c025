"""ClickFarmModel: the click-farm economy as a Mesa model.

Construction wires up components that each own their state (``Market``, ``Workforce``,
``Influencers``, ``Moderation``, ``Platform``, the ``Ledger``); ``ClickFarmModel.step`` is
the one written-out schedule of an hour over them (docs/ODD.md §3). Each phase returns a
typed record (``sim/core/records.py``) that the metrics read.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mesa
import numpy as np

from sim.core.accounts import AccountMarket
from sim.core.agents import BotAccount, Influencer, MicroWorker, Moderator, Recruiter
from sim.core.events import Timeline
from sim.core.ledger import Ledger
from sim.core.market import Market, Order, Pool, Structure
from sim.core.metrics import METRICS, MetricState, collect_step_metrics
from sim.core.moderation import Moderation
from sim.core.organic import build_audience
from sim.core.platform import Platform
from sim.core.population import build_population
from sim.core.records import HourRecord
from sim.core.retraining import LabelledQueue, Trainer
from sim.core.turnover import Turnover
from sim.core.twin import paid_twin
from sim.core.workforce import Influencers, Workforce
from sim.scenario.load import load_scenario, to_minor
from sim.scenario.schema import Scenario

__all__ = ["ClickFarmModel", "Order", "Pool"]


class ClickFarmModel(mesa.Model):
    """An hourly agent-based model of a click-farm economy.

    Args:
        spec: a shipped scenario name, a YAML path, or a validated ``Scenario``; the
            validated scenario is kept as ``model.spec``.
        rng: seed or numpy Generator; ``None`` uses the scenario's own ``seed``.
        scenario: the same as ``spec``, for callers that name it so (``mesa.batch_run``
            parameter dicts written for clickfarm 1.x). A Mesa ``Scenario`` object here
            is Mesa 3.5's own (SolaraViz's Reset passes one) and is ignored: clickfarm
            reads its parameters from ``spec``.
        **kwargs: scenario overrides with ``__`` for dots
            (``platform__moderation__moderators=20``), which is what ``mesa.batch_run``
            and Mesa's SolaraViz pass; ``overrides=["a.b=1", ...]`` gives them as
            ``dotted.key=value`` strings.
    """

    def __init__(
        self,
        spec: str | Path | Scenario = "baseline_microtask_market",
        *,
        rng: Any = None,
        scenario: Any = None,
        **kwargs: Any,
    ) -> None:
        if isinstance(scenario, str | Path | Scenario):
            spec = scenario
        assignments = list(kwargs.pop("overrides", None) or [])
        assignments += [f"{k.replace('__', '.')}={json.dumps(v)}" for k, v in kwargs.items()]
        validated = load_scenario(spec, assignments)  # the one road in
        if rng is None:
            rng = validated.seed
        # Mesa 3.5 also sets a ``model.scenario`` of its own class here; ours is ``spec``
        super().__init__(rng=rng)
        self.spec: Scenario = validated
        self.seed = int(rng) if isinstance(rng, int | np.integer) else None
        self.scale = validated.currency.minor_units
        self.max_steps = validated.steps
        self.region_ids = list(validated.regions)
        self.ledger = Ledger()
        self._build_components()
        self._build_agents()
        # the paid market a points scenario is priced against, run in step with it
        twin = paid_twin(validated)
        self.twin = None
        if twin is not None:
            # the same seed gives the twin the same draws; a Generator gets its own child
            twin_rng = self.seed if self.seed is not None else self.rng.spawn(1)[0]
            self.twin = ClickFarmModel(twin, rng=twin_rng)
        self.metric_state = MetricState()
        self.record: HourRecord | None = None
        self.metrics: dict[str, float] = collect_step_metrics(self)
        self.datacollector = mesa.DataCollector(
            model_reporters={name: _reporter(name) for name in METRICS}
        )
        self.running = True
        self.datacollector.collect(self)  # the state at step 0, as Mesa's examples record it

    # ------------------------------------------------------------------ set-up
    def _build_components(self) -> None:
        s, led = self.spec, self.ledger
        index = {r.id: i for i, r in enumerate(s.recruiters)}
        children: dict[int, list[int]] = {i: [] for i in range(len(s.recruiters))}
        for i, r in enumerate(s.recruiters):
            if r.parent is not None:
                children[index[r.parent]].append(i)
        leaves = [i for i in range(len(s.recruiters)) if not children[i]]
        leaf_of = {rec: m for m, rec in enumerate(leaves)}
        recruiter_account = led.open_accounts("recruiters", [r.id for r in s.recruiters])
        self.influencers = Influencers(s, index, led)
        leaf_index = {s.recruiters[rec].id: m for rec, m in leaf_of.items()}
        workers, accounts = build_population(s, self.rng, leaf_index, self.influencers.offset)
        self.influencers.build_network(s, workers, self.rng)
        self.workforce = Workforce(
            s,
            workers,
            accounts,
            led,
            len(leaves),
            leaf_index,
            self.influencers,
            recruiter_account,
            self.rng,
        )
        self.platform = Platform(s, led)
        client_names = sorted({c.client for c in s.campaigns})
        rows = led.open_accounts("clients", client_names)
        structure = Structure(
            children=children,
            leaves=leaves,
            leaf_of_recruiter=leaf_of,
            recruiter_account=recruiter_account,
            client_account=dict(zip(client_names, rows.tolist(), strict=True)),
            workforce=np.array([m.size for m in self.workforce.members], dtype=np.int64),
            bots=np.array(
                [int(workers.is_bot[m].sum()) for m in self.workforce.members], dtype=np.int64
            )
            if workers.is_bot.any()
            else None,
        )
        self.market = Market(s, led, structure)
        self.moderation = Moderation(s, workers, accounts)
        self.organic = build_audience(s, self.rng)  # genuine users, or None
        retraining = s.platform.detection.retraining
        if self.organic is not None or retraining is not None:
            trainer = None if retraining is None else Trainer(retraining)
            self.moderation.attach_learning(LabelledQueue(), self.organic, trainer)
        self.account_market = None  # accounts as goods, only when the scenario has them
        if s.account_market is not None:
            self.account_market = AccountMarket(
                s,
                workers,
                accounts,
                led,
                self.market,
                self.rng,
                self.workforce.leave_banned_accounts,
            )
        self.timeline = Timeline(s)
        for rid in self.timeline.entering():
            self.market.active[index[rid]] = False  # trades only from its enter event
        for r, spec in enumerate(s.recruiters):
            capital = to_minor(spec.capital, self.scale)
            if capital:
                led.transfer("money", 0, int(recruiter_account[r]), capital, "capital")
        self.community_sizes = np.bincount(
            workers.community[workers.community >= 0], minlength=self.influencers.size
        )
        self.turnover = Turnover(s, workers, self.workforce.worker_accounts, led, self.rng)

    def _build_agents(self) -> None:
        s = self.spec
        self.recruiter_agents = [Recruiter(self, i) for i in range(len(s.recruiters))]
        self.influencer_agents = []
        for r in s.recruiters:
            if r.influencers is not None:
                off = self.influencers.offset[r.id]
                self.influencer_agents += [
                    Influencer(self, off + j, r.id) for j in range(r.influencers.count)
                ]
        self.worker_agents = [
            BotAccount(self, i) if bot else MicroWorker(self, i)
            for i, bot in enumerate(self.workers.is_bot.tolist())
        ]
        self.moderator_agents = [Moderator(self, i) for i in range(self.moderation.capacity_limit)]

    # ------------------------------------------------------------------ public views
    @property
    def hour(self) -> int:
        """The hour the last step simulated (-1 before the first step)."""
        return self.steps - 1

    def money(self, units: int | np.integer) -> float:
        """Ledger units to major currency units (for display only)."""
        return int(units) / self.scale

    @property
    def workers(self):
        """Per-worker state arrays (``sim/core/population.py: Workers``)."""
        return self.workforce.workers

    @property
    def accounts(self):
        """Platform accounts of workers and bots."""
        return self.workforce.accounts

    @property
    def worker_accounts(self) -> np.ndarray:
        """Ledger rows of the workers, in worker order."""
        return self.workforce.worker_accounts

    @property
    def orders(self) -> list[Order]:
        """Every order placed so far."""
        return self.market.orders

    @property
    def open_orders(self) -> list[Order]:
        """Orders still open (or refilling)."""
        return self.market.open_orders

    @property
    def objective_orders(self) -> list[Order]:
        """Placed orders that carry a collective objective."""
        return self.market.objective_orders

    @property
    def leaves(self) -> list[int]:
        """Recruiter indices of the leaf markets, in market order."""
        return self.market.structure.leaves

    @property
    def leaf_of_recruiter(self) -> dict[int, int]:
        """Leaf market index of each bottom-level recruiter."""
        return self.market.structure.leaf_of_recruiter

    @property
    def recruiter_account(self) -> np.ndarray:
        """Ledger rows of the recruiters."""
        return self.market.structure.recruiter_account

    @property
    def client_account(self) -> dict[str, int]:
        """Ledger row of each client."""
        return self.market.structure.client_account

    @property
    def influencer_accounts(self) -> np.ndarray:
        """Ledger rows of the influencers."""
        return self.influencers.accounts

    @property
    def influencer_relays(self) -> np.ndarray:
        """How many times each influencer relayed a call to act."""
        return self.influencers.relays

    @property
    def moderator_accounts(self) -> np.ndarray:
        """Ledger rows of the moderators."""
        return self.platform.moderator_accounts

    @property
    def moderator_reviews(self) -> np.ndarray:
        """Reviews done by each moderator."""
        return self.moderation.moderator_reviews

    @property
    def platform_account(self) -> int:
        """Ledger row of the platform."""
        return self.platform.account

    @property
    def ordered_total(self) -> int:
        """Actions ordered so far."""
        return self.market.ordered_total

    # ------------------------------------------------------------------ the step
    def step(self) -> None:
        """One hour. The order of phases is the model's schedule (docs/ODD.md §3)."""
        hour = self.steps - 1  # Mesa has already counted this step
        self.ledger.start_step()
        events = self.timeline.apply_due(self, hour)
        if self.organic is not None:
            self.organic.apply_purges(events, self.timeline.events)
        market = self.market.open_and_close(hour)
        if self.influencers.size:  # without influencers, relay draws and does nothing
            busy = {p.chain[-1] for _, p in self.market.open_pools()}
            self.influencers.relay(hour, busy, self.market.influencer_pay_ratio(), self.rng)
        work = self.workforce.work(hour, self.market)
        genuine = None if self.organic is None else self.organic.act(hour, self.market, self.rng)
        moderation = self.moderation.step(hour, work.deliveries, self.market, self.rng, genuine)
        self.market.apply_removals(moderation.removed_by_pool, hour)
        platform = self.platform.step(
            hour,
            work,
            moderation.removed_by_type,
            self.market,
            self.moderation.moderators,
            genuine=genuine,
            genuine_removed=moderation.genuine_removed_by_type,
        )
        self.moderation.update_capacity(
            hour, self.platform.revenue_per_action(work), self.platform.wage
        )
        self.moderation.retrain(hour)
        self.market.reprice(hour)
        self.market.adapt_tactics(hour, self.rng)
        update = self.workforce.update(hour)
        accounts = (
            self.account_market.trade(hour, work, moderation) if self.account_market else None
        )
        self.workforce.choose_accounts(self.market)
        turnover = self.turnover.step(
            hour, work, self.workforce.hours_this_step, self.workforce.online_rows
        )
        if self.account_market is not None and turnover.left_rows.size:
            self.account_market.release(turnover.left_rows, hour + 1)  # leavers' accounts
        self.ledger.check_balanced()
        self.record = HourRecord(
            hour, events, market, work, moderation, platform, update, genuine, turnover, accounts
        )
        if self.twin is not None:
            self.twin.step()
        self.metrics = collect_step_metrics(self)
        self.datacollector.collect(self)
        if self.steps >= self.max_steps:
            self.running = False


def _reporter(name: str):
    return lambda model: model.metrics[name]
