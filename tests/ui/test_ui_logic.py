"""The browser app's plain-Python layer: set-ups, controls, what-ifs, flows, exports.

These run without a browser or a server, in a few seconds.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.run.outputs import money_destinations, run_scenario
from sim.scenario.errors import ScenarioError
from sim.scenario.load import load_scenario, shipped_scenarios
from sim.ui import charts, export, params, whatifs
from sim.ui.compare import Comparison, fmt
from sim.ui.flows import money_graph
from sim.ui.session import LiveRun, Setup, check_size, friendly_error, placements

SHIPPED = sorted(shipped_scenarios())


def short(name: str, days: float = 1) -> Setup:
    return Setup(name, changes=(("days", days),))


@pytest.mark.parametrize("name", SHIPPED)
def test_every_control_has_a_valid_range_and_default(name):
    items = params.controls(Setup(name))
    assert items, "every scenario has parameters to play with"
    keys = [c.key for c in items]
    assert len(keys) == len(set(keys))
    for c in items:
        if c.kind != "bool":
            assert c.slider_lo <= c.slider_hi
            if c.lo is not None:
                assert c.slider_lo >= c.lo
            if c.hi is not None:
                assert c.slider_hi <= c.hi
        assert c.origin
        # the default itself is accepted when set explicitly
        c.applied(Setup(name), c.coerce(c.default)).scenario()


def test_control_origin_names_the_file_line_or_the_package():
    items = {c.key: c for c in params.controls(Setup("baseline_microtask_market"))}
    assert items["platform.moderation.moderators"].origin.startswith(
        "baseline_microtask_market.yaml, line "
    )
    assert items["platform.detection.bias"].origin.startswith("package default")


def test_money_controls_round_to_ledger_units():
    c = {c.key: c for c in params.controls(Setup("us2016_content_farms"))}
    pay = c["recruiters.click_network.pays.like"]
    assert pay.coerce(0.0000612345) == pytest.approx(0.000061)
    Setup("us2016_content_farms").change(pay.key, pay.coerce(0.0000612345)).scenario()


def test_bad_values_are_scenario_errors_with_the_field():
    bad = Setup("baseline_microtask_market").change("platform.moderation.accuracy", 7)
    with pytest.raises(ScenarioError) as info:
        bad.scenario()
    text = friendly_error(info.value)
    assert text.startswith("changed parameter platform.moderation.accuracy=7")
    assert "<= 1" in text


def test_pasted_yaml_errors_point_at_the_line():
    text = (
        "title: t\ndescription: d\nregions:\n  r: {reservation_wage_per_hour: 1}\n"
        "recruiters:\n  - id: b\n    pays: {like: 0.01}\nworkers:\n"
        "  - {id: w, count: 10, region: r, recruiter: b}\ncampaigns:\n"
        "  - id: c\n    client: x\n    recruiter: b\n    audience_region: r\n"
        "    actions: {like: 10}\n    urgency: 9\n"
    )
    with pytest.raises(ScenarioError) as info:
        Setup("mine.yaml", text=text).scenario()
    assert info.value.line == 16
    assert info.value.field == "campaigns.c.urgency"
    assert str(info.value).startswith("mine.yaml:16: campaigns.c.urgency:")


def test_extends_is_refused_for_pasted_text():
    with pytest.raises(ScenarioError, match="extends"):
        Setup("x.yaml", text="extends: base.yaml\n").scenario()


def test_size_limits_refuse_stalling_set_ups():
    with pytest.raises(ScenarioError, match="workers"):
        check_size(Setup().change("workers.na_workers.count", 10_000_000).scenario())
    with pytest.raises(ScenarioError, match="orders"):
        check_size(Setup().change("days", 3650).scenario())
    check_size(Setup().scenario())
    assert placements(Setup().scenario()) == 840


@pytest.mark.parametrize("name", SHIPPED)
def test_money_graph_matches_the_ledger(name):
    run = LiveRun(short(name, 2))
    run.step(48)
    graph = money_graph(run.model)
    expected = money_destinations(run.model)
    labels = {
        "workers": "workers",
        "influencers": "influencers",
        "kept by recruiters": "recruiters (margins)",
        "bot software developer": "outside suppliers (software, accounts)",
        "platform (promotion)": "platform (promotion)",
        "still in escrow": "still in escrow",
        "workers' pay on hold": "workers' pay still on hold",
    }
    got = {labels[k]: v for k, v in graph.destinations().items()}
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=1e-9)
    assert graph.money(graph.spend) == pytest.approx(sum(expected.values()), abs=1e-9)


@pytest.mark.parametrize("name", SHIPPED)
def test_views_build_and_serialise_for_every_scenario(name):
    run = LiveRun(short(name))
    for _ in range(2):
        options = [
            charts.timeseries_option(run.rows, run.currency, max_days=1),
            charts.money_sankey_option(money_graph(run.model), run.currency),
            charts.network_option(run.model, run.sample),
            charts.pay_histogram_option(run.model),
            charts.history_option(run.agent_history("recruiter", 0), ["balance"], "r"),
        ]
        for option in options:
            json.loads(charts.to_json(option))
        run.step(12)
    charts.leaderboard_rows(run.model)
    charts.objective_rows(run.model)


def test_network_nodes_map_back_to_agents():
    run = LiveRun(short("ps2017_influencer_pyramid"))
    run.step(3)
    option = charts.network_option(run.model, run.sample)
    ids = [
        item["id"]
        for s in option["series"]
        if s["type"] == "scatter"
        for item in s["data"]
        if "id" in item
    ]
    kinds = {charts.node_to_agent(i)[0] for i in ids}
    assert kinds == {"recruiter", "influencer", "worker"}
    assert charts.node_to_agent("x1") is None


def test_history_replay_equals_recorded_history():
    run = LiveRun(short("baseline_microtask_market"), sample_size=5)
    run.step(10)
    watched = int(run.sample[0])
    unwatched = next(i for i in range(run.model.workers.size) if i not in set(run.sample))
    recorded = run.agent_history("worker", watched)
    assert len(recorded) == 10
    replayed = run.agent_history("worker", unwatched)  # rebuilt by replaying the run
    assert len(replayed) == 10
    run.step(2)
    assert len(run.agent_history("worker", unwatched)) == 12
    final = run.agent_state("worker", unwatched)
    assert replayed["tasks_done"].iloc[-1] <= final["tasks_done"]


def test_sample_is_deterministic_and_spans_groups():
    a = LiveRun(Setup("us2016_content_farms"), sample_size=60)
    b = LiveRun(Setup("us2016_content_farms"), sample_size=60)
    assert np.array_equal(a.sample, b.sample)
    groups = set(a.model.workers.group[a.sample].tolist())
    assert groups == set(range(len(a.scenario.workers)))


@pytest.mark.parametrize("name", SHIPPED)
def test_whatifs_build_valid_scenarios_that_run(name):
    base = short(name)
    for key, what in whatifs.available(base.scenario()).items():
        if isinstance(what, str):
            continue
        variant = base.with_changes(list(what.changes))
        run = LiveRun(variant)
        run.step(6)
        assert run.error is None, (key, run.error)


def test_whatifs_do_what_they_say():
    base = short("baseline_microtask_market", 2)
    s = base.scenario()
    points = base.with_changes(list(whatifs.pay_in_points(s).changes)).scenario()
    assert not any(r.pays for r in points.recruiters)
    assert points.recruiters[0].points["comment"] == 5  # 0.10 / 0.02
    assert all(g.motivation.money == 0 and g.motivation.points == 1 for g in points.workers)
    double = base.with_changes(list(whatifs.double_moderators(s).changes)).scenario()
    assert double.platform.moderation.moderators == 4
    pyramid = base.with_changes(list(whatifs.to_pyramid(s).changes)).scenario()
    assert [r.kind for r in pyramid.recruiters] == ["broker", "influencer_network"]
    assert {g.recruiter for g in pyramid.workers} == {"microtask_broker_network"}
    bots = base.with_changes(list(whatifs.to_bots(s).changes)).scenario()
    assert {g.kind for g in bots.workers} == {"bot"}
    assert bots.recruiters[0].kind == "bot_operator"
    with pytest.raises(whatifs.NotApplicable):
        whatifs.to_pyramid(Setup("ps2017_influencer_pyramid").scenario())
    with pytest.raises(whatifs.NotApplicable):
        whatifs.pay_in_points(Setup("fillon2017_points").scenario())


def test_pay_in_points_keeps_the_work_and_removes_the_pay():
    base = short("baseline_microtask_market", 2)
    w = whatifs.pay_in_points(base.scenario())
    comp = Comparison(LiveRun(base), LiveRun(base.with_changes(list(w.changes))), "A", "B")
    comp.run_to_end()
    a, b = comp.a.summary()["headline"], comp.b.summary()["headline"]
    assert a["total_worker_income"] > 0 and b["total_worker_income"] == 0
    assert b["total_client_spend"] == a["total_client_spend"]
    rows = {r["metric"]: r for r in comp.table()}
    assert rows["workers' income"]["B"] == "0 USD"


@pytest.mark.parametrize("name", ["baseline_microtask_market", "fillon2017_points"])
def test_exported_yaml_reproduces_the_run(name, tmp_path):
    setup = Setup(name, changes=(("days", 1), ("platform.moderation.moderators", 3)), seed=7)
    run = LiveRun(setup)
    run.run_to_end()
    text = export.scenario_yaml(run)
    assert load_scenario(text) == run.scenario
    path = tmp_path / "exported.yaml"
    path.write_text(text)
    again = run_scenario(path)
    assert again.summary == run.summary()
    assert yaml.safe_load(text)["seed"] == 7


def test_exports_produce_files():
    run = LiveRun(short("bots_vs_click_workers", 0.25))
    run.step(6)
    assert export.csv_bytes(run, "timeseries").startswith(b"step,seed,")
    assert export.parquet_bytes(run, "agents")[:4] == b"PAR1"
    assert export.figure_png(run, "money_flows")[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads(export.summary_json(run))["steps"] == 6


def test_a_failing_step_is_reported_not_raised(monkeypatch):
    run = LiveRun(short("baseline_microtask_market"))

    def broken():
        raise RuntimeError("boom")

    monkeypatch.setattr(run.model, "step", broken)
    assert run.step(3) == 0
    assert run.finished
    assert "RuntimeError: boom" in run.error


def test_headline_formats():
    assert fmt(0.5, "share") == "50.0%"
    assert fmt(1234.5, "money", "USD") == "1,234 USD"
    assert fmt(0.00006, "money", "USD") == "6e-05 USD"
    assert fmt(None, "int") == "—"


def test_one_control_sets_the_search_time_of_every_human_group():
    setup = Setup("baseline_microtask_market")
    control = next(c for c in params.controls(setup) if c.key == params.ALL_GROUPS_SEARCH)
    humans = [g.id for g in setup.scenario().workers if g.kind == "human"]
    assert len(control.targets) == len(humans) > 1
    changed = control.applied(setup, 2.5).scenario()
    assert {g.search_minutes_per_task for g in changed.workers if g.kind == "human"} == {2.5}


def test_app_limits_are_the_controls_bounds_and_days_start_at_one_hour():
    items = {c.key: c for c in params.controls(Setup("baseline_microtask_market"))}
    moderators = items["platform.moderation.moderators"]
    assert moderators.hi == 50_000
    with pytest.raises(ValueError, match="≤ 50,000, got 60,000"):
        moderators.coerce(60_000)
    with pytest.raises(ValueError, match="≥ 0.0416667 and ≤ 3,650"):
        items["days"].coerce(1e-320)
    assert items["days"].coerce(1 / 24) == pytest.approx(1 / 24)


def test_negative_numbers_use_one_minus_sign():
    from sim.ui.compare import MINUS, fmt, fmt_change

    assert fmt(-2789, "money", "USD") == f"{MINUS}2,789 USD"
    assert fmt_change(100, 0, "int") == (f"{MINUS}100", f"{MINUS}100%")
    assert fmt_change(1000, 999, "int") == (f"{MINUS}1", "0%")  # never "-0%"
    assert fmt_change(1, 3, "money", "USD") == ("+2.00 USD", "+200%")


def test_exported_zip_members_are_readable_by_everyone(tmp_path):
    import stat
    import zipfile

    from sim.ui.export import bundle
    from sim.ui.session import LiveRun

    setup = Setup("baseline_microtask_market").change("days", 1)
    run = LiveRun(setup, setup.scenario())
    run.step(2)
    path = tmp_path / "run.zip"
    path.write_bytes(bundle(run))
    with zipfile.ZipFile(path) as z:
        modes = {i.filename: stat.S_IMODE(i.external_attr >> 16) for i in z.infolist()}
    assert modes and set(modes.values()) == {0o644}, modes


def test_event_markers_sit_at_the_events_hours_on_every_time_series_panel():
    scenario = Setup("purge_arms_race").scenario()
    markers = charts.event_markers(scenario)
    assert markers == (
        charts.EventMarker("purge", 96),
        charts.EventMarker("detector_upgrade", 168),
    )
    assert charts.event_markers(scenario, hours=100) == markers[:1]  # later ones left out
    rows = [{"total_delivered": float(i)} for i in range(24 * 12)]
    option = charts.timeseries_option(rows, "USD", events=markers)
    marked = [s for s in option["series"] if "markLine" in s]
    assert sorted(s["xAxisIndex"] for s in marked) == list(range(len(charts.TIMESERIES_PANELS)))
    for s in marked:  # day 4 and day 7: the start of hours 96 and 168
        assert [(d["name"], d["xAxis"]) for d in s["markLine"]["data"]] == [
            ("purge", 4.0),
            ("detector_upgrade", 7.0),
        ]
    history = charts.history_option(
        pd.DataFrame({"hour": [0, 1], "tasks_done": [1.0, 2.0]}),
        ["tasks_done"],
        "History",
        events=markers,
    )
    assert [d["xAxis"] for d in history["series"][0]["markLine"]["data"]] == [96, 168]
    assert "markLine" not in charts.timeseries_option(rows, "USD")["series"][0]


def test_events_only_one_run_of_a_comparison_has_are_labelled_with_that_run():
    purge, upgrade = charts.EventMarker("purge", 96), charts.EventMarker("upgrade", 168)
    merged = charts.merged_markers([("A", (purge,)), ("B", (purge, upgrade))])
    assert merged == (purge, charts.EventMarker("upgrade (B)", 168))
    option = charts.overlay_option([("A", [1.0, 2.0]), ("B", [1.0, 3.0])], "x", events=merged)
    assert [d["name"] for d in option["series"][0]["markLine"]["data"]] == ["purge", "upgrade (B)"]


def test_large_type_keeps_the_lines_of_a_label_apart():
    option = {"series": [{"label": {"fontSize": 11, "lineHeight": 14}}]}
    label = charts.large_type(option, smallest=14)["series"][0]["label"]
    assert label == {"fontSize": 14, "lineHeight": 18}  # 14 px type on 17.5 px lines, rounded


def test_pay_histogram_shows_the_summarys_median_and_who_is_left_out():
    run = LiveRun(short("baseline_microtask_market"))
    run.step(12)
    option = charts.pay_histogram_option(run.model)
    median = run.summary_row()["hourly_pay_median"]
    marks = [d["name"] for d in option["series"][0]["markLine"]["data"]]
    assert f"median {median:.4g} USD/h" in marks
    idle = charts.never_found_a_task(run.model)
    assert idle > 0, "at hour 12 some workers have looked for work and found none"
    assert f"{idle:,} online who never found a task are left out" in option["title"]["text"]
