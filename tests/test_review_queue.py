"""The review queue and the moderation phase's helpers, against hand computations."""

import numpy as np

from sim.core.moderation import ReviewQueue, _totals_by_key


def _queue(hours_and_counts):
    q = ReviewQueue()
    for hour, counts in hours_and_counts:
        n = len(counts)
        rows = np.arange(q.count.size, q.count.size + n)
        q.push(hour, [(rows, rows + 100, np.zeros(n, dtype=np.int64), np.array(counts))])
    return q


def test_reviews_go_oldest_first_and_old_entries_lapse():
    q = _queue([(0, [4, 1]), (1, [3, 5]), (2, [2])])
    # at hour 2 with a 2-hour window the hour-0 entries lapse; 6 reviews: 3, then 3 of 5
    worker, account, _pool, reviewed = q.take(6, now=2, window=2)
    assert worker.tolist() == [2, 3] and account.tolist() == [102, 103]
    assert reviewed.tolist() == [3, 3]
    assert q.worker.tolist() == [3, 4] and q.count.tolist() == [2, 2]
    assert q.hour.tolist() == [1, 2] and q.size == 4


def test_no_capacity_reviews_nothing_and_drops_emptied_entries():
    q = _queue([(0, [4, 1, 3])])
    q.count[1] = 0  # a student's moderator reviewed it in place
    worker, _account, _pool, reviewed = q.take(0, now=0, window=24)
    assert worker.size == 0 and reviewed.size == 0
    assert q.worker.tolist() == [0, 2] and q.count.tolist() == [4, 3]


def test_totals_by_key_sum_each_distinct_key_in_ascending_order():
    keys, totals = _totals_by_key(np.array([7, 3, 7, 9, 3]), np.array([1, 2, 3, 4, 5]))
    assert keys.tolist() == [3, 7, 9] and totals.tolist() == [7, 4, 4]
    keys, totals = _totals_by_key(np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int64))
    assert keys.size == 0 and totals.size == 0
