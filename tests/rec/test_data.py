"""The trainer's tensors: left padding, the leave-one-out split and its training prefixes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sracl_core.rec.data import leave_one_out, left_pad


def test_left_pad_keeps_the_newest_items_on_the_right() -> None:
    padded = left_pad([[1, 2, 3, 4, 5], [7], []], max_len=3)
    np.testing.assert_array_equal(padded, [[3, 4, 5], [0, 0, 7], [0, 0, 0]])


def test_the_last_item_is_test_the_one_before_is_validation_and_prefixes_cover_the_rest():
    data = leave_one_out({2: [4, 5, 6, 7, 8], 1: [1, 2], 3: [9, 1, 2]}, n_items=9, max_len=3)
    # user 1 has two items and is left out; users come in id order
    assert data.valid.users.tolist() == [2, 3] and data.test.users.tolist() == [2, 3]
    assert data.valid.targets.tolist() == [7, 1] and data.test.targets.tolist() == [8, 2]
    assert data.test.inputs.tolist() == [[5, 6, 7], [0, 9, 1]]  # all but the last, cut to 3
    assert data.valid.inputs.tolist() == [[4, 5, 6], [0, 0, 9]]
    # user 2 trains on 4 -> 5 and 4,5 -> 6; user 3's training part [9] has no pair
    assert data.train_prefixes.tolist() == [[0, 0, 4], [0, 4, 5]]
    assert data.train_targets.tolist() == [5, 6] and data.train_users.tolist() == [2, 2]
    assert data.max_len == 3 and data.train_prefixes.dtype == torch.int64


def test_a_training_target_past_n_items_is_refused() -> None:
    with pytest.raises(ValueError, match=r"train targets must be items 1\.\.9"):
        leave_one_out({1: [1, 30, 2, 3]}, n_items=9, max_len=3)


def test_data_without_a_single_training_sample_says_why() -> None:
    with pytest.raises(ValueError, match="a user needs at least 4 items"):
        leave_one_out({1: [1, 2, 3], 2: [4, 5, 6]}, n_items=9, max_len=3)
