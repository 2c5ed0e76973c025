"""Genuine users (false positives) and detector retraining: rules, directions, bookkeeping."""

import numpy as np
import pandas as pd
import pytest

from sim.core import rules
from sim.core.retraining import SIGNALS, LabelledQueue
from sim.run.outputs import run_scenario
from sim.scenario.errors import ScenarioError
from sim.scenario.load import load_scenario

from .conftest import ROOT
from .inprocess import run_cli

ARMS = "purge_arms_race"
NO_RETRAINING = ["platform.detection.retraining=null"]
NO_GENUINE = ["platform.genuine_users=null"]
FIXED = ["platform.moderation.policy=fixed"]


def _last(result, column):
    return result.timeseries[column].iloc[-1]


def test_logistic_step_against_hand_computation():
    w = np.zeros(2)
    # bias 0, weights 0: p = 1/2 for every row
    # row 1: x = (1, 0), 2 reviewed, 2 removed -> residual 2 - 2 x 0.5 = 1
    # row 2: x = (0, 1), 2 reviewed, 0 removed -> residual 0 - 1 = -1
    # gradient = ((1, 0) x 1 + (0, 1) x -1) / 4 reviewed = (0.25, -0.25)
    x = np.array([[1.0, 0.0], [0.0, 1.0]])
    new = rules.logistic_step(0.0, w, x, np.array([2, 2]), np.array([2, 0]), 1.0, 5.0)
    assert new == pytest.approx([0.25, -0.25])
    # learning rate 4 would move them by 1; max_step 0.5 holds them to 0.5
    new = rules.logistic_step(0.0, w, x, np.array([2, 2]), np.array([2, 0]), 4.0, 0.5)
    assert new == pytest.approx([0.5, -0.5])
    # removals exactly as predicted: nothing to learn; nothing reviewed: unchanged
    same = rules.logistic_step(0.0, w, x, np.array([2, 2]), np.array([1, 1]), 1.0, 5.0)
    assert same == pytest.approx([0.0, 0.0])
    nothing = rules.logistic_step(0.0, w, x[:0], np.zeros(0), np.zeros(0), 1.0, 5.0)
    assert nothing.tolist() == [0.0, 0.0]
    # weights stay within the schema's bounds
    # (bias -30: p ~ 0, so the step would be 100 x 2 / 4, held to 20, leaving 39.9)
    high = rules.logistic_step(
        -30.0, np.array([19.9, 0]), x, np.array([2, 2]), np.array([2, 2]), 100.0, 20.0
    )
    assert high[0] == 20.0
    # the gradient adds up over blocks: the two rows summed one at a time give the same step
    parts = sum(
        rules.logistic_gradient_sum(0.0, w, x[i : i + 1], np.array([2]), np.array([r]))
        for i, r in enumerate((2, 0))
    )
    assert parts == pytest.approx([1.0, -1.0])
    assert rules.logistic_step_from_sum(w, parts, 4, 1.0, 5.0) == pytest.approx([0.25, -0.25])


def test_the_labelled_queue_reports_the_kind_of_what_it_reviews():
    q = LabelledQueue()
    fake = {k: np.array([0.5, 0.5]) for k in SIGNALS}
    real = {k: 0.0 for k in SIGNALS}
    q.stage(fake, np.array([True, True]), genuine=False)
    q.stage(real, np.array([True]), genuine=True)
    one = np.array([1])
    q.push(
        0,
        [
            (np.array([3, 4]), np.array([3, 4]), np.array([0, 0]), np.array([5, 5])),
            (-one, np.array([7]), -one, np.array([4])),
        ],
    )
    # capacity 8: all of the first entry and 3 of the second; the genuine one waits
    _, accounts, _, reviewed = q.take(8, 0, 24)
    assert accounts.tolist() == [3, 4] and reviewed.tolist() == [5, 3]
    assert q.taken_genuine.tolist() == [False, False]
    assert q.taken_features[:, 0].tolist() == [0.5, 0.5]
    _, accounts, _, reviewed = q.take(10, 1, 24)
    assert accounts.tolist() == [4, 7] and reviewed.tolist() == [2, 4]
    assert q.taken_genuine.tolist() == [False, True]
    assert q.size == 0


def test_more_moderation_or_a_stricter_detector_removes_more_genuine_actions():
    # a careless review (20 % of genuine items removed) keeps the counts well above noise
    base = FIXED + NO_RETRAINING + ["platform.moderation.false_positive_rate=0.2"]
    few = run_scenario(ARMS, days=3, overrides=base + ["platform.moderation.moderators=5"])
    many = run_scenario(ARMS, days=3, overrides=base + ["platform.moderation.moderators=60"])
    strict = run_scenario(
        ARMS,
        days=3,
        overrides=base + ["platform.moderation.moderators=5", "platform.detection.bias=-5"],
    )
    assert _last(few, "total_genuine_actions") > 10_000
    assert _last(many, "total_genuine_removed") > 2 * _last(few, "total_genuine_removed") > 0
    assert _last(strict, "total_genuine_removed") > _last(few, "total_genuine_removed")
    # the platform loses the ad revenue of the genuine engagement it removes
    assert _last(many, "genuine_revenue_lost") > _last(few, "genuine_revenue_lost") > 0


