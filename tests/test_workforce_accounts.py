"""Workers whose account is banned carry on from another of their own live accounts."""

import numpy as np

from sim import ClickFarmModel


def test_a_worker_whose_account_is_banned_moves_to_its_first_live_account():
    model = ClickFarmModel("baseline_microtask_market", rng=1)
    wf, acc, w = model.workforce, model.accounts, model.workers
    # workers 0, 1 and 2 get two more accounts each (rows in this order), 3 gets none
    extra = acc.add(np.array([0, 1, 2, 0, 1, 2]), np.full(6, 0.5))
    first = w.active_account[:4].copy()  # each starts on its one original account
    before_others = w.active_account[4:].copy()
    # 0 loses its active account; 1 loses it and its next one; 2 and 3 lose all they have
    acc.banned[first] = True
    acc.banned[extra[[1, 2, 5]]] = True  # 1's first extra, 2's both extras

    wf.leave_banned_accounts()

    assert w.active_account[0] == extra[0]  # its first live account, not the later one
    assert w.active_account[1] == extra[4]  # skips its banned first extra
    assert w.active_account[2] == -1  # nothing left
    assert w.active_account[3] == -1
    assert np.array_equal(w.active_account[4:], before_others)  # nobody else moves
