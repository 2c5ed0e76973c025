"""The one road in (``load_scenario``), the one dotted-key walker, and the run budget."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from sim.core.model import ClickFarmModel
from sim.scenario.budget import (
    BASE_BYTES,
    BYTES_PER_WORKER,
    INT64_MAX,
    check_memory,
    estimate_memory,
    money_bound,
    parse_bytes,
    placements_of,
    sizes,
)
from sim.scenario.document import load_document
from sim.scenario.errors import ScenarioError
from sim.scenario.fields import FieldPathError, assign, field_kind, friendly_path, walk
from sim.scenario.load import load_scenario, resolved_dict, scenario_to_yaml
from sim.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[1]
NAME = "bots_vs_click_workers"
PATH = ROOT / "scenarios" / f"{NAME}.yaml"
CHANGE = ["workers.click_workers.count=7", "days=2"]


def test_every_kind_of_source_gives_the_same_scenario():
    expected = load_scenario(NAME, CHANGE)
    assert expected.workers[1].count == 7 and expected.days == 2
    plain = load_scenario(NAME)
    sources = [
        PATH,
        str(PATH),
        PATH.read_text(encoding="utf-8"),  # YAML text
        resolved_dict(plain),  # a mapping
        load_document(PATH),  # a document read already
        plain,  # a validated Scenario
    ]
    for source in sources:
        assert load_scenario(source, CHANGE) == expected, type(source)
    assert load_scenario(plain) is plain, "a Scenario without changes is taken as it is"


def test_the_model_and_text_round_trip_use_the_same_road():
    model = ClickFarmModel(NAME, overrides=["workers.click_workers.count=7"], days=2)
    assert model.spec == load_scenario(NAME, CHANGE)
    again = load_scenario(scenario_to_yaml(model.spec))
    assert again == model.spec


def test_errors_name_the_source_they_came_from():
    with pytest.raises(ScenarioError) as info:
        load_scenario({"title": "t"}, label="pasted")
    assert str(info.value).startswith("pasted: description: required field is missing")
    with pytest.raises(ScenarioError) as info:
        load_scenario("title: t\nextends: x.yaml\n", label="upload")
    assert (info.value.file, info.value.line, info.value.field) == ("upload", 2, "extends")


# ------------------------------------------------------------------------------ walker
DATA = {
    "workers": [{"id": "a", "count": 1}, {"id": "b", "count": 2}],
    "platform": {"moderation": {"moderators": 3}},
}


def test_walk_finds_items_by_id_or_index():
    assert walk(DATA, "workers.b.count").loc == ("workers", 1, "count")
    assert walk(DATA, "workers.0.count").value == 1
    assert walk(DATA, ("workers", 1, "count")).value == 2
    assert friendly_path(DATA, ("workers", 1, "count")) == "workers.b.count"


def test_walk_with_the_schema_knows_each_fields_kind():
    assert field_kind("workers.b.count", DATA) == "int"
    assert field_kind("platform.moderation.accuracy", DATA) == "float"
    assert field_kind("platform.moderation.wage_per_hour", DATA) == "money"
    with pytest.raises(FieldPathError, match="'moderatorz' is not a field of platform.moderation"):
        walk(DATA, "platform.moderation.moderatorz", schema=Scenario)
    with pytest.raises(FieldPathError, match="workers has no item 'c'; expected one of: a, b"):
        walk(DATA, "workers.c.count", schema=Scenario)
    with pytest.raises(ValueError, match="whole section"):
        field_kind("platform.moderation", DATA)


def test_assign_sets_in_place_and_creates_missing_sections():
    data = {"workers": [{"id": "a", "count": 1}]}
    assert assign(data, "workers.a.count", 5) == ("workers", 0, "count")
    assert assign(data, "platform.moderation.moderators", 9) == (
        "platform",
        "moderation",
        "moderators",
    )
    assert data == {
        "workers": [{"id": "a", "count": 5}],
        "platform": {"moderation": {"moderators": 9}},
    }
    with pytest.raises(FieldPathError, match="is a single value"):
        assign(data, "workers.a.count.x", 1)


# ------------------------------------------------------------------------------ budget
def test_placements_follow_the_repeat_rules():
    s = load_scenario("baseline_microtask_market", ["days=1"])
    every_hour, every_two, _ = s.campaigns
    assert placements_of(every_hour, 24) == 24
    assert placements_of(every_two, 24) == 12
    assert placements_of(every_two, 23) == 12  # hours 0, 2, ..., 22
    capped = load_scenario("baseline_microtask_market", ["campaigns.app_reviews.repeat.times=5"])
    assert placements_of(capped.campaigns[1], capped.steps) == 5
    assert sizes(s).placements == 24 + 12 + 24


def test_memory_estimate_counts_each_worker():
    small = load_scenario(NAME, ["workers.click_workers.count=1000"])
    large = load_scenario(NAME, ["workers.click_workers.count=2000"])
    grown = estimate_memory(large).parts["workers"] - estimate_memory(small).parts["workers"]
    assert grown == 1000 * BYTES_PER_WORKER
    assert estimate_memory(small).total > BASE_BYTES


def test_memory_check_refuses_only_above_the_limit():
    s = load_scenario(NAME)
    need = estimate_memory(s).total
    assert check_memory(s, need).total == need
    with pytest.raises(ScenarioError, match="more than the --max-memory limit"):
        check_memory(s, need - 1)
    assert parse_bytes("2G") == 2 * 1024**3 and parse_bytes("512MiB") == 512 * 1024**2
    assert parse_bytes("1000") == 1000


def test_money_bound_by_hand():
    """One campaign placed once: 10 likes at 0.5, one recruiter paying 0.25 per like."""
    text = """
title: t
description: d
days: 1
currency: {code: USD, minor_units: 100}
regions: {here: {}}
recruiters:
  - {id: r, pays: {like: 0.25}}
workers:
  - {id: w, count: 1, region: here, recruiter: r}
campaigns:
  - {id: c, client: x, recruiter: r, audience_region: here, actions: {like: 10},
     price_per_action: {like: 0.5}, deadline_hours: 24}
platform:
  users: 0
  revenue_per_1000_impressions: 0
  moderation: {moderators: 0}
"""
    parts = money_bound(load_scenario(text))
    # budget in and unspent out, and again through escrow: 4 x 10 x 50 units; each like
    # pays the (one) chain level, the worker and a refill or hold at most 25 units each,
    # three times over (delivery, hold, release): 3 x 10 x 25 x (1 + 2)
    assert parts[("campaigns", 0)] == 4 * 10 * 50 + 3 * 10 * 25 * 3
    assert parts[("platform", "ad_profit_per_user_per_quarter")] == 1
    assert sum(parts.values()) < INT64_MAX


def test_money_that_could_overflow_names_the_field_that_drives_it():
    with pytest.raises(ScenarioError) as info:
        load_scenario(
            NAME,
            [
                "currency.minor_units=1000000000",
                "platform.users=10000000000",
                "platform.ad_profit_per_user_per_quarter=1000",
            ],
        )
    assert info.value.field == "platform.ad_profit_per_user_per_quarter"
    assert "64-bit" in info.value.message


def test_strict_types_keep_money_exact():
    s = load_scenario(NAME, ["recruiters.click_farm.pays.post=0.005"])
    assert s.recruiters[-1].pays["post"] == Decimal("0.005")
    assert load_scenario(NAME, ["days=1e0"]).days == 1.0  # YAML 1.2 exponent form
