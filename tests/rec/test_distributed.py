"""DDP training on two real CPU processes (gloo on loopback) against one process.

The workers set the environment torchrun would (RANK, WORLD_SIZE, MASTER_*), so
the trainer takes its torchrun path exactly as under ``torchrun --nproc-per-node 2``.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.multiprocessing as mp

from sracl_core.rec import TrainConfig, train
from sracl_core.rec.distributed import split
from tests.rec.conftest import make_neighbours
from tests.rec.ddp_worker import tiny_data, worker

# 246 training samples: batches of 35 split 18/17 across two ranks, and the last batch
# (1 sample) leaves rank 1 with a stand-in row of weight 0
BASE = {"backbone": {"name": "sasrec", "hidden_size": 16, "inner_size": 32},
        "batch_size": 35, "progress": False, "checkpoint_every_steps": 2, "num_threads": 1,
        "objective": {"name": "sracl"}}
NO_DROPOUT = {**BASE, "backbone": {**BASE["backbone"], "hidden_dropout": 0.0,
                                   "attn_dropout": 0.0},
              "objective": {"name": "sracl", "synthesizer_dropout": 0.0}}
OBJECTIVES = {"sracl": NO_DROPOUT,
              "duorec": {**NO_DROPOUT, "objective": "duorec"},
              "cl4srec": {**NO_DROPOUT, "objective": "cl4srec"}}
"""Every objective whose views or draws a rank must reproduce for the global batch."""
REL_TOL = 1e-5
"""Per-epoch losses of two ranks vs one process: the same math, summed in another order."""


def _run_two_ranks(jobs: list[dict[str, Any]], out: Path) -> list[list[dict[str, Any]]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mp.spawn(worker, args=(port, jobs, str(out)), nprocs=2, join=True)
    return [torch.load(out / f"rank{r}.pt", weights_only=False) for r in range(2)]


@pytest.fixture(autouse=True)
def single_process_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The reference runs in this process must not take the torchrun path, and the
    spawned ranks must find ``tests.rec.ddp_worker`` (pytest imports it without sys.path)."""
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2]))  # children copy it


def test_split_covers_the_batch_with_sizes_within_one() -> None:
    shards = [split(35, 2, r) for r in range(2)]
    assert [s.sizes for s in shards] == [(18, 17)] * 2
    assert [(s.rows.start, s.rows.stop) for s in shards] == [(0, 18), (18, 35)]
    assert [s.weight for s in shards] == [18 / 35, 17 / 35]
    stand_in = split(1, 2, 1)  # nothing left for rank 1: one row that weighs nothing
    assert (stand_in.rows.stop - stand_in.rows.start, stand_in.weight) == (1, 0.0)


def test_two_ranks_match_one_process_and_only_rank_0_writes(tmp_path: Path) -> None:
    ranks = _run_two_ranks([{"config": {**config, "epochs": 3}, "dir": str(tmp_path / name)}
                            for name, config in OBJECTIVES.items()], tmp_path)
    for job, (name, config) in enumerate(OBJECTIVES.items()):
        solo = train(TrainConfig.model_validate({**config, "epochs": 3}), tiny_data(),
                     make_neighbours(tiny_data()), seed=0, checkpoint_dir=tmp_path / "solo" / name)
        loss_parts = {"sracl": {"rec", "cs", "is"}, "duorec": {"rec", "duorec"},
                      "cl4srec": {"rec", "cl4srec"}}[name] | {"total"}
        for rank in ranks:
            assert len(rank[job]["losses"]) == 3
            for got, want in zip(rank[job]["losses"], (r.losses for r in solo.history),
                                 strict=True):
                assert set(got) == loss_parts
                assert got == pytest.approx(want, rel=REL_TOL), name
            for key, value in solo.model.state_dict().items():
                torch.testing.assert_close(rank[job]["weights"][key], value, rtol=1e-4,
                                           atol=1e-5)
        assert ranks[0][job]["reported"] == [0, 1, 2] and ranks[1][job]["reported"] == []
        assert ranks[0][job]["best"] == pytest.approx(solo.best_valid, rel=REL_TOL)
        assert (tmp_path / name / "rank0" / "best").is_dir()
        assert not (tmp_path / name / "rank1").exists()


def test_two_ranks_resume_after_a_kill_like_uninterrupted(tmp_path: Path) -> None:
    n_batches = -(-246 // 35)
    config = {**BASE, "epochs": 3}  # with dropout: resuming must not depend on it being off
    ranks = _run_two_ranks([
        {"config": config, "dir": str(tmp_path / "whole")},
        {"config": {**config, "epochs": 1}, "dir": str(tmp_path / "cut")},
        {"config": config, "dir": str(tmp_path / "cut"), "kill_step": n_batches + 3},
        {"config": config, "dir": str(tmp_path / "cut")},
    ], tmp_path)
    for rank in ranks:
        whole, first, killed, resumed = rank
        assert killed == {"killed": True} and len(first["losses"]) == 1
        assert resumed["losses"] == whole["losses"]
        for name, value in whole["weights"].items():
            assert torch.equal(resumed["weights"][name], value), name
    assert ranks[0][3]["reported"] == [1, 2]  # epoch 1 again (killed mid-way), then 2
