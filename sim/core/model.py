"""ClickFarmModel: the click-farm economy as a Mesa model.

The whole schedule of one hourly step is ``ClickFarmModel.step`` below; each phase is a
method of the same name, and every behavioural rule it applies lives in ``sim/core/rules.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mesa
import numpy as np

from sim.core import rules
from sim.core.agents import BotAccount, Influencer, MicroWorker, Moderator, Recruiter
from sim.core.ledger import WORLD, Ledger
from sim.core.metrics import METRICS, collect_step_metrics
from sim.core.population import build_population
from sim.scenario.load import load_scenario, to_minor
from sim.scenario.schema import ACTION_TYPES, Scenario

K = len(ACTION_TYPES)


@dataclass
class Pool:
    """The share of one order served by one leaf recruiter's workforce."""

    market: int
    chain: list[int]  # recruiter indices from the order's recruiter down to the leaf
    chain_prices: list[np.ndarray]  # price per action paid to chain[i] by whoever is above it
    remaining: np.ndarray
    pool_id: int = -1
    delivered: np.ndarray = field(default_factory=lambda: np.zeros(K, dtype=np.int64))
    removed: np.ndarray = field(default_factory=lambda: np.zeros(K, dtype=np.int64))


@dataclass
class Order:
    """One placement of a campaign (a repeating campaign places several)."""

    name: str
    campaign: int
    start: int  # first hour it is open
    end: int  # first hour it is closed
    quantities: np.ndarray
    prices: np.ndarray
    urgency: int
    objective: bool
    audience_region: int
    organic_per_hour: float
    promotion_per_day: int
    drip_feed: bool
    client_account: int
    pools: list[Pool]
    status: str = "pending"  # pending -> open -> closed
    funded: int = 0
    spent: int = 0
    completed_hour: int | None = None
    index: int = 0  # position among all the run's orders (campaign order, then placement)

    @property
    def objective_reached(self) -> bool:
        return self.objective and self.completed_hour is not None and self.completed_hour < self.end

    @property
    def tag(self) -> str:
        """The campaign id its money flows are booked under."""
        return self.name.split("#")[0]

    @property
    def delivered(self) -> np.ndarray:
        return sum((p.delivered for p in self.pools), np.zeros(K, dtype=np.int64))

    @property
    def remaining_total(self) -> int:
        return int(sum(int(p.remaining.sum()) for p in self.pools))

    def progress(self) -> float:
        total = int(self.quantities.sum())
        return 0.0 if total == 0 else float(self.delivered.sum()) / total


