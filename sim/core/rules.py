"""Market, pay, motivation and detection rules as small pure functions.

Each takes plain numbers or numpy arrays and returns new values, so it can be tested
against a hand computation and applied to every worker at once. The model's step
(``sim/core/model.py``) only wires these together. Equations are listed in docs/ODD.md
("Submodels"), with the same names.
"""

from __future__ import annotations

import numpy as np

HOURS_PER_QUARTER = 365 * 24 // 4  # 2,190: an integer so revenue accrues exactly
FIRST_COME_PREFIX = 64  # arrivals first_come sums before it sums them all


# -- prices and pay -----------------------------------------------------------------
def affordable_quantities(
    targets: np.ndarray, prices: np.ndarray, budget: int | None
) -> np.ndarray:
    """Quantities a client can buy: the targets, scaled down pro rata to fit the budget.

    Integer arithmetic throughout: the returned cost never exceeds the budget.
    """
    targets = np.asarray(targets, dtype=np.int64)
    prices = np.asarray(prices, dtype=np.int64)
    full_cost = int(targets @ prices)
    if budget is None or full_cost <= budget:
        return targets.copy()
    quantities = targets * budget // full_cost
    # Pro-rata flooring can only under-spend; assert the invariant we rely on.
    assert int(quantities @ prices) <= budget
    return quantities


def pay_for_counts(counts: np.ndarray, rate_card: np.ndarray) -> np.ndarray:
    """Exact integer pay: per-row action counts (n x K) times per-action rates (K)."""
    return np.asarray(counts, dtype=np.int64) @ np.asarray(rate_card, dtype=np.int64)


def points_for_counts(counts: np.ndarray, points_card: np.ndarray, urgency: int) -> np.ndarray:
    """Points earned: the points rate card times the urgency multiplier (1, 2 or 3)."""
    return pay_for_counts(counts, points_card) * int(urgency)


# -- time and search ------------------------------------------------------------------
def search_multiplier(fill_rate: float, floor: float = 0.05) -> float:
    """How much longer finding a task takes when tasks are scarce.

    ``fill_rate`` is the share of workers' capacity that found tasks last hour; when only
    a tenth of the capacity found work, each task took ten times longer to find.
    """
    return 1.0 / max(float(fill_rate), floor)


def tasks_per_session(
    session_minutes: float | np.ndarray,
    task_minutes: float | np.ndarray,
    speed: np.ndarray,
    search_minutes: np.ndarray,
) -> np.ndarray:
    """Tasks a worker can do in a working session, counting the (unpaid) time to find each."""
    return np.asarray(session_minutes) / (np.asarray(task_minutes) / speed + search_minutes)


# -- motivation ---------------------------------------------------------------------
# Relative chance of being online by local hour (assumption): people sleep from about
# 1am to 7am and are most available in the evening.
DIURNAL_BY_HOUR = np.array(
    [
        0.45,
        0.25,
        0.15,
        0.10,
        0.10,
        0.12,
        0.20,
        0.35,
        0.50,
        0.60,
        0.65,
        0.70,
        0.75,
        0.70,
        0.65,
        0.65,
        0.70,
        0.75,
        0.85,
        0.95,
        1.00,
        0.95,
        0.80,
        0.60,
    ]
)


def diurnal_factor(local_hour: np.ndarray) -> np.ndarray:
    """Relative chance of being online at a local hour: 0.10 at 3-4am, 1.0 at 8pm."""
    return DIURNAL_BY_HOUR[np.asarray(local_hour, dtype=np.int64) % 24]


def online_probability(
    activity: np.ndarray, diurnal: np.ndarray, fatigue: np.ndarray
) -> np.ndarray:
    """Chance of being online this hour: activity x diurnal factor x (1 - fatigue), in [0, 1]."""
    return np.clip(activity * diurnal * (1.0 - fatigue), 0.0, 1.0)


def hourly_value(
    money_rate: np.ndarray,
    points_rate: np.ndarray,
    w_money: np.ndarray,
    w_points: np.ndarray,
    w_conviction: np.ndarray,
    point_value: np.ndarray,
    status_multiplier: np.ndarray,
    conviction_value: np.ndarray,
    cause_multiplier: float | np.ndarray = 1.0,
) -> np.ndarray:
    """What an hour of tasks is worth to a worker, in money-equivalent per hour.

    value = w_money * money/h + w_points * points/h * point_value * status
            + w_conviction * conviction_value * cause
    ``status`` (badges, leaderboard) and ``cause`` (closeness of a collective objective)
    are the gamification levers; both are >= 1.
    """
    return (
        w_money * money_rate
        + w_points * points_rate * point_value * status_multiplier
        + w_conviction * conviction_value * cause_multiplier
    )


