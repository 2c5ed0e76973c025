"""The classroom engine: student-driven agents, the session's rules, export and replay."""

from __future__ import annotations

import csv
import json
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.classroom.actions import (
    JOIN_ALPHABET,
    DoTasks,
    Judge,
    PlaceOrder,
    SetRates,
    TokenBucket,
    clean_nickname,
    new_join_code,
)
from sim.classroom.predictions import quantiles
from sim.classroom.session import ClassSession, SessionError
from sim.core.students import judge, tasks_that_fit
from sim.scenario.errors import ScenarioError
from sim.scenario.load import load_scenario, scenarios_dir
from tests.inprocess import run_cli

# a small baseline market (450 workers, one day): a session step takes milliseconds
SMALL = [
    "days=1",
    "workers.na_workers.count=150",
    "workers.apac_workers.count=200",
    "workers.africa_workers.count=100",
]
CAMPAIGN = "brand_page_growth"


def session(*extra: str, bucket=(1000.0, 1000.0), **kw) -> ClassSession:
    """A session on the small market (generous rate limit unless a test sets one)."""
    spec = load_scenario("baseline_microtask_market", [*SMALL, *extra])
    return ClassSession(spec, seed=5, bucket=bucket, **kw)


def player(s: ClassSession, name: str, role: str):
    return s.choose_role(s.join(s.join_code, name), role)


def work_hours(s: ClassSession, w, hours: int, tasks: int = 5) -> None:
    """The student worker asks for ``tasks`` of each of its first two offers, every hour."""
    for _ in range(hours):
        for offer in s.view(w).tasks[:2]:
            assert s.act(w, DoTasks(offer.campaign, offer.action, tasks)).accepted
        s.step(1)


# -- small rules, by hand ----------------------------------------------------------------
def test_tasks_that_fit_counts_task_and_search_minutes():
    # 0.5 min a task at speed 1, 0.1 min to find it: 60 / 0.6 = 100 tasks in an hour
    assert tasks_that_fit(60, 0.5, 1.0, 0.1) == 100
    # twice as fast: 0.25 + 0.1 = 0.35 min a task; 10 minutes left -> 28 tasks
    assert tasks_that_fit(10, 0.5, 2.0, 0.1) == 28
    assert tasks_that_fit(0.2, 0.5, 1.0, 0.1) == 0


def test_judge_removes_fakes_within_capacity_and_counts_genuine_as_errors():
    assert judge(5, "fake", 3) == (3, 3, 0)  # capacity cuts the review short
    assert judge(5, "genuine", 10) == (5, 0, 5)  # every flagged action is fake here
    assert judge(4, "fake", 0) == (0, 0, 0)
    # with genuine users an item can be real: removing it is then the error
    assert judge(5, "fake", 10, genuine=True) == (5, 5, 5)
    assert judge(5, "genuine", 10, genuine=True) == (5, 0, 0)


def test_token_bucket_allows_a_burst_then_the_refill_rate():
    bucket = TokenBucket(burst=3, per_second=2, now=0.0)
    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.take(0.5)  # half a second at 2/s gives one back
    assert not bucket.take(0.5)


def test_join_codes_and_nicknames_are_safe():
    code = new_join_code()
    assert len(code) == 6 and set(code) <= set(JOIN_ALPHABET)
    assert clean_nickname("  <b>Ada</b>\n\x00 Lovelace ") == "bAdab Lovelace"
    assert clean_nickname("x" * 100) == "x" * 24
    assert clean_nickname("<>{}") == ""


def test_prediction_quantiles_by_hand():
    assert quantiles([0.0, 1.0]) == {0.1: 0.1, 0.25: 0.25, 0.5: 0.5, 0.75: 0.75, 0.9: 0.9}
    assert quantiles([]) == {}


# -- directional tests -------------------------------------------------------------------
def test_a_student_worker_who_does_tasks_earns_more_than_one_who_does_not():
    s = session()
    busy, idle = player(s, "busy", "worker"), player(s, "idle", "worker")
    assert busy.agent != idle.agent
    work_hours(s, busy, 6)
    b, i = s.view(busy), s.view(idle)
    assert b.tasks_done > 0 and b.earnings > 0
    assert i.tasks_done == 0 and i.earnings == 0 and i.hours_online == 0
    assert 0 < b.hours_unpaid < b.hours_online  # search time is counted, unpaid
    assert b.hourly_pay == pytest.approx(b.earnings / b.hours_online)
    assert 0 < b.done_last_hour <= b.asked_last_hour == 10