class ClickFarmModel(mesa.Model):
    """An hourly agent-based model of a click-farm economy.

    Args:
        scenario: a shipped scenario name, a YAML path, or a validated ``Scenario``.
        rng: seed or numpy Generator; ``None`` uses the scenario's own ``seed``.
        overrides: ``dotted.key=value`` strings, validated like the file.
        **params: the same overrides as keywords, with ``__`` for dots
            (``platform__moderation__moderators=20``), which is what ``mesa.batch_run``
            passes.
    """

    def __init__(
        self,
        scenario: str | Path | Scenario = "baseline_microtask_market",
        *,
        rng: Any = None,
        overrides: list[str] | None = None,
        **params: Any,
    ) -> None:
        assignments = list(overrides or [])
        assignments += [f"{k.replace('__', '.')}={json.dumps(v)}" for k, v in params.items()]
        scenario = load_scenario(scenario, assignments)
        if rng is None:
            rng = scenario.seed
        super().__init__(rng=rng)
        self.scenario: Scenario = scenario
        self.seed = int(rng) if isinstance(rng, int | np.integer) else None
        self.scale = scenario.currency.minor_units
        self.max_steps = scenario.steps
        self.region_ids = list(scenario.regions)
        self.ledger = Ledger()
        self._build_structure()
        self._build_orders()
        self._index_orders()
        self._build_agents()
        self.metrics: dict[str, float] = {name: 0.0 for name in METRICS}
        self.totals: dict[str, float] = {}
        self.datacollector = mesa.DataCollector(
            model_reporters={name: _reporter(name) for name in METRICS}
        )
        self.running = True

    # Mesa 3.5 gives every model a `scenario` of its own (mesa.experimental.scenarios) and
    # sets it in Model.__init__; ours is the validated clickfarm Scenario, kept apart.
    @property
    def scenario(self) -> Scenario:
        return self._clickfarm_scenario

    @scenario.setter
    def scenario(self, value: Any) -> None:
        if isinstance(value, Scenario):
            self._clickfarm_scenario = value
        else:
            self.mesa_scenario = value

    # ------------------------------------------------------------------ set-up
    def _build_structure(self) -> None:
        s, led = self.scenario, self.ledger
        self.recruiter_index = {r.id: i for i, r in enumerate(s.recruiters)}
        children: dict[int, list[int]] = {i: [] for i in range(len(s.recruiters))}
        for i, r in enumerate(s.recruiters):
            if r.parent is not None:
                children[self.recruiter_index[r.parent]].append(i)
        self.children = children
        self.leaves = [i for i in range(len(s.recruiters)) if not children[i]]
        self.leaf_of_recruiter = {rec: m for m, rec in enumerate(self.leaves)}
        self.recruiter_account = led.open_accounts("recruiters", [r.id for r in s.recruiters])
        offsets, total = {}, 0
        for r in s.recruiters:
            if r.influencers is not None:
                offsets[r.id] = total
                total += r.influencers.count
        self.influencer_offset = offsets
        self.influencer_network = np.full(total, -1, dtype=np.int64)
        for r in s.recruiters:
            if r.influencers is not None:
                start = offsets[r.id]
                self.influencer_network[start : start + r.influencers.count] = self.recruiter_index[
                    r.id
                ]
        self.influencer_accounts = led.open_block("influencers", total)
        self.influencer_last_relay = np.full(total, -(10**9), dtype=np.int64)
        self.influencer_relays = np.zeros(total, dtype=np.int64)
        self.influencer_relay_p = np.zeros(total)
        self.influencer_attention = np.zeros(total, dtype=np.int64)
        for r in s.recruiters:
            if r.influencers is not None:
                sl = slice(offsets[r.id], offsets[r.id] + r.influencers.count)
                self.influencer_relay_p[sl] = r.influencers.relay_probability_per_hour
                self.influencer_attention[sl] = r.influencers.attention_hours
        leaf_index = {s.recruiters[rec].id: m for rec, m in self.leaf_of_recruiter.items()}
        self.workers, self.accounts = build_population(s, self.rng, leaf_index, offsets)
        self.worker_accounts = led.open_block("workers", self.workers.size)
        self.community_sizes = np.bincount(
            self.workers.community[self.workers.community >= 0], minlength=total
        )
        mod = s.platform.moderation
        self.moderator_accounts = led.open_block("moderators", mod.moderators)
        self.moderator_reviews = np.zeros(mod.moderators, dtype=np.int64)
        self.platform_account = int(led.open_accounts("platform", [s.platform.name])[0])
        self.client_names = sorted({c.client for c in s.campaigns})
        rows = led.open_accounts("clients", self.client_names)
        self.client_account = dict(zip(self.client_names, rows.tolist(), strict=True))
        # per-leaf rate cards (ledger units per action)
        self.pay_card = np.zeros((len(self.leaves), K), dtype=np.int64)
        self.points_card = np.zeros((len(self.leaves), K), dtype=np.int64)
        self.influencer_card = np.zeros((len(self.leaves), K), dtype=np.int64)
        for m, rec in enumerate(self.leaves):
            r = s.recruiters[rec]
            self.pay_card[m] = self._card(r.pays)
            self.points_card[m] = [r.points.get(a, 0) for a in ACTION_TYPES]
            if r.influencers is not None:
                self.influencer_card[m] = self._card(r.influencers.pay_per_action)
        self.software_paid = np.zeros(len(s.recruiters), dtype=bool)
        self.minutes = np.array([s.actions[a].minutes for a in ACTION_TYPES])
        self.reach = np.array([s.actions[a].reach for a in ACTION_TYPES])
        self.fill_rate = np.ones(len(self.leaves))
        self.market_members = [
            np.flatnonzero(self.workers.market == m) for m in range(len(self.leaves))
        ]
        self.ad_revenue_paid = 0
        self.badge_thresholds = np.array(sorted(s.gamification.badges.values()), dtype=np.int64)

    def _card(self, mapping: dict) -> np.ndarray:
        return np.array(
            [to_minor(mapping.get(a, 0), self.scale) for a in ACTION_TYPES], dtype=np.int64
        )

    def _build_orders(self) -> None:
        s = self.scenario
        self.orders: list[Order] = []
        self.open_orders: list[Order] = []
        self.objective_orders: list[Order] = []  # started orders that carry an objective
        self.ordered_total = 0
        self.pools: list[Pool] = []
        self.review_queue = ReviewQueue()
        for ci, c in enumerate(s.campaigns):
            times = (c.repeat.times or 10**9) if c.repeat else 1
            every = c.repeat.every_hours if c.repeat else 0
            targets = np.array([c.actions.get(a, 0) for a in ACTION_TYPES], dtype=np.int64)
            prices = self._card(c.price_per_action)
            budget = None if c.budget is None else to_minor(c.budget, self.scale)
            quantities = rules.affordable_quantities(targets, prices, budget)
            top = self.recruiter_index[c.recruiter]
            for k in range(times):
                start = c.start_hour + k * every
                if start >= self.max_steps:
                    break
                pools = self._split_into_pools(top, quantities, prices)
                for p in pools:
                    p.pool_id = len(self.pools)
                    self.pools.append(p)
                self.orders.append(
                    Order(
                        name=c.id if times == 1 else f"{c.id}#{k + 1}",
                        campaign=ci,
                        start=start,
                        end=start + c.deadline_hours,
                        quantities=quantities.copy(),
                        prices=prices,
                        urgency=c.urgency,
                        objective=c.objective,
                        audience_region=self.region_ids.index(c.audience_region),
                        organic_per_hour=c.organic_actions_per_hour,
                        promotion_per_day=to_minor(c.promotion_per_day, self.scale),
                        drip_feed=c.drip_feed,
                        client_account=self.client_account[c.client],
                        pools=pools,
                    )
                )

    def _index_orders(self) -> None:
        for i, o in enumerate(self.orders):
            o.index = i
        self._by_start = sorted(self.orders, key=lambda o: o.start)  # stable: keeps file order
        self._next_order = 0

    def _split_into_pools(self, top: int, quantities: np.ndarray, prices: np.ndarray) -> list[Pool]:
        """Hand an order down the recruiter tree, in proportion to each leaf's workforce."""
        s = self.scenario
        paths: list[list[int]] = []

        def walk(node: int, path: list[int]) -> None:
            if not self.children[node]:
                paths.append(path + [node])
            for child in self.children[node]:
                walk(child, path + [node])

        walk(top, [])
        sizes = np.array(
            [self.market_members[self.leaf_of_recruiter[p[-1]]].size for p in paths],
            dtype=np.float64,
        )
        if sizes.sum() == 0:
            sizes[:] = 1
        shares = np.zeros((len(paths), K), dtype=np.int64)
        for k in range(K):  # largest-remainder split, exact and deterministic
            exact = quantities[k] * sizes / sizes.sum()
            base = np.floor(exact).astype(np.int64)
            short = int(quantities[k] - base.sum())
            order = np.argsort(-(exact - base), kind="stable")[:short]
            base[order] += 1
            shares[:, k] = base
        pools = []
        for path, share in zip(paths, shares, strict=True):
            chain_prices = [prices] + [self._card(s.recruiters[r].charges) for r in path[1:]]
            pools.append(
                Pool(
                    market=self.leaf_of_recruiter[path[-1]],
                    chain=path,
                    chain_prices=chain_prices,
                    remaining=share.copy(),
                )
            )
        return pools

    def _build_agents(self) -> None:
        s = self.scenario
        self.recruiter_agents = [Recruiter(self, i) for i in range(len(s.recruiters))]
        self.influencer_agents = []
        for r in s.recruiters:
            if r.influencers is not None:
                off = self.influencer_offset[r.id]
                self.influencer_agents += [
                    Influencer(self, off + j, r.id) for j in range(r.influencers.count)
                ]
        self.worker_agents = [
            BotAccount(self, i) if bot else MicroWorker(self, i)
            for i, bot in enumerate(self.workers.is_bot.tolist())
        ]
        self.moderator_agents = [
            Moderator(self, i) for i in range(s.platform.moderation.moderators)
        ]

    # ------------------------------------------------------------------ helpers
    def money(self, units: int | np.integer) -> float:
        """Ledger units to major currency units (for display only)."""
        return int(units) / self.scale

    @property
    def hour(self) -> int:
        return self.steps - 1

    # ------------------------------------------------------------------ the step
    def step(self) -> None:
        """One hour. The order of phases is the model's schedule (docs/ODD.md §3)."""
        self.ledger.start_step()
        self.step_counts: dict[str, Any] = {}
        self.open_and_close_orders()
        self.relay_through_influencers()
        self.workers_decide()
        self.do_tasks_and_pay()
        self.detect_and_moderate()
        self.platform_economics()
        self.update_workers()
        self.ledger.check_balanced()
        self.metrics = collect_step_metrics(self)
        self.datacollector.collect(self)
        if self.steps >= self.max_steps:
            self.running = False

    def open_and_close_orders(self) -> None:
        """Clients fund new orders; finished or expired orders close and refund the rest."""
        h, led = self.hour, self.ledger
        still_open = []
        for o in self.open_orders:
            # an order with paid promotion stays open (and promoted) until its deadline
            done = o.remaining_total == 0 and not o.promotion_per_day
            if done or h >= o.end:
                self._close(o)
            else:
                still_open.append(o)
        while (
            self._next_order < len(self._by_start) and self._by_start[self._next_order].start <= h
        ):
            o = self._by_start[self._next_order]
            self._next_order += 1
            o.status = "open"
            o.funded = int(o.quantities @ o.prices)
            o.funded += o.promotion_per_day * -(-(o.end - o.start) // 24)
            led.transfer("money", WORLD, o.client_account, o.funded, "client budget", o.tag)
            self.ordered_total += int(o.quantities.sum())
            if o.objective:
                self.objective_orders.append(o)
            still_open.append(o)
        # keep the scenario's order of campaigns: it fixes the order of random draws
        self.open_orders = sorted(still_open, key=lambda o: o.index)

    def _close(self, o: Order) -> None:
        o.status = "closed"
        self.ledger.transfer(
            "money", o.client_account, WORLD, o.funded - o.spent, "unspent budget", o.tag
        )

    def relay_through_influencers(self) -> None:
        """Influencers of networks with open work relay a call to act, each with some chance."""
        n = self.influencer_network.size
        if n == 0:
            return
        busy = {p.chain[-1] for o in self.open_orders for p in o.pools if p.remaining.any()}
        eligible = np.isin(self.influencer_network, list(busy))
        relays = eligible & (self.rng.random(n) < self.influencer_relay_p)
        self.influencer_last_relay[relays] = self.hour
        self.influencer_relays += relays

    def workers_decide(self) -> None:
        """Who is online, and who finds the posted work worth their time this hour."""
        w, s = self.workers, self.scenario
        n = w.size
        self.market_offer = self._market_offers()
        offsets = np.array([s.regions[r].utc_offset for r in self.region_ids])
        by_region = rules.diurnal_factor((self.hour + offsets) % 24)
        diurnal = np.where(w.is_bot, 1.0, by_region[w.region])
        online = self.rng.random(n) < rules.online_probability(w.activity, diurnal, w.fatigue)
        offer = self.market_offer
        has_work = offer["open_tasks"] > 0
        candidate = online & has_work[w.market] & (w.active_account >= 0)
        in_community = candidate & (w.community >= 0)
        if in_community.any():
            comm = w.community[in_community]
            sees = (self.hour - self.influencer_last_relay[comm]) < self.influencer_attention[comm]
            candidate[in_community] = sees
        c = np.flatnonzero(candidate)  # only these can work: value the hour for them alone
        m = w.market[c]
        mult = np.array([rules.search_multiplier(f) for f in self.fill_rate])[m]
        # value is judged per hour of actual work, so casual and full-time workers compare alike
        tph = rules.tasks_per_session(
            60.0, offer["minutes"][m], w.speed[c], w.search_minutes[c] * mult
        )
        expected = tph * np.minimum(self.fill_rate[m], 1.0)
        value = rules.hourly_value(
            expected * offer["money"][m],
            expected * offer["points"][m],
            w.w_money[c],
            w.w_points[c],
            w.w_conviction[c],
            w.point_value[c],
            self._status_multiplier()[c],
            w.conviction_value[c],
            offer["cause"][m],
        )
        active = np.zeros(n, dtype=bool)
        active[c] = rules.decides_to_work(value, w.reservation[c]) | w.is_bot[c]
        w.active_now = active

    def _market_offers(self) -> dict[str, np.ndarray]:
        """Per leaf market: open tasks and their task-weighted pay, points and duration."""
        nm = len(self.leaves)
        tasks = np.zeros((nm, K))
        points = np.zeros(nm)
        cause = np.ones(nm)
        grad = self.scenario.gamification.objective_gradient
        for o in self.open_orders:
            for p in o.pools:
                tasks[p.market] += p.remaining
                points[p.market] += float(p.remaining @ self.points_card[p.market]) * o.urgency
                if o.objective and p.remaining.any():
                    cause[p.market] = max(
                        cause[p.market], rules.objective_multiplier(o.progress(), grad)
                    )
        total = tasks.sum(axis=1)
        safe = np.maximum(total, 1)
        money = (tasks * self.pay_card).sum(axis=1) / safe
        minutes = np.where(total > 0, (tasks * self.minutes).sum(axis=1) / safe, 1.0)
        return {
            "open_tasks": total,
            "money": money,
            "points": points / safe,
            "minutes": minutes,
            "cause": cause,
        }

    def _status_multiplier(self) -> np.ndarray:
        g = self.scenario.gamification
        w = self.workers
        if self.badge_thresholds.size == 0 and g.leaderboard_size == 0:
            return np.ones(w.size)
        proximity = rules.badge_proximity(w.points, self.badge_thresholds)
        on_board = np.zeros(w.size)
        if g.leaderboard_size and w.points.any():
            top = np.argsort(-w.points, kind="stable")[: g.leaderboard_size]
            on_board[top[w.points[top] > 0]] = 1.0
        return rules.status_multiplier(proximity, on_board, g.badge_gradient, g.leaderboard_bonus)

    def do_tasks_and_pay(self) -> None:
        """Active workers pick an order, do as many tasks as time allows, and get paid."""
        w, rng = self.workers, self.rng
        self.work: list[dict[str, Any]] = []
        minutes_paid = np.zeros(w.size)
        online_minutes = np.zeros(w.size)
        delivered_total = 0
        points_only_actions = np.zeros(K, dtype=np.int64)
        capacity_total = np.zeros(len(self.leaves))
        done_total = np.zeros(len(self.leaves))
        for m in range(len(self.leaves)):
            members = self.market_members[m]
            idx = members[w.active_now[members]]
            pools = [
                (o, p)
                for o in self.open_orders
                for p in o.pools
                if p.market == m and p.remaining.any()
            ]
            if idx.size == 0 or not pools:
                continue
            weight = np.array([p.remaining.sum() * o.urgency for o, p in pools], dtype=np.float64)
            choice = rng.choice(len(pools), size=idx.size, p=weight / weight.sum())
            mult = rules.search_multiplier(self.fill_rate[m])
            for j, (o, p) in enumerate(pools):
                who = idx[choice == j]
                if who.size == 0:
                    continue
                task_minutes = float(p.remaining @ self.minutes) / p.remaining.sum()
                cap = rng.poisson(
                    rules.tasks_per_session(
                        w.session_minutes[who],
                        task_minutes,
                        w.speed[who],
                        w.search_minutes[who] * mult,
                    )
                )
                capacity_total[m] += cap.sum()
                available = int(p.remaining.sum())
                if o.drip_feed:
                    # spread what is left evenly over the hours left before the deadline
                    available = -(-available // max(o.end - self.hour, 1))
                done = (
                    cap
                    if cap.sum() <= available
                    else rng.multivariate_hypergeometric(cap, available, method="marginals")
                )
                n_done = int(done.sum())
                search = w.search_minutes[who] * mult
                # one fruitless search when the worker wanted more tasks than were left
                gave_up = np.where(done < cap, search, 0.0)
                if n_done == 0:
                    online_minutes[who] = np.minimum(gave_up, w.session_minutes[who])
                    continue
                by_type = (
                    p.remaining.copy()
                    if n_done == int(p.remaining.sum())
                    else rng.multivariate_hypergeometric(p.remaining, n_done, method="marginals")
                )
                counts = self._split_types(done, by_type)
                done_total[m] += n_done
                p.remaining -= by_type
                p.delivered += by_type
                if o.completed_hour is None and o.remaining_total == 0:
                    o.completed_hour = self.hour
                points_only = (self.pay_card[m] == 0) & (self.points_card[m] > 0)
                points_only_actions += np.where(points_only, by_type, 0)
                self._pay(o, p, who, counts, by_type)
                work_minutes = (counts * self.minutes).sum(axis=1) / w.speed[who]
                # time online: the work, finding each task, and any fruitless search
                online = np.minimum(work_minutes + done * search + gave_up, w.session_minutes[who])
                online_minutes[who] = online
                paid_types = self.pay_card[m] > 0
                paid_work = (counts[:, paid_types] * self.minutes[paid_types]).sum(
                    axis=1
                ) / w.speed[who]
                minutes_paid[who] = np.minimum(paid_work, online)
                w.tasks_done[who] += done
                self.work.append(
                    {
                        "order": o,
                        "pool": p,
                        "pool_id": p.pool_id,
                        "who": who,
                        "done": done,
                        "counts": counts,
                        "by_type": by_type,
                        "work_minutes": work_minutes,
                    }
                )
                delivered_total += n_done
        with np.errstate(invalid="ignore", divide="ignore"):
            fill = np.where(capacity_total > 0, done_total / np.maximum(capacity_total, 1), np.nan)
        # Workers learn how easy work was to find (exponential smoothing, half-life ~3 h).
        self.fill_rate = np.where(np.isnan(fill), self.fill_rate, 0.8 * self.fill_rate + 0.2 * fill)
        active = w.active_now
        self.hours_this_step = online_minutes / 60.0
        w.hours_online += self.hours_this_step
        unpaid = (online_minutes - minutes_paid) / 60.0
        w.hours_unpaid += unpaid
        self.step_counts["delivered"] = delivered_total
        self.step_counts["unpaid_hours"] = float(unpaid[~w.is_bot].sum())
        self.step_counts["active_workers"] = int(active.sum())
        self.step_counts["points_only_actions"] = points_only_actions

    def _split_types(self, done: np.ndarray, by_type: np.ndarray) -> np.ndarray:
        """Share the order's action types among workers, each keeping their own total."""
        counts = np.zeros((done.size, K), dtype=np.int64)
        left = done.astype(np.int64).copy()
        kinds = np.flatnonzero(by_type)
        for n, k in enumerate(kinds):
            if n == kinds.size - 1:
                counts[:, k] = left
            else:
                counts[:, k] = self.rng.multivariate_hypergeometric(
                    left, int(by_type[k]), method="marginals"
                )
                left -= counts[:, k]
        return counts

    def _pay(
        self, o: Order, p: Pool, who: np.ndarray, counts: np.ndarray, by_type: np.ndarray
    ) -> None:
        """Money flows down the chain; the leaf pays workers, influencers and points."""
        led, s = self.ledger, self.scenario
        payer = o.client_account
        for level, rec in enumerate(p.chain):
            amount = int(by_type @ p.chain_prices[level])
            purpose = "order price" if level == 0 else "sub-contract"
            led.transfer("money", payer, int(self.recruiter_account[rec]), amount, purpose, o.tag)
            if level == 0:
                o.spent += amount
            payer = int(self.recruiter_account[rec])
        leaf = p.chain[-1]
        spec = s.recruiters[leaf]
        if spec.kind == "bot_operator" and not self.software_paid[leaf] and spec.software_cost > 0:
            self.software_paid[leaf] = True
            led.transfer(
                "money",
                payer,
                WORLD,
                to_minor(spec.software_cost, self.scale),
                "bot software",
                o.tag,
            )
        m = p.market
        led.pay_many(
            "money",
            payer,
            self.worker_accounts[who],
            rules.pay_for_counts(counts, self.pay_card[m]),
            "task pay",
            o.tag,
        )
        pts = rules.points_for_counts(counts, self.points_card[m], o.urgency)
        if pts.any():
            led.pay_many("points", payer, self.worker_accounts[who], pts, "points", o.tag)
            self.workers.points[who] += pts
        if self.influencer_card[m].any():
            per_worker = rules.pay_for_counts(counts, self.influencer_card[m])
            owed = np.zeros(self.influencer_accounts.size, dtype=np.int64)
            np.add.at(owed, self.workers.community[who], per_worker)
            nz = np.flatnonzero(owed)
            led.pay_many(
                "money", payer, self.influencer_accounts[nz], owed[nz], "influencer pay", o.tag
            )

    def detect_and_moderate(self) -> None:
        """The platform flags suspicious actions into a review queue; moderators work
        through it oldest first, remove what they recognise and ban repeat offenders."""
        s, w, acc, rng = self.scenario, self.workers, self.accounts, self.rng
        det, mod = s.platform.detection, s.platform.moderation
        weights = det.weights.model_dump()
        signals_by_order = self._order_signals()
        new_entries = []
        flagged_now = 0
        for item in self.work:
            o, who, done = item["order"], item["who"], item["done"]
            burst, central = signals_by_order[id(o)]
            account = w.active_account[who]
            signals = {
                "burstiness": burst,
                "centralisation": central,
                "account_age": rules.young_account_signal(
                    acc.age_hours[account] / 24, det.young_account_days
                ),
                "low_trust": 1.0 - acc.trust[account],
                "multiple_accounts": rules.multiple_accounts_signal(w.accounts_alive[who]),
                "geography": (w.region[who] != o.audience_region).astype(np.float64),
                "automation": w.is_bot[who].astype(np.float64),
            }
            flagged = rng.binomial(done, rules.flag_probability(det.bias, weights, signals))
            keep = flagged > 0
            flagged_now += int(flagged.sum())
            new_entries.append(
                (who[keep], account[keep], np.full(int(keep.sum()), item["pool_id"]), flagged[keep])
            )
        self.review_queue.push(self.hour, new_entries)
        capacity = rules.review_capacity(mod.moderators, mod.reviews_per_hour)
        q_worker, q_account, q_pool, reviewed = self.review_queue.take(
            capacity, self.hour, mod.review_window_hours
        )
        removed = rng.binomial(reviewed, mod.accuracy)
        n_reviewed = int(reviewed.sum())
        if mod.moderators:
            share = np.full(mod.moderators, n_reviewed // mod.moderators, dtype=np.int64)
            share[: n_reviewed % mod.moderators] += 1
            self.moderator_reviews += share
        hit = removed > 0
        removed_by_type = np.zeros(K, dtype=np.int64)
        for pool_id in np.unique(q_pool[hit]):
            pool = self.pools[int(pool_id)]
            n = int(removed[q_pool == pool_id].sum())
            by_type = rng.multivariate_hypergeometric(
                pool.delivered - pool.removed, n, method="marginals"
            )
            pool.removed += by_type
            removed_by_type += by_type
        np.add.at(w.actions_removed, q_worker[hit], removed[hit])
        # each removed action is a strike against its account; trust halves per review round
        struck, where = np.unique(q_account[hit], return_inverse=True)
        strikes = np.bincount(where, weights=removed[hit], minlength=struck.size).astype(np.int64)
        open_ = ~acc.banned[struck]
        live = struck[open_]
        acc.strikes[live] += strikes[open_]
        acc.trust[live] *= 0.5
        newly = live[acc.strikes[live] >= det.strikes_to_ban]
        acc.banned[newly] = True
        np.subtract.at(w.accounts_alive, acc.owner[newly], 1)
        self.step_counts.update(
            flagged=flagged_now,
            reviewed=n_reviewed,
            removed=int(removed.sum()),
            banned=int(newly.size),
            removed_by_type=removed_by_type,
            queue=self.review_queue.size,
        )

    def _order_signals(self) -> dict[int, tuple[float, float]]:
        """Per order this hour: burstiness and how centralised its sources were."""
        w = self.workers
        delivered: dict[int, int] = {}
        sources: dict[int, dict[tuple[str, int], float]] = {}
        for item in self.work:
            key = id(item["order"])
            delivered[key] = delivered.get(key, 0) + int(item["done"].sum())
            src = sources.setdefault(key, {})
            comm = w.community[item["who"]]
            inside = comm >= 0
            if inside.any():
                per = np.bincount(comm[inside], weights=item["done"][inside])
                for j in np.flatnonzero(per):
                    src[("influencer", int(j))] = src.get(("influencer", int(j)), 0.0) + per[j]
            outside = float(item["done"][~inside].sum())
            if outside:
                leaf = ("recruiter", item["pool"].chain[-1])
                src[leaf] = src.get(leaf, 0.0) + outside
        out = {}
        for item in self.work:
            key = id(item["order"])
            if key not in out:
                out[key] = (
                    rules.burstiness(delivered[key], item["order"].organic_per_hour),
                    rules.centralisation(np.array(list(sources[key].values()))),
                )
        return out

    def platform_economics(self) -> None:
        """Moderators are paid; promotion and engagement-driven ad revenue reach the platform."""
        s, led = self.scenario, self.ledger
        p = s.platform
        scale = self.scale
        wage = to_minor(p.moderation.wage_per_hour, scale)
        if self.moderator_accounts.size:
            led.pay_many(
                "money",
                self.platform_account,
                self.moderator_accounts,
                np.full(self.moderator_accounts.size, wage, dtype=np.int64),
                "moderator wages",
            )
        # base advertising profit of the platform's users, paid exactly over the quarter
        profit = p.users * to_minor(p.ad_profit_per_user_per_quarter, scale)
        owed = profit * (self.hour + 1) // rules.HOURS_PER_QUARTER
        led.transfer(
            "money", WORLD, self.platform_account, owed - self.ad_revenue_paid, "base ad revenue"
        )
        self.ad_revenue_paid = owed
        cpm = to_minor(p.revenue_per_1000_impressions, scale)
        delivered_by_type = sum(
            (item["by_type"] for item in self.work), np.zeros(K, dtype=np.int64)
        )
        # net reach: what this hour's deliveries buy, less what removals take back
        surviving_reach = float(
            (delivered_by_type - self.step_counts["removed_by_type"]) @ self.reach
        )
        promoted_reach = 0.0
        for o in self.open_orders:
            if o.promotion_per_day:
                # an exact daily budget spread over 24 hours (integer shares summing to it)
                hour_of_day = (self.hour - o.start) % 24
                per_hour = (
                    o.promotion_per_day * (hour_of_day + 1) // 24
                    - o.promotion_per_day * hour_of_day // 24
                )
                led.transfer(
                    "money", o.client_account, self.platform_account, per_hour, "promotion", o.tag
                )
                o.spent += per_hour
                if cpm:
                    promoted_reach += per_hour * 1000 / cpm
        self.step_counts["reach_organic"] = surviving_reach
        self.step_counts["reach_promoted"] = promoted_reach
        # revenue follows net reach: removals in a later hour take their share back
        engagement_revenue = int(abs(surviving_reach) * cpm // 1000)
        if surviving_reach >= 0:
            led.transfer(
                "money", WORLD, self.platform_account, engagement_revenue, "engagement ad revenue"
            )
        else:
            led.transfer(
                "money",
                self.platform_account,
                WORLD,
                engagement_revenue,
                "engagement ad revenue reversed",
            )
            engagement_revenue = -engagement_revenue
        self.step_counts["ad_revenue_engagement"] = engagement_revenue

    def update_workers(self) -> None:
        """Fatigue, account ageing, re-opening banned accounts and switching accounts."""
        w, acc, rng = self.workers, self.accounts, self.rng
        w.fatigue = rules.update_fatigue(
            w.fatigue, self.hours_this_step, w.fatigue_per_hour, w.recovery_per_hour
        )
        acc.age_hours[:] += 1.0
        current = w.active_account
        lost = (current >= 0) & acc.banned[np.maximum(current, 0)]
        if lost.any():
            # move to another live account if the worker has one
            owners = np.flatnonzero(lost)
            alive_rows = np.flatnonzero(~acc.banned)
            first_alive = np.full(w.size, -1, dtype=np.int64)
            first_alive[acc.owner[alive_rows][::-1]] = alive_rows[::-1]
            current[owners] = first_alive[owners]
        without = np.flatnonzero(current < 0)
        reopen = without[rng.random(without.size) < w.reopen_probability[without]]
        if reopen.size:
            # a fresh account starts young and little trusted
            rows = acc.add(reopen, np.full(reopen.size, 0.3))
            current[reopen] = rows
            w.accounts_alive[reopen] += 1
        self.step_counts["accounts_opened"] = int(reopen.size)


class ReviewQueue:
    """Flagged actions waiting for a moderator, oldest first (arrays of entries)."""

    def __init__(self) -> None:
        self.worker = np.zeros(0, dtype=np.int64)
        self.account = np.zeros(0, dtype=np.int64)
        self.pool = np.zeros(0, dtype=np.int64)
        self.count = np.zeros(0, dtype=np.int64)
        self.hour = np.zeros(0, dtype=np.int64)

    @property
    def size(self) -> int:
        return int(self.count.sum())

    def push(self, hour: int, entries: list[tuple[np.ndarray, ...]]) -> None:
        if not entries:
            return
        parts = list(zip(*entries, strict=True))
        n = sum(len(e[0]) for e in entries)
        self.worker = np.concatenate([self.worker, *parts[0]]).astype(np.int64)
        self.account = np.concatenate([self.account, *parts[1]]).astype(np.int64)
        self.pool = np.concatenate([self.pool, *parts[2]]).astype(np.int64)
        self.count = np.concatenate([self.count, *parts[3]]).astype(np.int64)
        self.hour = np.concatenate([self.hour, np.full(n, hour, dtype=np.int64)])

    def take(self, capacity: int, now: int, window: int) -> tuple[np.ndarray, ...]:
        """Review up to ``capacity`` actions, oldest first; entries older than ``window``
        hours leave the queue unreviewed (the platform stops looking at old content)."""
        fresh = (now - self.hour) < window
        for name in ("worker", "account", "pool", "count", "hour"):
            setattr(self, name, getattr(self, name)[fresh])
        before = np.cumsum(self.count) - self.count
        reviewed = np.clip(capacity - before, 0, self.count)
        taken = reviewed > 0
        out = (self.worker[taken], self.account[taken], self.pool[taken], reviewed[taken])
        self.count = self.count - reviewed
        left = self.count > 0
        for name in ("worker", "account", "pool", "count", "hour"):
            setattr(self, name, getattr(self, name)[left])
        return out


def _reporter(name: str):
    return lambda model: model.metrics[name]
