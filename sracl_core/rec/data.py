"""The tensors the recommender consumes, and a builder from raw user sequences.

Everything is a left-padded int64 matrix (0 = padding, items are 1..n_items,
oldest -> newest), built once and moved to the device once; batches are index
look-ups into these matrices, never per-sample Python work.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
import torch

from sracl_core.rec.file_rows import FileRows


@dataclass(frozen=True)
class EvalSplit:
    """One evaluation split: each user's input window and the item to predict."""

    inputs: torch.Tensor   # [U, max_len] int64, left-padded
    targets: torch.Tensor  # [U] int64, items 1..n_items
    users: torch.Tensor    # [U] int64, 1-based user ids

    def to(self, device: torch.device | str) -> EvalSplit:
        return EvalSplit(*(getattr(self, f.name).to(device) for f in fields(self)))


@dataclass(frozen=True)
class TrainingData:
    """Training samples (every prefix of the training sequence) and the two evaluation splits.

    Validation input = the training sequence, target = the validation item; test
    input = training sequence + validation item, target = the test item.
    """

    train_prefixes: torch.Tensor  # [N, max_len] int64, left-padded
    train_targets: torch.Tensor   # [N] int64
    train_users: torch.Tensor     # [N] int64, 1-based
    n_items: int
    valid: EvalSplit
    test: EvalSplit

    @property
    def max_len(self) -> int:
        return int(self.train_prefixes.shape[1])

    def __post_init__(self) -> None:
        n = self.train_prefixes.shape[0]
        if self.train_targets.shape != (n,) or self.train_users.shape != (n,):
            raise ValueError("train_prefixes, train_targets and train_users disagree in length")
        if n == 0:
            raise ValueError("no training samples: a user needs at least 4 items for one "
                             "(the last two are held out for validation and test)")
        if int(self.train_targets.min()) < 1 or int(self.train_targets.max()) > self.n_items:
            raise ValueError(f"train targets must be items 1..{self.n_items}")


@dataclass(frozen=True)
class SemanticNeighbours:
    """Retrieved neighbours (text-based for SRA-CL, co-occurrence for the ablation).

    A *profile row* is one training sample (granularity "prefix") or one user
    (granularity "user"); ``sample_profile`` maps each training sample to its row.
    """

    item_neighbours: torch.Tensor     # [n_items + 1, k] int64; row 0 all 0; never self
    sample_profile: torch.Tensor      # [N] int64 -> profile row
    profile_neighbours: torch.Tensor  # [n_profiles, k] int64 profile rows
    profile_sequences: torch.Tensor   # [n_profiles, max_len] int64, left-padded
    profile_embeddings: torch.Tensor | FileRows  # [n_profiles, d_text] float32, L2-normalised

    def to(self, device: torch.device | str) -> SemanticNeighbours:
        return SemanticNeighbours(*(getattr(self, f.name).to(device) for f in fields(self)))

    def check(self, data: TrainingData) -> None:
        """Fail early with a clear message instead of an index error deep in a batch."""
        if self.item_neighbours.shape[0] != data.n_items + 1:
            raise ValueError(f"item_neighbours needs {data.n_items + 1} rows (row 0 = padding), "
                             f"got {self.item_neighbours.shape[0]}")
        if self.sample_profile.shape[0] != data.train_prefixes.shape[0]:
            raise ValueError("sample_profile must have one entry per training sample")
        n_profiles = self.profile_sequences.shape[0]
        if self.profile_neighbours.shape[0] != n_profiles or (
                self.profile_embeddings.shape[0] != n_profiles):
            raise ValueError("profile_neighbours, profile_sequences and profile_embeddings "
                             "must have one row per profile")
        if self.profile_sequences.shape[1] != data.max_len:
            raise ValueError(f"profile_sequences must be {data.max_len} wide")


def left_pad(sequences: Sequence[Sequence[int]], max_len: int) -> np.ndarray:
    """The last ``max_len`` items of each sequence, right-aligned in a zero matrix."""
    out = np.zeros((len(sequences), max_len), dtype=np.int64)
    for row, seq in enumerate(sequences):
        tail = list(seq)[-max_len:]
        if tail:
            out[row, max_len - len(tail):] = tail
    return out


def leave_one_out(user_sequences: dict[int, Sequence[int]], n_items: int,
                  max_len: int) -> TrainingData:
    """Leave-one-out split and training prefixes, as in the paper (users need >= 3 items).

    Kept here so benchmarks and tests can build inputs straight from an
    interactions file; the pipeline's data stage produces the same tensors.
    """
    prefixes: list[list[int]] = []
    targets: list[int] = []
    sample_users: list[int] = []
    valid_in, valid_t, test_in, test_t, users = [], [], [], [], []
    for user in sorted(user_sequences):
        seq = list(user_sequences[user])
        if len(seq) < 3:
            continue
        train = seq[:-2]
        for end in range(1, len(train)):
            prefixes.append(train[max(0, end - max_len):end])
            targets.append(train[end])
            sample_users.append(user)
        users.append(user)
        valid_in.append(train)
        valid_t.append(seq[-2])
        test_in.append(seq[:-1])
        test_t.append(seq[-1])
    return TrainingData(
        train_prefixes=torch.from_numpy(left_pad(prefixes, max_len)),
        train_targets=as_long(targets),
        train_users=as_long(sample_users),
        n_items=n_items,
        valid=EvalSplit(torch.from_numpy(left_pad(valid_in, max_len)), as_long(valid_t),
                        as_long(users)),
        test=EvalSplit(torch.from_numpy(left_pad(test_in, max_len)), as_long(test_t),
                       as_long(users)),
    )


def as_long(values: Sequence[int]) -> torch.Tensor:
    return torch.as_tensor(np.asarray(values, dtype=np.int64))


def read_interactions(path: str) -> tuple[dict[int, list[int]], int]:
    """A ``user item`` file, chronological per user -> ({user: items}, n_items)."""
    raw = np.loadtxt(path, dtype=np.int64, ndmin=2)
    sequences: dict[int, list[int]] = {}
    for user, item in raw.tolist():
        sequences.setdefault(user, []).append(item)
    return sequences, int(raw[:, 1].max())
