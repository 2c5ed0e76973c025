"""The one ledger: every transfer of money or points, in integer ledger units.

Accounts are rows of an int64 balance array per unit ("money", "points"). Row 0 is the
outside world (advertisers, bot developers, the client's bank): money enters and leaves
the simulated economy only through it, so the sum of all balances is always exactly 0.
Each transfer is also added to a per-step flow table keyed by (payer tier, payee tier,
purpose), which is what "where the money went" figures are drawn from.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

UNITS = ("money", "points")
WORLD = 0
INT64_MAX = int(np.iinfo(np.int64).max)
INT64_MIN = int(np.iinfo(np.int64).min)


class LedgerImbalance(AssertionError):
    """Raised when the books do not balance: always a bug in the model, never user error."""


class LedgerOverflow(ArithmeticError):
    """A transfer would take an amount or a balance outside the ledger's int64 range.

    Validation refuses scenarios whose money could get there, so this means a flow the
    bound in ``sim/scenario/budget.py`` does not count: the run stops rather than wrap.
    """


class Ledger:
    """Double-entry books for money and points, one balance row per account.

    Attributes:
        balances: One int64 balance array per unit ("money", "points"), indexed by account row.
        step_flows: Amounts moved this step, keyed by (unit, payer tier, payee tier, purpose).
        total_flows: The same flows summed over the whole run.
        tagged_flows: Run totals of the flows that carry a tag (the campaign an order payment
            belongs to), keyed by (tag, unit, payer tier, payee tier, purpose).
    """

    def __init__(self) -> None:
        self._tiers: list[str] = ["world"]
        self.balances = {u: np.zeros(1, dtype=np.int64) for u in UNITS}
        self.step_flows: dict[tuple[str, str, str, str], int] = defaultdict(int)
        self.total_flows: dict[tuple[str, str, str, str], int] = defaultdict(int)
        # the same flows, split by a tag (the campaign an order payment belongs to)
        self.tagged_flows: dict[tuple[str, str, str, str, str], int] = defaultdict(int)
        # everything ever paid into any account, per unit: accounts open at 0 and only
        # transfers move money, so no balance can be above it (a bound that saves the
        # overflow check a pass over all balances)
        self._credited = dict.fromkeys(UNITS, 0)

    # -- accounts -------------------------------------------------------------------
    def open_accounts(self, tier: str, names: list[str]) -> np.ndarray:
        """Open one account per name (names label them for readers); returns their rows."""
        return self.open_block(tier, len(names))

    def open_block(self, tier: str, count: int) -> np.ndarray:
        """Open ``count`` accounts of one tier (e.g. all workers) at once; returns their rows."""
        start = len(self._tiers)
        self._tiers.extend([tier] * count)
        for unit in UNITS:
            self.balances[unit] = np.concatenate(
                [self.balances[unit], np.zeros(count, dtype=np.int64)]
            )
        return np.arange(start, start + count, dtype=np.int64)

    # -- transfers ------------------------------------------------------------------
    def transfer(
        self, unit: str, payer: int, payee: int, amount: int, purpose: str, tag: str = ""
    ) -> None:
        """Move ``amount`` of one unit from one account to another and record the flow.

        Args:
            unit: "money" or "points".
            payer: Account row that pays.
            payee: Account row that is paid.
            amount: Ledger units to move; 0 does nothing.
            purpose: What the transfer is for (a key of the flow tables).
            tag: Optional campaign the transfer belongs to, for the per-campaign flows.

        Raises:
            LedgerImbalance: If ``amount`` is negative.
            LedgerOverflow: If either balance would leave the int64 range.
        """
        if amount < 0:
            raise LedgerImbalance(f"negative transfer {amount} for {purpose}")
        if amount == 0:
            return
        amount = int(amount)
        bal = self.balances[unit]
        # a positive amount can only push the payer down and the payee up
        paid, received = int(bal[payer]) - amount, int(bal[payee]) + amount
        if paid < INT64_MIN:
            _check_range(paid, unit, purpose)
        if received > INT64_MAX:
            _check_range(received, unit, purpose)
        bal[payer] = paid
        bal[payee] = int(bal[payee]) + amount  # read again: payer and payee may be one row
        self._credited[unit] += amount
        self._record(unit, self._tiers[payer], self._tiers[payee], purpose, amount, tag)

    def pay_many(
        self,
        unit: str,
        payer: int,
        payees: np.ndarray,
        amounts: np.ndarray,
        purpose: str,
        tag: str = "",
    ) -> int:
        """One payer pays many payees (vectorised); returns the total paid."""
        amounts = np.asarray(amounts, dtype=np.int64)
        if amounts.size == 0:
            return 0
        # one pass for both checks: read as unsigned, a negative amount is above INT64_MAX
        largest = int(amounts.view(np.uint64).max())
        if largest > INT64_MAX:
            raise LedgerImbalance(f"negative transfer for {purpose}")
        if largest == 0:
            return 0
        # the int64 sum cannot wrap when size x largest fits; otherwise add exactly
        fits = largest <= INT64_MAX // amounts.size
        total = int(amounts.sum()) if fits else sum(amounts.tolist())
        bal = self.balances[unit]
        if int(bal[payer]) - total < INT64_MIN:
            _check_range(int(bal[payer]) - total, unit, purpose)
        # no payee can end above its balance now plus everything paid in this call (what
        # was ever paid in, then the largest balance of all, bound theirs: both are cheaper
        # than gathering them)
        credited = self._credited[unit]
        if (
            credited + total > INT64_MAX
            and int(bal.max()) + total > INT64_MAX
            and int(bal[payees].max()) + total > INT64_MAX
        ):
            _check_range(int(bal[payees].max()) + total, unit, purpose)
        bal[payer] -= total
        np.add.at(bal, payees, amounts)
        self._credited[unit] = credited + total
        # Payees are always one block of one tier (all workers, all influencers...).
        self._record(unit, self._tiers[payer], self._tiers[int(payees[0])], purpose, total, tag)
        return total

    def _record(self, unit: str, src: str, dst: str, purpose: str, amount: int, tag: str) -> None:
        key = (unit, src, dst, purpose)
        self.step_flows[key] += amount
        self.total_flows[key] += amount
        if tag:
            self.tagged_flows[(tag, unit, src, dst, purpose)] += amount

    # -- checks and reports ---------------------------------------------------------
    def check_balanced(self) -> None:
        """The books balance: every unit sums to exactly zero over all accounts."""
        for unit in UNITS:
            total = int(self.balances[unit].sum())
            if total != 0:
                raise LedgerImbalance(f"{unit} does not balance: sum of balances is {total}")

    def start_step(self) -> None:
        """Begin a new step: clear this step's flow table (run totals are kept)."""
        self.step_flows = defaultdict(int)

    def tier_net(self, unit: str, flows: dict | None = None) -> dict[str, int]:
        """Net inflow per tier over the given flows (default: this step's)."""
        net: dict[str, int] = defaultdict(int)
        for (u, src, dst, _purpose), amount in (
            flows if flows is not None else self.step_flows
        ).items():
            if u == unit and src != dst:
                net[src] -= amount
                net[dst] += amount
        return dict(net)

    def flows_table(self) -> list[dict]:
        """Every flow, in ledger units, split by campaign where it belongs to one."""
        rows = [
            {"campaign": t, "unit": u, "from": s, "to": d, "purpose": p, "amount": a}
            for (t, u, s, d, p), a in sorted(self.tagged_flows.items())
        ]
        tagged: dict[tuple[str, str, str, str], int] = defaultdict(int)
        for (_t, u, s, d, p), a in self.tagged_flows.items():
            tagged[(u, s, d, p)] += a
        rows += [
            {
                "campaign": "",
                "unit": u,
                "from": s,
                "to": d,
                "purpose": p,
                "amount": a - tagged.get((u, s, d, p), 0),
            }
            for (u, s, d, p), a in sorted(self.total_flows.items())
            if a - tagged.get((u, s, d, p), 0)
        ]
        return rows


def _check_range(balance: int, unit: str, purpose: str) -> None:
    if not INT64_MIN <= balance <= INT64_MAX:
        raise LedgerOverflow(
            f"{unit} balance would reach {balance:,} ledger units through '{purpose}', outside "
            "the ledger's 64-bit range"
        )
