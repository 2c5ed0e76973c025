"""One ledger, integer units, balanced every step: unit rules and whole-model conservation."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import ClickFarmModel
from sim.core.ledger import WORLD, Ledger, LedgerImbalance
from sim.run.outputs import money_destinations

from .conftest import SCENARIOS


def test_transfers_move_exact_amounts_and_record_flows():
    led = Ledger()
    clients = led.open_accounts("clients", ["a"])
    workers = led.open_block("workers", 3)
    led.transfer("money", WORLD, int(clients[0]), 1_000, "client budget")
    paid = led.pay_many("money", int(clients[0]), workers, np.array([1, 2, 3]), "task pay")
    assert paid == 6
    assert led.balances["money"].tolist() == [-1_000, 994, 1, 2, 3]
    assert led.tier_net("money") == {"world": -1_000, "clients": 994, "workers": 6}
    led.check_balanced()


def test_negative_transfers_and_broken_books_are_refused():
    led = Ledger()
    acc = led.open_accounts("clients", ["a"])
    with pytest.raises(LedgerImbalance):
        led.transfer("money", WORLD, int(acc[0]), -1, "x")
    led.balances["money"][1] += 1  # a bug elsewhere that creates money from nothing
    with pytest.raises(LedgerImbalance):
        led.check_balanced()


def _check_books(model: ClickFarmModel) -> None:
    led = model.ledger
    for unit, bal in led.balances.items():
        assert int(bal.sum()) == 0, unit
    clients = np.array(list(model.client_account.values()))
    assert (led.balances["money"][clients] >= 0).all(), "a client spent more than its budget"
    # workers' balances are exactly the task pay they received
    task_pay = sum(
        a
        for (u, s, d, p), a in led.total_flows.items()
        if u == "money" and d == "workers" and p == "task pay"
    )
    assert int(led.balances["money"][model.worker_accounts].sum()) == task_pay
    # workers' pay on hold is exactly what was held and not yet released or withheld
    held = led.balances["money"][model.workforce.held_account]
    assert int(held) == model.workforce.held.total
    # no recruiter ever pays out money it does not hold
    assert (led.balances["money"][model.recruiter_account] >= 0).all()
    # where the money went adds up exactly to what the clients spent, net of refunds
    spend = sum(
        a
        for (u, s, d, p), a in led.total_flows.items()
        if u == "money" and s == "clients" and p != "unspent budget"
    ) - sum(
        a
        for (u, s, d, p), a in led.total_flows.items()
        if u == "money" and d == "clients" and p == "escrow refund"
    )
    dest = money_destinations(model)
    assert round(sum(dest.values()) * model.scale) == spend


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_shipped_scenario_balances_every_step(name):
    model = ClickFarmModel(name, days=2)
    while model.running:
        model.step()  # the step itself raises LedgerImbalance on any imbalance
        assert all(int(b.sum()) == 0 for b in model.ledger.balances.values())
    _check_books(model)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    price=st.integers(min_value=0, max_value=50_000),
    pay=st.integers(min_value=0, max_value=50_000),
    moderators=st.integers(min_value=0, max_value=50),
    workers=st.integers(min_value=0, max_value=400),
    budget=st.one_of(st.none(), st.integers(min_value=0, max_value=10**7)),
    promotion=st.integers(min_value=0, max_value=10**6),
    seed=st.integers(min_value=0, max_value=2**32),
    escrow=st.booleans(),
    refill_days=st.integers(min_value=0, max_value=2),
    hold=st.sampled_from([0, 6, 30]),
    capital=st.integers(min_value=0, max_value=10**8),
    rule=st.sampled_from(["fixed", "cost_plus", "adaptive"]),
    reorder=st.booleans(),
)
def test_books_balance_under_random_parameters(
    price,
    pay,
    moderators,
    workers,
    budget,
    promotion,
    seed,
    escrow,
    refill_days,
    hold,
    capital,
    rule,
    reorder,
):
    overrides = [
        f"campaigns.human_posts.price_per_action.post={price / 1e6}",
        f"recruiters.click_farm.pays.post={pay / 1e6}",
        f"platform.moderation.moderators={moderators}",
        f"workers.click_workers.count={workers}",
        f"campaigns.bot_posts.promotion_per_day={promotion / 1e6}",
        f"campaigns.human_posts.payment={'escrow' if escrow else 'at_delivery'}",
        "campaigns.human_posts.escrow_hold_hours=6",
        f"campaigns.human_posts.reorder={str(reorder).lower()}",
        f"recruiters.click_farm.refill_days={refill_days}",
        f"recruiters.click_farm.pay_hold_hours={hold}",
        f"recruiters.click_farm.capital={capital / 1e6}",
        f"recruiters.click_farm.pricing.rule={rule}",
        "recruiters.click_farm.pricing.adjust_every_hours=4",
        "platform.detection.strikes_to_ban=2",
        "days=1.5",
    ]
    overrides.append(
        "campaigns.human_posts.budget=null"
        if budget is None
        else f"campaigns.human_posts.budget={budget / 1e6}"
    )
    model = ClickFarmModel("bots_vs_click_workers", rng=seed, overrides=overrides)
    while model.running:
        model.step()
    _check_books(model)
    if budget is not None:
        spent = sum(o.spent for o in model.orders if o.tag == "human_posts")
        assert spent <= budget
