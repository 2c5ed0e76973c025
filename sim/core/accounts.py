"""The account market: platform accounts as goods that are made, aged, sold, banned and resold.

Makers (one ledger account, tier "account makers") start new accounts at a cost and list
them ``creation_hours`` later; listed accounts age in stock. Each hour, farms buy
accounts for their workers whose accounts were all banned (each such worker wants one
with its group's re-open probability), and farms using the ``buy_aged`` tactic replace
their workers' young accounts with aged listings and sell the young ones back to a
reseller, who lists them again. A listing's price follows ``rules.account_price`` (age
and trust) times a scarcity level that rises while the stock would not last
``cover_hours`` at the recent rate of demand (``rules.scarcity_update``). A campaign's
fake profiles (``accounts_from``) become the accounts of the group that posts from them,
and a profile the moderators remove is that account banned.

Every account keeps one identity from its making to its ban, across owners, so the run
can report its lifetime and how many times it was sold. All state is numpy arrays: no
Python object per account.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from sim.core import rules
from sim.core.ledger import WORLD, Ledger
from sim.core.market import Market
from sim.core.population import Accounts, Workers, draw_spread
from sim.core.records import AccountHour, ModerationHour, WorkHour
from sim.scenario.load import to_minor
from sim.scenario.schema import ACTION_TYPES, Scenario

FAKE_PROFILE = ACTION_TYPES.index("fake_profile")
SUMMED = tuple(
    f.name
    for f in dataclasses.fields(AccountHour)
    if f.name not in ("stock", "price_new", "price_mean", "scarcity")  # states, not flows
)
"""The ``AccountHour`` counts that ``AccountMarket.total`` sums over the run."""


class Registry:
    """Per account identity: the hour it was made, times sold, the hour it was banned.

    Hours count at the end of an hour, as ages do: an account made in hour ``h`` has
    ``made = h + 1`` and age ``t - made`` at the end of hour ``t - 1``. Accounts that
    existed before the run have ``made <= 0``. ``banned`` is NaN while it is not banned.
    """

    def __init__(self, made: np.ndarray) -> None:
        n = made.size
        cap = max(16, int(n * 1.25))
        self.n = n
        self._made = np.zeros(cap)
        self._sold = np.zeros(cap, dtype=np.int32)
        self._banned = np.full(cap, np.nan)
        self._made[:n] = made

    made = property(lambda self: self._made[: self.n])
    sold = property(lambda self: self._sold[: self.n])
    banned = property(lambda self: self._banned[: self.n])

    def add(self, made: np.ndarray) -> np.ndarray:
        """Register accounts made at the given hours; returns their identities."""
        k = made.size
        if self.n + k > self._made.size:
            cap = max(self.n + k, 2 * self._made.size)
            for name, fill in (("_made", 0.0), ("_sold", 0), ("_banned", np.nan)):
                old = getattr(self, name)
                new = np.full(cap, fill, dtype=old.dtype)
                new[: self.n] = old[: self.n]
                setattr(self, name, new)
        ids = np.arange(self.n, self.n + k)
        self._made[ids] = made
        self.n += k
        return ids


class AccountMarket:
    """Stock for sale, makers' pipeline, sales history and the identity of every account.

    Args:
        scenario: The validated scenario (its ``account_market`` section is set).
        workers: The workers' arrays (their active accounts change when they buy).
        accounts: The platform accounts (bought accounts are added to them).
        ledger: The one ledger; sales, buy-backs and making costs go through it.
        market: The engagement market (leaf recruiters, their ledger rows and tactics).
        rng: The model's generator.
        after_bans: Called after this market bans accounts (workers move to a live one).
    """

    def __init__(
        self,
        scenario: Scenario,
        workers: Workers,
        accounts: Accounts,
        ledger: Ledger,
        market: Market,
        rng: np.random.Generator,
        after_bans: Callable[[], None],
    ) -> None:
        spec = scenario.account_market
        assert spec is not None, "the account market needs an account_market: section"
        self.spec, self.workers, self.accounts = spec, workers, accounts
        self.ledger, self.market, self.rng = ledger, market, rng
        self.after_bans = after_bans
        scale = scenario.currency.minor_units
        self.base_price = float(to_minor(spec.base_price, scale))
        self.creation_cost = to_minor(spec.creation_cost, scale)
        self.maker = int(ledger.open_accounts("account makers", ["account makers"])[0])
        self.registry = Registry(-accounts.age_hours.copy())
        self.row_ident = np.arange(accounts.n, dtype=np.int64)  # identity of each row
        self._ban_seen = accounts.banned.copy()
        ages = draw_spread(rng, spec.initial_age_days, spec.initial_stock) * 24
        self.stock_ident = self.registry.add(-ages)
        self.stock_trust = np.full(spec.initial_stock, spec.trust)
        self.pipeline_ready = np.zeros(0, dtype=np.int64)  # hour each batch is listed
        self.pipeline_count = np.zeros(0, dtype=np.int64)
        self.scarcity = 1.0
        self.demand = 0.0  # accounts wanted per hour, smoothed
        # groups that act from a campaign's profiles: campaign index -> the group's rows
        campaign_index = {c.id: i for i, c in enumerate(scenario.campaigns)}
        self.profile_owners: dict[int, np.ndarray] = {}
        for gi, g in enumerate(scenario.workers):
            if g.accounts_from is not None:
                rows = np.flatnonzero(workers.group == gi)
                self.profile_owners[campaign_index[g.accounts_from]] = rows
        self._next_owner = dict.fromkeys(self.profile_owners, 0)
        self.profile_rows = {c: np.zeros(0, dtype=np.int64) for c in self.profile_owners}
        self.profile_pools: dict[int, int] = {}  # pool that delivered profiles -> campaign
        self.history: list[tuple[int, AccountHour]] = []
        self.total = AccountHour()
        self.pending = AccountHour()  # resales made outside ``trade``, counted in the next hour

    # -- views ---------------------------------------------------------------------------
    def prices(self, now: float, ids: np.ndarray, trust: np.ndarray) -> np.ndarray:
        """Listed prices (ledger units) of the given identities with the given trust."""
        s = self.spec
        return rules.account_price(
            self.base_price,
            now - self.registry.made[ids],
            trust,
            s.mature_days * 24,
            s.age_premium,
            s.trust_premium,
            self.scarcity,
        )

    def lifetimes(self, made_in_run: bool = False) -> np.ndarray:
        """Hours from making to ban of every banned account (only those made in the run)."""
        reg = self.registry
        banned = ~np.isnan(reg.banned)
        if made_in_run:
            banned &= reg.made > 0
        return reg.banned[banned] - reg.made[banned]

    # -- the hour ------------------------------------------------------------------------
    def trade(self, hour: int, work: WorkHour, moderation: ModerationHour) -> AccountHour:
        """One hour of the account market (the phase after the workforce update).

        Finished accounts are listed, campaign profiles become accounts (and removed
        profiles are banned), bans are noted, farms buy for their workers, the scarcity
        level moves and makers start new ones.
        """
        rec, self.pending = self.pending, AccountHour()  # with resales since the last hour
        now = float(hour + 1)
        self._list_finished(hour, rec)
        self._profiles_from_orders(work, now, rec)
        self._ban_removed_profiles(moderation)
        self._note_bans(now)
        reopening = self._reopening()
        aged = self._aged_wanted(now)
        rec.wanted = int(reopening.size + sum(who.size for _, who in aged))
        offered = int(self.stock_ident.size)
        self._sell_to_reopen(reopening, now, rec)
        for m, who in aged:
            self._sell_aged(m, who, now, rec)
        # demand per hour, smoothed (half-life about 14 hours)
        self.demand = 0.95 * self.demand + 0.05 * rec.wanted
        s = self.spec
        self.scarcity = rules.scarcity_update(
            self.scarcity, self.demand * s.cover_hours, offered, s.scarcity_step, s.max_scarcity
        )
        self._start_new(hour, rec)
        rec.stock = int(self.stock_ident.size)
        rec.scarcity = self.scarcity
        rec.price_new = self.new_price()
        if rec.stock:
            rec.price_mean = float(self.prices(now, self.stock_ident, self.stock_trust).mean())
        self.history.append((hour, rec))
        for name in SUMMED:
            setattr(self.total, name, getattr(self.total, name) + getattr(rec, name))
        return rec

    def new_price(self) -> int:
        """Listed price of an account just made (age 0, the makers' trust)."""
        s = self.spec
        price = rules.account_price(
            self.base_price,
            np.zeros(1),
            np.array([s.trust]),
            s.mature_days * 24,
            s.age_premium,
            s.trust_premium,
            self.scarcity,
        )
        return int(price[0])

    def _list_finished(self, hour: int, rec: AccountHour) -> None:
        due = self.pipeline_ready <= hour
        n = int(self.pipeline_count[due].sum())
        self.pipeline_ready, self.pipeline_count = (
            self.pipeline_ready[~due],
            self.pipeline_count[~due],
        )
        if n:
            ids = self.registry.add(np.full(n, float(hour + 1)))
            self._relist(ids, np.full(n, self.spec.trust))
        rec.created = n

    def _note_bans(self, now: float) -> None:
        acc = self.accounts
        newly = np.flatnonzero(acc.banned & ~acc.retired & ~self._ban_seen[: acc.n])
        if newly.size:
            self._ban_seen[newly] = True
            self.registry.banned[self.row_ident[newly]] = now

    def _profiles_from_orders(self, work: WorkHour, now: float, rec: AccountHour) -> None:
        """Fake profiles delivered to a campaign become accounts of the group posting from them."""
        if not self.profile_owners:
            return
        for d in work.deliveries:
            owners = self.profile_owners.get(d.order.campaign)
            n = int(d.by_type[FAKE_PROFILE])
            if owners is None or not n or not owners.size:
                continue
            self.profile_pools[d.pool.pool_id] = d.order.campaign
            start = self._next_owner[d.order.campaign]
            who = owners[(start + np.arange(n)) % owners.size]  # dealt out in turn
            self._next_owner[d.order.campaign] = (start + n) % owners.size
            ids = self.registry.add(np.full(n, now))
            self.registry.sold[ids] += 1  # sold once: to the client, through its order
            rows = self._hand_over(who, ids, np.full(n, self.spec.trust), now)
            self.profile_rows[d.order.campaign] = np.append(
                self.profile_rows[d.order.campaign], rows
            )
            rec.profiles += n
            rec.profile_sales += n * int(d.order.prices[FAKE_PROFILE])

    def _ban_removed_profiles(self, moderation: ModerationHour) -> None:
        """A fake profile the moderators removed is an account banned: ban that many."""
        if not self.profile_rows:
            return
        acc, w = self.accounts, self.workers
        banned_any = False
        for pool_id, by_type in moderation.removed_by_pool.items():
            n = int(by_type[FAKE_PROFILE])
            campaign = self.profile_pools.get(pool_id)
            rows = self.profile_rows.get(campaign)
            if not n or rows is None:
                continue
            live = rows[~acc.banned[rows]]
            hit = live[self.rng.permutation(live.size)[:n]]
            acc.banned[hit] = True
            np.subtract.at(w.accounts_alive, acc.owner[hit], 1)
            banned_any |= bool(hit.size)
        if banned_any:
            self.after_bans()

    def _reopening(self) -> np.ndarray:
        """Workers without a live account who look for one this hour, in random order."""
        w = self.workers
        # only workers in the workforce (with turnover, those who left want none)
        without = np.flatnonzero((w.active_account < 0) & (w.reopen_probability > 0) & w.enrolled)
        wanting = without[self.rng.random(without.size) < w.reopen_probability[without]]
        return wanting[self.rng.permutation(wanting.size)]

    def _aged_wanted(self, now: float) -> list[tuple[int, np.ndarray]]:
        """Per leaf market using buy_aged: workers whose live account is young."""
        w, acc, s = self.workers, self.accounts, self.spec
        out = []
        for m, leaf in enumerate(self.market.structure.leaves):
            if not self.market.uses(leaf, "buy_aged") or not s.aged_per_hour:
                continue
            mine = np.flatnonzero((w.market == m) & (w.active_account >= 0) & w.enrolled)
            young = mine[acc.age_hours[w.active_account[mine]] < s.aged_days * 24]
            if young.size:
                pick = self.rng.permutation(young.size)[: s.aged_per_hour]
                out.append((m, young[pick]))
        return out

    def _sell_to_reopen(self, wanting: np.ndarray, now: float, rec: AccountHour) -> None:
        """Each farm buys the cheapest listings for its workers, as far as its money goes."""
        w = self.workers
        for m in range(len(self.market.structure.leaves)):
            buyers = wanting[w.market[wanting] == m]
            if not buyers.size or not self.stock_ident.size:
                continue
            price = self.prices(now, self.stock_ident, self.stock_trust)
            order = np.argsort(price, kind="stable")
            got, paid = self._buy(m, buyers, order, price, now)
            rec.sold += got.size
            rec.sales += paid

    def _sell_aged(self, m: int, who: np.ndarray, now: float, rec: AccountHour) -> None:
        """The farm swaps its workers' young accounts for the oldest aged listings."""
        if not self.stock_ident.size:
            return
        s = self.spec
        age = now - self.registry.made[self.stock_ident]
        old_enough = np.flatnonzero(age >= s.aged_days * 24)
        order = old_enough[np.argsort(-age[old_enough], kind="stable")]
        price = self.prices(now, self.stock_ident, self.stock_trust)
        young_rows = self.workers.active_account[who].copy()
        got, paid = self._buy(m, who, order, price, now)
        rec.sold += got.size
        rec.sold_aged += got.size
        rec.sales += paid
        if not got.size:
            return
        self.resell(young_rows[: got.size], now, rec)  # the young ones go back on sale

    def release(self, workers: np.ndarray, now: float) -> int:
        """The live accounts of workers who left the workforce go back on the market.

        Worker turnover calls it at the end of a day with the rows that left; resellers buy
        the accounts back as in :meth:`resell` (counted in the next hour's record).

        Returns:
            The money the resellers paid (ledger units).
        """
        acc = self.accounts
        live = np.flatnonzero(np.isin(acc.owner, workers) & ~acc.banned)
        return self.resell(live, now)

    def resell(self, rows: np.ndarray, now: float, rec: AccountHour | None = None) -> int:
        """Resellers buy back live accounts their owners no longer need and list them again.

        Used for the young accounts a ``buy_aged`` farm replaces; a mechanism in which
        workers stop (worker turnover) can pass the accounts of a worker who leaves. Each
        account is retired for its owner and its owner's leaf recruiter is paid
        ``floor(buyback_share x listed price)`` ("account buy-back"); owners acting from
        one move to another live account.

        Args:
            rows: Platform-account rows (banned ones are skipped).
            now: The end of the current hour (``hour + 1``).
            rec: The hour's record to count them in; by default the next hour's.

        Returns:
            The money the resellers paid (ledger units).
        """
        acc, w, structure = self.accounts, self.workers, self.market.structure
        rows = rows[~acc.banned[rows]]
        if not rows.size:
            return 0
        acc.banned[rows] = True
        acc.retired[rows] = True
        owners = acc.owner[rows]
        np.subtract.at(w.accounts_alive, owners, 1)
        ids, trust = self.row_ident[rows], acc.trust[rows].copy()
        offer = np.floor(self.prices(now, ids, trust) * self.spec.buyback_share).astype(np.int64)
        leaves = w.market[owners]
        total = 0
        for m in np.unique(leaves):
            amount = int(offer[leaves == m].sum())
            row = int(structure.recruiter_account[structure.leaves[m]])
            self.ledger.transfer("money", self.maker, row, amount, "account buy-back")
            total += amount
        self._relist(ids, trust)
        into = rec if rec is not None else self.pending
        into.bought_back += int(rows.size)
        into.buybacks += total
        active = w.active_account[owners]
        if (active >= 0).any() and acc.banned[active[active >= 0]].any():
            self.after_bans()
        return total

    def _buy(
        self, m: int, buyers: np.ndarray, order: np.ndarray, price: np.ndarray, now: float
    ) -> tuple[np.ndarray, int]:
        """Leaf market ``m``'s recruiter buys listings ``order[:k]`` for ``buyers[:k]``.

        ``k`` is as many as there are buyers, listings and money: the recruiter never pays
        more than it holds. Returns the workers served and the money paid.
        """
        leaf = self.market.structure.leaves[m]
        row = int(self.market.structure.recruiter_account[leaf])
        k = min(buyers.size, order.size)
        cost = np.cumsum(price[order[:k]])
        budget = max(int(self.ledger.balances["money"][row]), 0)
        k = int(np.searchsorted(cost, budget, side="right"))
        if not k:
            return buyers[:0], 0
        paid = int(cost[k - 1])
        self.ledger.transfer("money", row, self.maker, paid, "account sale")
        chosen = order[:k]
        ids, trust = self.stock_ident[chosen], self.stock_trust[chosen]
        keep = np.ones(self.stock_ident.size, dtype=bool)
        keep[chosen] = False
        self.stock_ident, self.stock_trust = self.stock_ident[keep], self.stock_trust[keep]
        self.registry.sold[ids] += 1
        self._hand_over(buyers[:k], ids, trust, now)
        return buyers[:k], paid

    def _hand_over(
        self, owners: np.ndarray, ids: np.ndarray, trust: np.ndarray, now: float
    ) -> np.ndarray:
        """Give each owner the account ``ids`` as its new active account; returns the rows."""
        acc, w = self.accounts, self.workers
        rows = acc.add(owners, trust)
        acc.age_hours[rows] = now - self.registry.made[ids]
        self.row_ident = _grown(self.row_ident, acc.n)
        self._ban_seen = _grown(self._ban_seen, acc.n)
        self.row_ident[rows] = ids
        self._ban_seen[rows] = False
        w.active_account[owners] = rows
        np.add.at(w.accounts_alive, owners, 1)
        return rows

    def _relist(self, ids: np.ndarray, trust: np.ndarray) -> None:
        self.stock_ident = np.concatenate([self.stock_ident, ids])
        self.stock_trust = np.concatenate([self.stock_trust, trust])

    def _start_new(self, hour: int, rec: AccountHour) -> None:
        """Makers start accounts up to their capacity while the stock is short of target.

        The target is ``target_stock`` or, when demand is higher, twice ``cover_hours`` of
        it (makers aim above the level at which sellers stop raising prices).
        """
        s = self.spec
        target = max(s.target_stock, int(np.ceil(2 * self.demand * s.cover_hours)))
        short = target - self.stock_ident.size - int(self.pipeline_count.sum())
        n = int(min(s.makers_per_hour, max(short, 0)))
        if not n:
            return
        cost = n * self.creation_cost
        self.ledger.transfer("money", self.maker, WORLD, cost, "account creation")
        self.pipeline_ready = np.append(self.pipeline_ready, hour + s.creation_hours)
        self.pipeline_count = np.append(self.pipeline_count, n)
        rec.started = n
        rec.creation_cost = cost


def _grown(array: np.ndarray, size: int) -> np.ndarray:
    """``array`` itself when it holds ``size`` entries, else a copy at least twice as long."""
    if array.size >= size:
        return array
    out = np.zeros(max(size, 2 * array.size), dtype=array.dtype)
    out[: array.size] = array
    return out