def test_a_broker_who_raises_pay_fills_its_orders_faster():
    low = [
        "recruiters.microtask_broker.pays.like=0.002",
        "recruiters.microtask_broker.pays.follow=0.002",
    ]
    outcomes = []
    for raise_pay in (False, True):
        s = session(*low)
        b = player(s, "broker", "broker")
        if raise_pay:
            assert s.act(b, SetRates("like", pay=0.02)).accepted
            assert s.act(b, SetRates("follow", pay=0.02)).accepted
        s.step(12)
        outcomes.append(s.view(b))
    kept, raised = outcomes
    assert raised.actions_delivered > kept.actions_delivered
    assert raised.orders_expired < kept.orders_expired
    assert [r.pay for r in raised.rates if r.action == "like"] == [0.02]


def test_a_moderator_who_marks_everything_genuine_lets_more_fakes_survive():
    surviving = {}
    for verdict in ("fake", "genuine"):
        s = session("platform.moderation.moderators=2")
        m = player(s, "mod", "moderator")
        for _ in range(10):
            for item in s.view(m).queue:
                s.act(m, Judge(item.item, verdict))
            s.step(1)
        v = s.view(m)
        assert v.reviewed > 0
        assert (v.errors == 0) if verdict == "fake" else (v.errors == v.reviewed)
        surviving[verdict] = s.model.metrics["total_surviving"]
    assert surviving["genuine"] > surviving["fake"]


def test_a_student_moderator_on_a_platform_with_genuine_users_can_remove_real_engagement():
    # purge_arms_race has genuine users and retraining: the queue knows what each item is
    removed = {}
    for verdict in ("fake", "genuine"):
        s = ClassSession(load_scenario("purge_arms_race", ["days=2"]), seed=3, bucket=(1e3, 1e3))
        m = player(s, "mod", "moderator")
        for _ in range(30):
            for item in s.view(m).queue:
                s.act(m, Judge(item.item, verdict))
            s.step(1)
        s.model.ledger.check_balanced()
        removed[verdict] = s.model.metrics["total_genuine_removed"]
        assert s.view(m).reviewed > 0
    assert removed["fake"] > removed["genuine"]


def test_a_client_order_adds_delivered_actions():
    delivered = []
    for order in (False, True):
        s = session()
        c = player(s, "client", "client")
        s.step(1)
        if order:
            assert s.act(c, PlaceOrder("like", 100, deadline_hours=6)).accepted
        s.step(6)
        delivered.append(s.model.metrics["total_delivered"])
        if order:
            [status] = s.view(c).orders
            assert status.delivered == 100 and status.cost == pytest.approx(100 * 0.022)
    assert delivered[1] == delivered[0] + 100


# -- export and replay -------------------------------------------------------------------
def test_export_replays_bit_for_bit_with_clickfarm_run(tmp_path, capsys, monkeypatch):
    s = session()
    w, b = player(s, "Ada", "worker"), player(s, "Bo", "broker")
    m, c = player(s, "Cy", "moderator"), player(s, "Di", "client")
    q = s.pose("What share of spend reaches workers?", kind="share", metric="worker_share_of_spend")
    assert s.answer(w, q.id, 0.3).accepted and s.answer(c, q.id, 0.7).accepted
    s.step(1)
    assert s.act(b, SetRates("follow", pay=0.021)).accepted
    assert s.act(c, PlaceOrder("like", 50, deadline_hours=4)).accepted
    for _ in range(4):
        for item in s.view(m).queue[:3]:
            s.act(m, Judge(item.item, "genuine"))
        work_hours(s, w, 1, tasks=3)
    s.end()
    out = s.export(tmp_path / "lesson", figures=False)
    assert {p.name for p in out.iterdir()} == {
        "run",
        "actions.csv",
        "predictions.csv",
        "session.yaml",
    }
    replay = tmp_path / "replay"
    done = run_cli(capsys, monkeypatch, "run", out / "session.yaml", "--out", replay)
    assert done.code == 0, done.stderr
    live = json.loads((out / "run" / "summary.json").read_text())
    assert live == json.loads((replay / "summary.json").read_text())
    assert (out / "run/timeseries.csv").read_bytes() == (replay / "timeseries.csv").read_bytes()
    assert (out / "run/flows.csv").read_bytes() == (replay / "flows.csv").read_bytes()
    kinds = {e["kind"] for e in live["events"]}
    assert kinds >= {"worker_tasks", "broker_rates", "moderator_verdicts", "client_order"}
    rows = list(csv.DictReader((out / "actions.csv").open()))
    assert {r["player"] for r in rows} == {w.id, b.id, m.id, c.id}  # nicknames replaced
    assert "Ada" not in (out / "actions.csv").read_text()
    answers = list(csv.DictReader((out / "predictions.csv").open()))
    assert sorted(float(a["answer"]) for a in answers) == [0.3, 0.7]
    assert float(answers[0]["outcome"]) == pytest.approx(live["headline"]["worker_share_of_spend"])