def test_a_higher_false_positive_rate_bans_more_genuine_accounts():
    # a purge on day 2 bans the genuine accounts whose trust wrong removals have halved
    base = NO_RETRAINING + ["events.purge.hour=48", "platform.detection.strikes_to_ban=3"]
    careful = run_scenario(
        ARMS, days=3, overrides=base + ["platform.moderation.false_positive_rate=0.01"]
    )
    careless = run_scenario(
        ARMS, days=3, overrides=base + ["platform.moderation.false_positive_rate=0.3"]
    )
    assert _last(careless, "total_genuine_banned") > 2 * _last(careful, "total_genuine_banned")
    assert _last(careless, "share_genuine_accounts_banned") > 0
    assert careless.timeseries["genuine_accounts_purged"].sum() > 0


def test_retraining_lowers_the_survival_of_a_persistent_tactic_after_the_lag_not_before():
    # no tactics (the farms keep doing what they do), no events, no genuine users
    rigid = NO_GENUINE + [
        "recruiters.like_farm.tactics.repertoire=[]",
        "recruiters.click_network.tactics.repertoire=[]",
        "events=[]",
    ]
    learning = "platform.detection.retraining={every_hours: 24, window_hours: 24, lag_hours: 48}"
    fixed = run_scenario(ARMS, days=5, overrides=rigid + NO_RETRAINING)
    learnt = run_scenario(ARMS, days=5, overrides=rigid + [learning])
    # the first reviews it may use are 48 h old at the refit that ends hour 71
    first_change = learnt.detector[
        learnt.detector.drop(columns="hour").diff().abs().sum(axis=1) > 0
    ]
    assert first_change["hour"].iloc[0] == 72
    before = fixed.timeseries["hour"] <= 72
    pd.testing.assert_frame_equal(fixed.timeseries[before], learnt.timeseries[before])
    after = fixed.timeseries["hour"] > 72

    def removed_share(result):
        part = result.timeseries[after]
        return part["actions_removed"].sum() / part["actions_delivered"].sum()

    assert removed_share(learnt) > removed_share(fixed) + 0.02


def test_genuine_engagement_keeps_the_ledger_balanced_and_earns_the_platform():
    both = run_scenario(ARMS, days=2)
    without = run_scenario(ARMS, days=2, overrides=NO_GENUINE)
    assert both.summary["ledger_balanced"]
    earned = both.timeseries["ad_revenue_from_engagement"].sum()
    assert earned > without.timeseries["ad_revenue_from_engagement"].sum()
    assert both.summary["false_positives"]["total_genuine_actions"] > 0


def test_same_seed_same_false_positives_and_detector():
    a = run_scenario(ARMS, days=4, overrides=["platform.detection.retraining.lag_hours=0"])
    b = run_scenario(ARMS, days=4, overrides=["platform.detection.retraining.lag_hours=0"])
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)
    pd.testing.assert_frame_equal(a.detector, b.detector)
    assert a.summary == b.summary
    assert a.summary["detector"]["refits"] == 4


@pytest.mark.parametrize(
    ("override", "field", "expected"),
    [
        ("platform.genuine_users.accounts=0", "platform.genuine_users.accounts", ">= 1"),
        ("platform.moderation.false_positive_rate=1.5", "false_positive_rate", "<= 1"),
        ("platform.detection.retraining.every_hours=0", "retraining.every_hours", ">= 1"),
        ("platform.genuine_users.size=3", "platform.genuine_users.size", "unknown field"),
    ],
)
def test_a_bad_genuine_or_retraining_field_names_its_field(override, field, expected):
    with pytest.raises(ScenarioError) as err:
        load_scenario(ARMS, [override])
    assert field in str(err.value) and expected in str(err.value)


def test_a_bad_field_in_a_file_gives_file_line_and_exit_code_2(tmp_path, capsys, monkeypatch):
    text = (ROOT / "scenarios" / f"{ARMS}.yaml").read_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("learning_rate: 1.0", "learning_rate: -1"))
    line = next(i for i, t in enumerate(bad.read_text().splitlines(), 1) if "learning_rate" in t)
    out = run_cli(capsys, monkeypatch, "validate", bad)
    assert out.code == 2
    assert f"bad.yaml:{line}" in out.stderr and "retraining.learning_rate" in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_detector_csv_is_written_only_when_the_detector_retrains(tmp_path):
    from sim.run.outputs import write_results

    learnt = write_results(run_scenario(ARMS, days=2), tmp_path / "on", figures=False)
    rows = pd.read_csv(learnt / "detector.csv")
    assert len(rows) == 48 and rows["hour"].tolist() == list(range(1, 49))
    assert rows["burstiness"].iloc[-1] > rows["burstiness"].iloc[0]  # the day-2 refit
    fixed = run_scenario(ARMS, days=2, overrides=NO_RETRAINING)
    assert not (write_results(fixed, tmp_path / "off", figures=False) / "detector.csv").exists()
