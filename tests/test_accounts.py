"""Accounts are goods: the account market's price rule, its directions, its books."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import ClickFarmModel
from sim.core import rules
from sim.run.outputs import run_scenario, write_results
from sim.scenario.errors import ScenarioError
from sim.scenario.load import load_scenario

from .conftest import ROOT

ARMS = "purge_arms_race"
NO_PURGE = ["events.purge.trust_below=0"]
FIXED_MODERATION = ["platform.moderation.policy=fixed", "events.detector_upgrade.hour=287"]


def test_the_price_rule_against_hand_computations():
    # 90 of 180 days: half the age premium of 4 -> x3; trust 0.5 with premium 1 -> x1.5
    price = rules.account_price(20_000, np.array([90 * 24]), np.array([0.5]), 180 * 24, 4, 1, 2)
    assert price.tolist() == [20_000 * 3 * 1.5 * 2]  # 180,000
    # past maturity the premium stops growing: x5, x1.5, scarcity 1
    old = rules.account_price(20_000, np.array([400 * 24]), np.array([0.5]), 180 * 24, 4, 1, 1)
    assert old.tolist() == [150_000]
    # a new account of trust 0 at scarcity 1 costs the base price; prices are integers
    new = rules.account_price(20_000, np.zeros(1), np.zeros(1), 180 * 24, 4, 1, 1)
    assert new.tolist() == [20_000] and new.dtype == np.int64
    # 7 x (1 + 1 x 1/3) = 9.33 -> 9 ledger units
    assert rules.account_price(7, np.array([1.0]), np.zeros(1), 3, 1, 0, 1).tolist() == [9]


def test_the_scarcity_level_against_hand_computations():
    assert rules.scarcity_update(1.0, 10, 5, 0.1, 3) == pytest.approx(1.1)
    assert rules.scarcity_update(2.0, 1, 5, 0.1, 3) == pytest.approx(1.8)
    assert rules.scarcity_update(2.0, 5, 5, 0.1, 3) == 2.0
    assert rules.scarcity_update(1.0, 1, 5, 0.1, 3) == 1.0  # never below 1
    assert rules.scarcity_update(2.9, 10, 5, 0.1, 3) == 3.0  # never above the cap


def test_a_purge_raises_the_account_price():
    purge = run_scenario(ARMS, days=7)
    calm = run_scenario(ARMS, days=7, overrides=NO_PURGE)
    assert purge.summary["events"][0]["effect"] > 0
    ts, calm_ts = purge.timeseries, calm.timeseries
    before = ts["hour"] <= 96
    assert ts["account_price_new"][before].max() == pytest.approx(0.026)  # 0.02 x (1 + 0.3)
    assert ts["account_price_new"][~before].max() > 2 * 0.026
    assert calm_ts["account_price_new"].max() < ts["account_price_new"].max()
    # the purge sends farms shopping: more accounts sold, more money to the makers
    assert (
        purge.summary["accounts"]["sold_to_farms"] > 2 * calm.summary["accounts"]["sold_to_farms"]
    )
    share = "account_sales_share_of_spend"
    assert purge.summary["headline"][share] > calm.summary["headline"][share]


def test_more_moderation_means_more_purchases_dearer_accounts_and_shorter_lives():
    tight = ["account_market.initial_stock=100", "account_market.target_stock=100"]

    def run(moderators):
        moderation = f"platform.moderation.moderators={moderators}"
        return run_scenario(
            ARMS, days=6, overrides=[*NO_PURGE, *FIXED_MODERATION, *tight, moderation]
        )

    lax, strict = run(2), run(60)
    assert strict.summary["headline"]["total_banned"] > lax.summary["headline"]["total_banned"]
    la, sa = lax.summary["accounts"], strict.summary["accounts"]
    assert sa["sold_to_farms"] > 3 * la["sold_to_farms"]
    assert sa["price_new_max"] > la["price_new_max"]
    # accounts bought in the run die young under strict moderation, and live on under lax
    assert sa["lifetime_hours_made_in_run"]["banned"] > la["lifetime_hours_made_in_run"]["banned"]
    assert la["lifetime_hours"]["median"] > sa["lifetime_hours"]["median"]
    assert la["lifetime_hours"]["p10"] > sa["lifetime_hours"]["p10"]
    share = "account_sales_share_of_spend"
    assert strict.summary["headline"][share] > lax.summary["headline"][share]


def test_farms_buying_aged_accounts_resell_their_young_ones():
    result = run_scenario(ARMS)
    acc = result.summary["accounts"]
    assert any(t["tactic"] == "buy_aged" for t in result.summary["tactics"])
    assert acc["sold_aged"] > 0 and acc["bought_back"] == acc["sold_aged"]
    assert int(acc["times_sold"].get("2", 0)) > 0  # a resold account was sold again
    model = result.model
    retired = model.accounts.retired
    assert retired.sum() == acc["bought_back"] and model.accounts.banned[retired].all()
    # a retired account is not counted as banned in the agents table
    banned = result.agents.loc[result.agents["kind"] == "micro_worker", "accounts_banned"].sum()
    assert banned == int((model.accounts.banned & ~retired).sum())


def test_veles_profiles_become_the_accounts_that_carry_its_posts():
    result = run_scenario("us2016_content_farms", days=3)
    m = result.model
    staff = np.flatnonzero(m.workers.group == [g.id for g in m.spec.workers].index("veles_staff"))
    assert result.summary["accounts"]["profiles_from_campaigns"] == 200
    owned = np.isin(m.accounts.owner, staff)
    assert owned.sum() == 200  # the profiles and nothing else
    posted = result.summary["campaigns"]["veles_articles"]["delivered"]
    assert posted > 0 and m.workers.tasks_done[staff].sum() == posted
    # a profile the moderators removed is an account banned
    removed = result.summary["campaigns"]["veles_profiles"]["removed"]
    assert removed > 0 and m.accounts.banned[owned].sum() >= removed


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    base_price=st.sampled_from(["0", "0.001", "0.02", "5"]),
    creation_cost=st.sampled_from(["0", "0.005", "1"]),
    makers_per_hour=st.integers(0, 50),
    initial_stock=st.integers(0, 300),
    scarcity_step=st.sampled_from(["0", "0.3", "1"]),
    buyback_share=st.sampled_from(["0", "0.5", "1"]),
    aged_days=st.sampled_from(["0", "30", "400"]),
)
def test_the_books_balance_with_account_sales(**market):
    small = [
        "days=2",
        "workers.farm_workers.count=100",
        "workers.click_workers.count=200",
        "events.purge.hour=20",
        "recruiters.like_farm.tactics.removal_threshold=0",
        "recruiters.like_farm.tactics.window_hours=3",  # buy_aged from hour 12
    ]
    model = ClickFarmModel(
        ARMS, overrides=small + [f"account_market.{k}={v}" for k, v in market.items()]
    )
    led = model.ledger
    while model.running:
        model.step()  # the model checks that the books balance every hour
    am = model.account_market
    t = am.total
    maker = int(led.balances["money"][am.maker])
    assert maker == t.sales - t.buybacks - t.creation_cost
    flows = led.total_flows
    assert flows.get(("money", "recruiters", "account makers", "account sale"), 0) == t.sales
    assert flows.get(("money", "account makers", "world", "account creation"), 0) == t.creation_cost
    assert am.registry.sold.sum() == t.sold + t.profiles
    # every account is either owned or for sale, and none twice
    owned = am.row_ident[: model.accounts.n][~model.accounts.retired]
    listed = am.stock_ident
    assert np.intersect1d(owned, listed).size == 0 and np.unique(owned).size == owned.size


def test_same_seed_same_account_market_other_seed_another():
    a = run_scenario(ARMS, days=6)
    b = run_scenario(ARMS, days=6)
    c = run_scenario(ARMS, days=6, seed=7)
    pd.testing.assert_frame_equal(a.accounts, b.accounts)
    assert a.summary["accounts"] == b.summary["accounts"]
    assert not a.accounts.equals(c.accounts)


def test_accounts_csv_is_written_and_off_by_default(tmp_path):
    result = run_scenario(ARMS, days=1)
    out = write_results(result, tmp_path / "run", figures=False)
    table = pd.read_csv(out / "accounts.csv")
    assert len(table) == 24 and table["price_new"].iloc[0] == pytest.approx(0.026)
    assert table["for_sale"].iloc[0] == 500 - table["sold"].iloc[0] + table["made"].iloc[0]
    plain = run_scenario("baseline_microtask_market", days=1)
    assert plain.model.account_market is None and "accounts" not in plain.summary
    assert plain.accounts.empty and (plain.timeseries["total_accounts_sold"] == 0).all()


def test_account_goods_need_the_account_market(tmp_path):
    text = (ROOT / "scenarios" / "us2016_content_farms.yaml").read_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("account_market: {}", ""))
    with pytest.raises(ScenarioError) as info:
        load_scenario(bad)
    assert info.value.field == "workers.veles_staff.accounts_from"
    assert "account_market" in str(info.value) and info.value.line is not None
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "validate", str(bad)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    with pytest.raises(ScenarioError) as info:
        load_scenario(ARMS, ["account_market=null"])
    assert "buy_aged" in str(info.value)
    with pytest.raises(ScenarioError) as info:
        load_scenario(ARMS, ["account_market.max_scarcity=0.5"])
    assert info.value.field == "account_market.max_scarcity"


def test_accounts_a_worker_gives_up_are_bought_back_and_listed_again():
    model = ClickFarmModel(ARMS, overrides=["days=1"])
    for _ in range(3):
        model.step()
    am, acc, w, led = model.account_market, model.accounts, model.workers, model.ledger
    worker = int(np.flatnonzero(w.accounts_alive >= 2)[0])
    rows = np.flatnonzero((acc.owner == worker) & ~acc.banned)
    farm = int(model.recruiter_account[model.leaves[w.market[worker]]])
    before_farm, before_makers = led.balances["money"][[farm, am.maker]]
    listed = am.stock_ident.size
    paid = am.resell(rows, now=3.0)
    assert paid > 0 and w.accounts_alive[worker] == 0 and w.active_account[worker] == -1
    assert acc.retired[rows].all() and am.stock_ident.size == listed + rows.size
    assert np.isin(am.row_ident[rows], am.stock_ident).all()
    assert led.balances["money"][farm] == before_farm + paid
    assert led.balances["money"][am.maker] == before_makers - paid
    model.step()  # counted in the next hour's record, and the books still balance
    assert model.record.accounts.bought_back == rows.size
    assert model.record.accounts.buybacks == paid


def test_workers_who_leave_put_their_accounts_back_on_the_market():
    # microtask_turnover with an account market: a leaver's live accounts are bought back
    bought_back = {}
    for turnover in (True, False):
        extra = [] if turnover else ["workers.apac_workers.turnover=null"]
        model = ClickFarmModel(
            "microtask_turnover", rng=4, days=14, overrides=["account_market={}", *extra]
        )
        start = model.workers.enrolled.copy()
        while model.running:
            model.step()
        model.ledger.check_balanced()
        acc, w = model.accounts, model.workers
        gone = np.flatnonzero(start & ~w.enrolled)
        assert not (np.isin(acc.owner, gone) & ~acc.banned).any()  # none kept a live account
        bought_back[turnover] = model.account_market.total.bought_back
        if turnover:
            assert gone.size > 0
    assert bought_back[True] > 0 and bought_back[False] == 0