def test_export_refuses_a_folder_in_use_and_writes_nothing(tmp_path):
    s = session()
    s.step(1)
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    with pytest.raises(SessionError, match="new or empty folder"):
        s.export(busy, figures=False)
    assert [p.name for p in busy.iterdir()] == ["notes.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["busy"]  # no temporary folder left


# -- refusals ----------------------------------------------------------------------------
def test_wrong_code_full_session_and_ended_session_are_refused():
    s = session(max_players=2)
    with pytest.raises(SessionError, match="wrong join code"):
        s.join("AAAAAA" if s.join_code != "AAAAAA" else "BBBBBB", "Ada")
    with pytest.raises(SessionError, match="wrong join code"):
        s.join("ÄÖÜ€23", "Ada")  # characters no code has are refused, not a crash
    a = s.join(s.join_code.lower(), "Ada")  # codes are typed in any case
    s.join(s.join_code, "Bo")
    with pytest.raises(SessionError, match="full"):
        s.join(s.join_code, "Cy")
    with pytest.raises(SessionError, match="nickname"):
        s.join(s.join_code, "<>")
    s.end()
    with pytest.raises(SessionError, match="ended"):
        s.join(s.join_code, "Ada")
    assert not s.act(a, DoTasks(CAMPAIGN, "like")).accepted
    assert s.lecturer_view().join_code is None


def test_a_student_can_only_act_for_their_own_agent():
    s = session()
    w, b = player(s, "Ada", "worker"), player(s, "Bo", "broker")
    refused = s.act(w, SetRates("like", pay=0.5))
    assert not refused.accepted and "only a broker" in refused.reason
    forged = type(w)(id=b.id, token=w.token, nickname="Bo", role="broker", agent=b.agent)
    refused = s.act(forged, SetRates("like", pay=0.5))
    assert not refused.accepted and "not yours" in refused.reason
    assert not s.act("no-such-token", DoTasks(CAMPAIGN, "like")).accepted
    with pytest.raises(SessionError, match="one agent"):
        s.choose_role(w, "broker")
    assert s.model.market.overrides.pay.max() == -1  # nothing reached the model


def test_a_flood_of_clicks_is_refused_cleanly_and_logged():
    s = session(bucket=(5.0, 1.0), clock=lambda: 100.0)
    w = player(s, "Ada", "worker")
    s.step(1)
    offer = s.view(w).tasks[0]
    receipts = [s.act(w, DoTasks(offer.campaign, offer.action, 1)) for _ in range(50)]
    assert sum(r.accepted for r in receipts) == 5
    assert all("too many actions" in r.reason for r in receipts[5:])
    s.step(1)
    event = [e for e in s.events if e.kind == "worker_tasks"]
    assert [e.tasks for e in event] == [5]  # merged into one event of the hour


def test_rejoining_gives_back_the_same_player_and_agent():
    s = session()
    first = player(s, "Ada", "moderator")
    again = s.join(s.join_code, " ada ")
    assert again == first and again.role == "moderator" and again.agent == first.agent
    other = player(s, "Bo", "moderator")
    assert other.agent != first.agent
    assert s.lecturer_view().role_counts["moderator"] == 2


def test_roles_run_out_cleanly():
    s = session()
    player(s, "Bo", "broker")  # the market has a single broker
    with pytest.raises(SessionError, match="no broker is left"):
        player(s, "Cy", "broker")


def test_lecturer_controls_pace_pause_and_trigger():
    now = [0.0]
    spec = load_scenario("purge_arms_race", ["days=2"])
    s = ClassSession(spec, seed=1, clock=lambda: now[0], pace=60)
    now[0] = 10.0
    assert s.tick() == 0  # sessions start paused
    s.resume()
    now[0] = 40.0  # half a minute at 60 h/min
    assert s.tick() == 24
    assert s.model.hour == 23
    with pytest.raises(SessionError, match="pace"):
        s.set_pace(10_000)
    s.pause()
    now[0] = 100.0
    assert s.tick() == 0
    event = s.triggers()[0]
    assert s.trigger(event) == 24
    s.step(1)
    copy = s.events[-1]
    assert copy.hour == 24 and copy.kind == next(e.kind for e in spec.events if e.id == event)
    assert any(a.id == copy.id for a in s.model.timeline.applied)


# -- the recorded events, at load -------------------------------------------------------
def test_bad_student_events_are_refused_at_load_with_file_and_line(tmp_path, capsys, monkeypatch):
    text = (scenarios_dir() / "baseline_microtask_market.yaml").read_text()
    cases = {
        "  - {id: s1, hour: 0, kind: student_worker, worker: 99999}\n": "not a human micro-worker",
        "  - {id: s1, hour: 2, kind: worker_tasks, worker: 3, campaign: brand_page_growth,"
        " action: like, tasks: 2}\n": "not student-driven",
        "  - {id: s1, hour: 0, kind: broker_rates, recruiter: microtask_broker, action: like}\n": (
            "needs pay or price"
        ),
        "  - {id: s1, hour: 0, kind: client_order, campaign: nope, recruiter: microtask_broker,"
        " action: like, quantity: 5, deadline_hours: 3}\n": "campaign 'nope'",
        "  - {id: s1, hour: 0, kind: student_moderator, moderator: 50}\n": "moderator number",
    }
    lines = text.count("\n") + 2
    for event, message in cases.items():
        path = tmp_path / "session.yaml"
        path.write_text(text + "events:\n" + event)
        with pytest.raises(ScenarioError, match=message) as err:
            load_scenario(path)
        assert f"session.yaml:{lines}" in str(err.value)
        done = run_cli(capsys, monkeypatch, "validate", path)
        assert done.code == 2 and message in done.stderr + done.stdout


# -- conservation --------------------------------------------------------------------------
ACTIONS = st.lists(
    st.tuples(st.sampled_from(["work", "rates", "judge", "order", "step"]), st.integers(0, 40)),
    min_size=3,
    max_size=12,
)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ACTIONS)
def test_money_is_conserved_whatever_students_do(script):
    s = session("days=0.5")
    w, b = player(s, "w", "worker"), player(s, "b", "broker")
    m, c = player(s, "m", "moderator"), player(s, "c", "client")
    for what, n in script:
        if what == "work":
            for offer in s.view(w).tasks[:1]:
                s.act(w, DoTasks(offer.campaign, offer.action, 1 + n))
        elif what == "rates":
            s.act(b, SetRates("like", pay=n / 1000, price=n / 500))
        elif what == "judge":
            for item in s.view(m).queue[:3]:
                s.act(m, Judge(item.item, "fake" if n % 2 else "genuine"))
        elif what == "order":
            s.act(c, PlaceOrder("follow", 1 + n, deadline_hours=1 + n % 6))
        if s.model.running:
            s.step(1)
    led = s.model.ledger
    for unit, balances in led.balances.items():
        assert int(balances.sum()) == 0, unit  # every transfer has a payer and a payee
    earned = int(led.balances["money"][s.model.worker_accounts[w.agent]])
    assert earned == round(s.view(w).earnings * s.model.scale)
    assert np.all(led.balances["money"][s.model.worker_accounts] >= 0)


