"""The model is usable like any Mesa model."""

import mesa
import pandas as pd

from sim import ClickFarmModel
from sim.core.agents import BotAccount, Influencer, MicroWorker, Moderator, Recruiter
from sim.run.outputs import run_scenario
from sim.scenario.load import load_scenario


def test_model_steps_and_exposes_agents_and_datacollector():
    model = ClickFarmModel("ps2017_influencer_pyramid", rng=42)
    for _ in range(5):
        model.step()
    assert model.steps == 5
    kinds = {type(a) for a in model.agents}
    assert {Recruiter, Influencer, MicroWorker, Moderator} <= kinds
    workers = model.agents_by_type[MicroWorker]
    assert len(workers) == 20_000
    df = model.datacollector.get_model_vars_dataframe()
    assert len(df) == 6 and "total_delivered" in df.columns
    busiest = max(workers, key=lambda a: a.tasks_done)
    state = busiest.state()
    assert state["tasks_done"] > 0 and state["region"] == "france"
    assert state["accounts"] and {"age_days", "trust", "banned"} <= set(state["accounts"][0])


def test_bots_are_their_own_agent_type():
    model = ClickFarmModel("bots_vs_click_workers", rng=1)
    assert len(model.agents_by_type[BotAccount]) == 100


def test_model_accepts_a_scenario_object_and_keyword_overrides():
    scenario = load_scenario("fillon2017_points")
    model = ClickFarmModel(scenario, rng=3, workers__supporters__count=50, days=1)
    assert model.workers.size == 50 and model.max_steps == 24
    while model.running:
        model.step()
    assert model.steps == 24


def test_run_scenario_returns_dataframes():
    result = run_scenario("baseline_microtask_market", seed=5, days=1)
    assert isinstance(result.timeseries, pd.DataFrame) and len(result.timeseries) == 25
    assert isinstance(result.agents, pd.DataFrame)
    assert set(result.agents["kind"]) >= {"micro_worker", "recruiter", "moderator"}


def test_mesa_batch_run_works_on_the_model_class():
    import inspect

    params = {"spec": "bots_vs_click_workers", "platform__moderation__moderators": [5, 20]}
    if "rng" in inspect.signature(mesa.batch_run).parameters:  # Mesa >= 3.4 seeds via rng=
        extra = {"rng": [11]}
    else:
        params["rng"] = 11
        extra = {"iterations": 1}
    rows = mesa.batch_run(
        ClickFarmModel,
        parameters=params,
        max_steps=12,
        number_processes=1,
        display_progress=False,
        **extra,
    )
    finals = {row["platform__moderation__moderators"]: row["total_removed"] for row in rows}
    assert set(finals) == {5, 20}
    assert finals[20] > finals[5]


def test_the_scenario_keyword_names_the_same_spec_as_spec():
    old = ClickFarmModel(scenario="bots_vs_click_workers", rng=2, days=1)
    new = ClickFarmModel(spec="bots_vs_click_workers", rng=2, days=1)
    assert old.spec == new.spec and old.spec.title != ClickFarmModel(days=1).spec.title