def decides_to_work(value: np.ndarray, reservation_wage: np.ndarray) -> np.ndarray:
    """A worker works this hour when the hour is worth at least their reservation wage."""
    return value >= reservation_wage


def badge_proximity(points: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """0..1: how close each worker is to the next badge (1 = about to earn it).

    Progress is measured from the previous badge (or 0) to the next; past the last badge
    there is nothing left to chase and proximity is 0.
    """
    points = np.asarray(points, dtype=np.float64)
    thresholds = np.sort(np.asarray(thresholds, dtype=np.float64))
    if thresholds.size == 0:
        return np.zeros_like(points)
    nxt = np.searchsorted(thresholds, points, side="right")
    has_next = nxt < thresholds.size
    upper = thresholds[np.minimum(nxt, thresholds.size - 1)]
    lower = np.where(nxt > 0, thresholds[np.maximum(nxt - 1, 0)], 0.0)
    progress = (points - lower) / np.maximum(upper - lower, 1e-12)
    return np.where(has_next, np.clip(progress, 0.0, 1.0), 0.0)


def status_multiplier(
    proximity: np.ndarray,
    on_leaderboard: np.ndarray,
    badge_gradient: float,
    leaderboard_bonus: float,
) -> np.ndarray:
    """1 + goal-gradient pull of the next badge + the status of being on the leaderboard."""
    return 1.0 + badge_gradient * proximity + leaderboard_bonus * on_leaderboard


def objective_multiplier(progress: float, gradient: float) -> float:
    """1 + gradient * progress: supporters push harder as a collective goal nears."""
    return 1.0 + gradient * min(max(progress, 0.0), 1.0)


def update_fatigue(
    fatigue: np.ndarray, hours_worked: np.ndarray, per_hour: np.ndarray, recovery: np.ndarray
) -> np.ndarray:
    """Fatigue rises with each hour worked and decays while resting; stays in [0, 1]."""
    resting = hours_worked <= 0
    new = np.where(resting, fatigue * (1.0 - recovery), fatigue + per_hour * hours_worked)
    return np.clip(new, 0.0, 1.0)


# -- detection ----------------------------------------------------------------------
def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function 1 / (1 + e^-x), elementwise."""
    return 1.0 / (1.0 + np.exp(-x))


def burstiness(delivered_this_hour: float, organic_per_hour: float) -> float:
    """Share of this hour's engagement on a target that did not come from its usual audience."""
    total = delivered_this_hour + organic_per_hour
    return 0.0 if total <= 0 else delivered_this_hour / total


def centralisation(deliveries_by_source: np.ndarray) -> float:
    """Herfindahl index of where an order's actions came from (1 = one source)."""
    x = np.asarray(deliveries_by_source, dtype=np.float64)
    total = x.sum()
    return 0.0 if total <= 0 else float(((x / total) ** 2).sum())


def young_account_signal(age_days: np.ndarray, scale_days: float) -> np.ndarray:
    """The young-account signal: exp(-age / scale), 1 for a new account, towards 0 as it ages."""
    return np.exp(-np.asarray(age_days) / scale_days)


def multiple_accounts_signal(accounts_alive: np.ndarray) -> np.ndarray:
    """0 for one account per person, approaching 1 for many."""
    n = np.maximum(np.asarray(accounts_alive, dtype=np.float64), 1.0)
    return 1.0 - 1.0 / n


def flag_probability(
    bias: float, weights: dict[str, float], signals: dict[str, np.ndarray]
) -> np.ndarray:
    """Logistic detector: P(flag) = sigmoid(bias + sum_k weight_k * signal_k)."""
    score = bias
    for name, signal in signals.items():
        score = score + weights[name] * signal
    return sigmoid(np.asarray(score, dtype=np.float64))


def review_capacity(moderators: int, reviews_per_hour: float) -> int:
    """Actions the moderators can review in an hour (rounded down to a whole number)."""
    return int(moderators * reviews_per_hour)


# -- inequality ---------------------------------------------------------------------
def gini(values: np.ndarray, presorted: bool = False) -> float:
    """Gini coefficient of non-negative values (0 = equal, ->1 = one does everything).

    ``presorted``: the values are already in ascending order (saves a sort).
    """
    x = np.asarray(values, dtype=np.float64)
    x = x if presorted else np.sort(x)
    n = x.size
    total = x.sum()
    if n == 0 or total <= 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float((2 * (ranks * x).sum()) / (n * total) - (n + 1) / n)


def top_share(values: np.ndarray, fraction: float, presorted: bool = False) -> float:
    """Share of the total held by the top ``fraction`` of individuals.

    ``presorted``: the values are already in ascending order (saves a sort).
    """
    x = np.asarray(values, dtype=np.float64)
    x = (x if presorted else np.sort(x))[::-1]
    total = x.sum()
    if x.size == 0 or total <= 0:
        return 0.0
    k = max(1, int(np.ceil(fraction * x.size)))
    return float(x[:k].sum() / total)


# -- the market ---------------------------------------------------------------------
def value_per_hour(
    money_per_task: np.ndarray,
    points_per_task: np.ndarray,
    task_minutes: np.ndarray,
    search_minutes: np.ndarray,
    speed: np.ndarray,
    money_weight: np.ndarray,
    point_worth: np.ndarray,
    conviction_per_hour: np.ndarray,
    cause: np.ndarray,
) -> np.ndarray:
    """What an hour spent on one pool of tasks is worth to a worker (money-equivalent).

    value = 60 x (w_money x pay + point_worth x points) / (minutes/speed + search)
            + conviction_per_hour x cause
    Rows are workers, columns pools (broadcasting); search time is unpaid, so a task that
    is slow to find is worth less per hour. ``point_worth`` already holds
    w_points x point value x status.
    """
    per_task = money_weight * money_per_task + point_worth * points_per_task
    minutes = task_minutes / speed + search_minutes
    return 60.0 * per_task / np.maximum(minutes, 1e-9) + conviction_per_hour * cause


def urgency_cause(objective_multiplier_: float, urgency: int, urgency_pull: float) -> float:
    """Pull of a task on a convinced worker: objectives near completion and urgent calls."""
    return objective_multiplier_ * (1.0 + urgency_pull * (int(urgency) - 1))


def largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Split an integer ``total`` in proportion to ``weights``, exactly (sums to total)."""
    weights = np.asarray(weights, dtype=np.float64)
    out = np.zeros(weights.size, dtype=np.int64)
    if total <= 0 or weights.size == 0 or weights.sum() <= 0:
        return out
    exact = total * weights / weights.sum()
    out = np.floor(exact).astype(np.int64)
    short = int(total - out.sum())
    out[np.argsort(-(exact - out), kind="stable")[:short]] += 1
    return out


def survival_estimate(delivered: float, removed: float, prior: float, prior_weight: float) -> float:
    """Share of delivered actions expected to survive moderation, learned from removals.

    A Beta-style average: ``(delivered - removed + prior x weight) / (delivered + weight)``,
    so a recruiter with no history is judged by the prior.
    """
    return (delivered - removed + prior * prior_weight) / (delivered + prior_weight)


def cost_plus_price(cost: np.ndarray, markup: float, survival: float) -> np.ndarray:
    """Price per action sold: expected cost per surviving action plus the markup.

    ``survival`` is 1 when removals are the client's problem; with a refill guarantee each
    action sold costs ``1 / survival`` deliveries. Rounded up, so it always covers cost.
    """
    cost = np.asarray(cost, dtype=np.int64)
    exact = cost * (1.0 + markup) / max(survival, 0.05)
    return np.ceil(exact - 1e-9).astype(np.int64)


def adjust_pay(
    pay: np.ndarray,
    unfilled: bool,
    filled_fast: bool,
    step: float,
    floor: np.ndarray,
    cap: np.ndarray,
) -> np.ndarray:
    """Adaptive posted pay: up a step when tasks went unfilled, down when they filled fast.

    Kept within ``[floor, cap]`` (integers); a pay of 0 stays 0 (points-only tasks).
    """
    pay = np.asarray(pay, dtype=np.int64)
    if unfilled:
        new = np.maximum(np.ceil(pay * (1.0 + step) - 1e-9), pay + 1)
    elif filled_fast:
        new = np.minimum(np.floor(pay * (1.0 - step) + 1e-9), pay - 1)
    else:
        return pay.copy()
    new = np.clip(new, floor, cap).astype(np.int64)
    return np.where(pay > 0, new, 0)


def blend_price(own: np.ndarray, competitors: np.ndarray, weight: float) -> np.ndarray:
    """Adaptive price: own cost-plus price moved toward competitors' mean price.

    Where no competitor quotes an action (``competitors`` = 0) the own price stands.
    """
    own = np.asarray(own, dtype=np.int64)
    comp = np.asarray(competitors, dtype=np.float64)
    blended = np.where(comp > 0, (1.0 - weight) * own + weight * comp, own)
    return np.rint(blended).astype(np.int64)


def client_shares(cost_per_surviving: np.ndarray, sensitivity: float) -> np.ndarray:
    """Shares of a placement given to each recruiter (a logit on relative cost).

    share_r ∝ exp(-sensitivity x (c_r / min c - 1)); recruiters that cannot serve
    (cost inf) get 0. Equal costs split evenly; sensitivity 0 ignores cost.
    """
    c = np.asarray(cost_per_surviving, dtype=np.float64)
    ok = np.isfinite(c)
    out = np.zeros(c.size)
    if not ok.any():
        return out
    best = c[ok].min()
    if best <= 0:
        out[ok & (c <= 0)] = 1.0
    else:
        out[ok] = np.exp(-sensitivity * (c[ok] / best - 1.0))
    return out / out.sum()


def relay_probability(
    base: np.ndarray, pay_ratio: np.ndarray, elasticity: np.ndarray
) -> np.ndarray:
    """An influencer's chance to relay this hour: base x (pay ratio ^ elasticity), <= 1."""
    ratio = np.maximum(np.asarray(pay_ratio, dtype=np.float64), 0.0)
    return np.clip(np.asarray(base) * ratio ** np.asarray(elasticity), 0.0, 1.0)


def first_come(wanted: np.ndarray, available: int, arrival: np.ndarray) -> np.ndarray:
    """Tasks each worker gets when together they want more than there is.

    In order of arrival, each takes what they want until the pool runs dry (the last gets
    what is left).

    Args:
        wanted: Tasks each worker wants (non-negative).
        available: Tasks in the pool.
        arrival: Every worker's index (into ``wanted``) once, in the order they arrive.

    Returns:
        Tasks each worker gets, indexed like ``wanted``.
    """
    wanted = np.asarray(wanted, dtype=np.int64)
    arrival = np.asarray(arrival)
    in_order = wanted.take(arrival)
    # tasks wanted by each arrival and those before it; a pool usually runs dry within the
    # first few arrivals, so only they are summed unless they do not empty it
    reached = np.cumsum(in_order[:FIRST_COME_PREFIX])
    if in_order.size > FIRST_COME_PREFIX and int(reached[-1]) <= available:
        reached = np.cumsum(in_order)
    cut = int(np.searchsorted(reached, available, side="right"))  # the first not served in full
    out = np.zeros(wanted.size, dtype=np.int64)
    out[arrival[:cut]] = in_order[:cut]
    if cut < arrival.size:
        out[arrival[cut]] = max(available - (int(reached[cut]) - int(in_order[cut])), 0)
    return out


# -- the platform's moderation policy ------------------------------------------------
def moderators_for(flagged: int, review_share: float, reviews_per_moderator: float) -> int:
    """Moderators needed to review ``review_share`` of what was flagged in a period."""
    if reviews_per_moderator <= 0:
        return 0
    return int(np.ceil(flagged * review_share / reviews_per_moderator - 1e-9))


def revenue_policy(
    needed: int,
    accuracy: float,
    cost_per_fake: float,
    revenue_per_action: float,
    wage: float,
    reviews_per_hour: float,
) -> int:
    """Moderators that pay for themselves.

    A review removes ``accuracy`` fake actions, each saving its reputational cost but
    losing the ad revenue it brings; a moderator costs its wage per ``reviews_per_hour``
    reviews. All or nothing: ``needed`` when a review is worth more than it costs, else
    none. Amounts in ledger units.
    """
    value_of_review = accuracy * (cost_per_fake - revenue_per_action)
    cost_of_review = wage / reviews_per_hour if reviews_per_hour > 0 else np.inf
    return needed if value_of_review > cost_of_review else 0


# -- detector retraining -------------------------------------------------------------
def logistic_gradient_sum(
    bias: float,
    weights: np.ndarray,
    features: np.ndarray,
    reviewed: np.ndarray,
    removed: np.ndarray,
) -> np.ndarray:
    """Σ (removed − reviewed·p)·x over a block of reviewed groups, p = sigmoid(bias + x·w).

    The log-likelihood's gradient adds up over blocks, so the verdicts of many hours can be
    summed one hour at a time (:func:`logistic_step_from_sum`) without ever holding them
    all in one double-precision array.
    """
    x = np.asarray(features, dtype=np.float64)
    p = sigmoid(bias + x @ np.asarray(weights, dtype=np.float64))
    residual = np.asarray(removed, dtype=np.float64) - np.asarray(reviewed) * p
    return x.T @ residual


def logistic_step_from_sum(
    weights: np.ndarray,
    gradient_sum: np.ndarray,
    reviewed_total: float,
    learning_rate: float,
    max_step: float,
    bound: float = 20.0,
) -> np.ndarray:
    """The bounded step of :func:`logistic_step`, given the summed gradient and count."""
    weights = np.asarray(weights, dtype=np.float64)
    if reviewed_total <= 0:
        return weights.copy()
    step = np.clip(learning_rate * gradient_sum / reviewed_total, -max_step, max_step)
    return np.clip(weights + step, -bound, bound)


def logistic_step(
    bias: float,
    weights: np.ndarray,
    features: np.ndarray,
    reviewed: np.ndarray,
    removed: np.ndarray,
    learning_rate: float,
    max_step: float,
    bound: float = 20.0,
) -> np.ndarray:
    """One bounded gradient step of logistic regression on moderators' verdicts.

    Each row of ``features`` is a group of ``reviewed`` reviewed actions with the same
    signals, ``removed`` of which the moderators removed. With p = sigmoid(bias + x·w),
    the gradient of the mean log-likelihood is Σ (removed − reviewed·p)·x / Σ reviewed;
    each weight moves by ``learning_rate`` times it, at most ``max_step``, and stays within
    ±``bound``. The bias is left alone (it is the platform's flagging threshold).

    Returns:
        The new weights (the old ones if nothing was reviewed).
    """
    n = float(np.sum(reviewed))
    if n <= 0:
        return np.asarray(weights, dtype=np.float64).copy()
    total = logistic_gradient_sum(bias, weights, features, reviewed, removed)
    return logistic_step_from_sum(weights, total, n, learning_rate, max_step, bound)


# -- worker turnover and learning (docs/ODD.md 7.27) ------------------------------------
def memory_decay(half_life_hours: float) -> float:
    """Hourly factor that halves a remembered hour's weight after ``half_life_hours``."""
    return float(0.5 ** (1.0 / half_life_hours))


def update_memory(
    earned: np.ndarray,
    hours: np.ndarray,
    earned_now: np.ndarray,
    hours_now: np.ndarray,
    decay: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Exponential memory of earnings and of the hours offered to earn them.

    Both sums fade by ``decay`` each hour before this hour's figures are added, so their
    ratio (:func:`remembered_rate`) weighs an hour ``decay ** age`` times.

    Returns:
        The new remembered earnings and remembered hours.
    """
    return decay * earned + earned_now, decay * hours + hours_now


def remembered_rate(earned: np.ndarray, hours: np.ndarray) -> np.ndarray:
    """Remembered earnings per hour offered (0 where nothing is remembered)."""
    return np.divide(earned, hours, out=np.zeros(np.shape(earned)), where=hours > 0)


def entry_probability(
    expected: float | np.ndarray,
    outside: np.ndarray,
    max_rate: float | np.ndarray,
    sensitivity: float | np.ndarray,
) -> np.ndarray:
    """Daily chance that a person outside joins: 0 unless expected earnings beat theirs.

    ``max_rate x (1 - exp(-sensitivity x (expected / outside - 1)))`` when ``expected``
    exceeds ``outside``, else 0; a person with no outside option (0) joins at ``max_rate``
    as soon as anything is expected.
    """
    expected = np.asarray(expected, dtype=np.float64)
    outside = np.asarray(outside, dtype=np.float64)
    safe = np.where(outside > 0, outside, 1.0)
    gain = np.where(outside > 0, expected / safe - 1.0, np.where(expected > 0, np.inf, 0.0))
    return max_rate * (1.0 - np.exp(-sensitivity * np.maximum(gain, 0.0)))


def low_earnings_streak(
    streak: np.ndarray, remembered: np.ndarray, outside: np.ndarray
) -> np.ndarray:
    """Days in a row with remembered earnings below the outside option (reset otherwise)."""
    return np.where(remembered < outside, streak + 1, 0)


def leaves(streak: np.ndarray, patience_days: int) -> np.ndarray:
    """Whether a worker leaves: its low-earnings streak has lasted ``patience_days``."""
    return streak >= patience_days


def learned_speed(
    base_speed: np.ndarray, tasks_done: np.ndarray, max_speedup: float, tasks_to_learn: float
) -> np.ndarray:
    """Speed after experience: ``base x (1 + max_speedup x (1 - exp(-tasks / scale)))``."""
    gain = 1.0 - np.exp(-np.asarray(tasks_done, dtype=np.float64) / tasks_to_learn)
    return base_speed * (1.0 + max_speedup * gain)


TIER_VERY_ACTIVE_HOURS = 5.0  # hours online in the last 7 days (assumption: docs/calibration.md)
TIER_REGULAR_HOURS = 1.0
TIERS = ("very_active", "regular", "occasional")


def activity_tier(hours_last_week: np.ndarray) -> np.ndarray:
    """Tier by hours online in the last 7 days: 0 very active, 1 regular, 2 occasional.

    Occasional is under ``TIER_REGULAR_HOURS``, no hours at all included.
    """
    h = np.asarray(hours_last_week, dtype=np.float64)
    return np.where(h >= TIER_VERY_ACTIVE_HOURS, 0, np.where(h >= TIER_REGULAR_HOURS, 1, 2))


# -- cascades on the follower network --------------------------------------------------
def hop_relay_probability(base: np.ndarray, decay: np.ndarray, hop: int) -> np.ndarray:
    """Chance that a follower reached at ``hop`` passes the call to one follower of theirs.

    ``base x decay ** hop``, within [0, 1]: the influencer's own community is hop 0, so
    its members pass the call on with the base chance and each hop further multiplies it
    by ``decay``.
    """
    return np.clip(np.asarray(base, dtype=np.float64) * np.asarray(decay) ** hop, 0.0, 1.0)


# -- the account market -----------------------------------------------------------------
def account_price(
    base: float,
    age_hours: np.ndarray,
    trust: np.ndarray,
    mature_hours: float,
    age_premium: float,
    trust_premium: float,
    scarcity: float,
) -> np.ndarray:
    """Price of accounts in ledger units: older and more trusted accounts cost more.

    price = round(base x (1 + age_premium x min(age / mature, 1)) x (1 + trust_premium x
    trust) x scarcity). The age premium grows linearly until ``mature_hours`` and then
    stays, so a price is never above base x (1 + age_premium) x (1 + trust_premium) x
    scarcity.

    Args:
        base: Price of a new account of trust 0 at scarcity 1 (ledger units).
        age_hours: Each account's age.
        trust: Each account's trust (0-1).
        mature_hours: Age at which the age premium is complete.
        age_premium: Extra price of a mature account, as a multiple of a new one's.
        trust_premium: Extra price per unit of trust, as a multiple.
        scarcity: The market's scarcity level (at least 1).

    Returns:
        Integer prices, one per account.
    """
    maturity = np.minimum(np.asarray(age_hours, dtype=np.float64) / mature_hours, 1.0)
    raw = (
        base
        * (1.0 + age_premium * np.maximum(maturity, 0.0))
        * (1.0 + trust_premium * np.asarray(trust, dtype=np.float64))
        * scarcity
    )
    return np.rint(raw).astype(np.int64)


def scarcity_update(level: float, wanted: float, offered: float, step: float, cap: float) -> float:
    """The account market's scarcity level after an hour: a bounded tatonnement.

    Up by ``step`` (relative) when buyers want more accounts than are offered (the model
    passes the demand of ``cover_hours`` against the stock), down by ``step`` when they
    want fewer, unchanged when equal; always within [1, cap].
    """
    if wanted > offered:
        level *= 1.0 + step
    elif wanted < offered:
        level *= 1.0 - step
    return float(min(max(level, 1.0), cap))