def test_the_student_events_example_in_the_docs_loads_and_runs(tmp_path):
    guide = (scenarios_dir().parent / "docs" / "scenarios.md").read_text()
    block = guide.split("**Student-driven agents.**")[1].split("```yaml\n")[1].split("```")[0]
    text = (scenarios_dir() / "baseline_microtask_market.yaml").read_text()
    path = tmp_path / "example.yaml"
    path.write_text(text + block)
    spec = load_scenario(path, ["days=0.25"])
    model = ClassSession(spec).model
    while model.running:
        model.step()
    done = {a.id: a.effect for a in model.timeline.applied}
    assert done["student_1"] == 12 and done["student_3"] == 40
    assert model.workers.tasks_done[17] > 0


def test_a_session_too_long_for_a_scenario_file_still_exports_and_says_so(tmp_path, monkeypatch):
    import sim.scenario.document as document

    s = session()
    w = player(s, "Ada", "worker")
    work_hours(s, w, 3)
    monkeypatch.setattr(document, "MAX_VALUES", 300)  # as if the class had run for hours
    out = s.export(tmp_path / "long", figures=False)
    replay = json.loads((out / "run" / "manifest.json").read_text())["replay"]
    assert replay["loads"] is False and "more than 300 values" in replay["problem"]
    assert (out / "session.yaml").exists() and (out / "actions.csv").exists()
    monkeypatch.undo()
    assert load_scenario(out / "session.yaml").steps == 3  # within the real limits it loads


def test_the_projector_highlights_students_agents_and_ranks_them_when_gamified():
    s = ClassSession(load_scenario("fillon2017_points", ["days=0.5"]), seed=2)
    w = player(s, "Ada", "worker")
    player(s, "Bo", "moderator")
    work_hours(s, w, 3)
    view = s.lecturer_view()
    assert view.role_counts == {"worker": 1, "broker": 0, "moderator": 1, "client": 0}
    ids = {str(a.unique_id) for a in s.model.worker_agents}
    assert view.highlighted["worker"] == [str(s.model.worker_agents[w.agent].unique_id)]
    assert set(view.highlighted["worker"]) <= ids
    assert [p.nickname for p in view.players] == ["Ada", "Bo"]
    top = view.leaderboard[0]
    assert (top.nickname, top.unit) == ("Ada", "points") and top.score == s.view(w).points > 0
    assert view.flows and view.state == "paused"
    s.end()
    assert s.view(w).points == top.score  # final screens stay readable after the end
    assert s.lecturer_view().state == "ended"


def test_the_background_clock_advances_the_run_at_the_pace():
    s = session(pace=600)
    s.resume()
    s.start_clock(interval=0.02)
    try:
        deadline = time.monotonic() + 60
        while s.model.hour < 2 and time.monotonic() < deadline:
            time.sleep(0.01)  # polling a condition, with a generous deadline
        assert s.model.hour >= 2
    finally:
        s.end()
        s.stop_clock()
    assert s.tick() == 0


def test_predictions_are_checked_and_their_spread_sits_beside_the_outcome(tmp_path):
    s = session()
    a, b, c = (s.join(s.join_code, n) for n in ("Ada", "Bo", "Cy"))
    share = s.pose("Share to workers?", kind="share", metric="worker_share_of_spend")
    pick = s.pose("Who keeps most?", kind="choice", choices=["workers", "brokers"])
    assert not s.answer(a, share.id, 1.5).accepted  # a share is between 0 and 1
    assert not s.answer(a, pick.id, "clients").accepted
    for p, value in ((a, 0.2), (b, 0.6), (c, 0.6)):
        assert s.answer(p, share.id, value).accepted
    assert s.answer(a, pick.id, "workers").accepted
    before = s.spread(share.id)
    assert before.count == 3 and before.quantiles[0.5] == 0.6 and before.outcome is None
    s.step(2)
    after = s.spread(share.id)
    assert after.outcome == pytest.approx(s.model.metrics["worker_share_of_spend"])
    assert s.spread(pick.id).choice_counts == {"workers": 1, "brokers": 0}
    with pytest.raises(SessionError, match="unknown metric"):
        s.pose("?", metric="no_such_metric")
    out = s.export(tmp_path / "named", keep_nicknames=True, figures=False)
    rows = list(csv.DictReader((out / "predictions.csv").open()))
    assert {r["player"] for r in rows} == {"Ada", "Bo", "Cy"}  # kept when asked to
