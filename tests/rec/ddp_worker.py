"""The rank processes of ``test_distributed.py``: an importable module, so that
``torch.multiprocessing.spawn`` can start them (pytest's importlib mode names test
modules in a way a spawned child cannot import)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from sracl_core.rec import TrainConfig, train
from sracl_core.rec.data import TrainingData, leave_one_out
from tests.rec.conftest import make_neighbours, synthetic_sequences


def tiny_data() -> TrainingData:
    return leave_one_out(synthetic_sequences(60, 30, seed=0), n_items=30, max_len=8)


class Killed(Exception):
    pass


def worker(rank: int, port: int, jobs: list[dict[str, Any]], out: str) -> None:
    """Run ``jobs`` (train calls) in order as rank ``rank`` of 2; save what each returned."""
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE="2",
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    import torch.distributed as dist

    from sracl_core.rec import trainer

    if rank != 0:  # only rank 0 may write checkpoints or models
        def refuse(*args: Any, **kwargs: Any) -> None:
            raise AssertionError(f"rank {rank} wrote a checkpoint")
        trainer.save_train_state = refuse
        trainer.save_model = refuse
    data = tiny_data()
    neighbours = make_neighbours(data)
    results = []
    for job in jobs:
        reports: list[Any] = []

        def kill_at(step: int, job: dict[str, Any] = job) -> None:
            if step == job.get("kill_step"):
                raise Killed

        try:
            result = train(TrainConfig.model_validate(job["config"]), data, neighbours, seed=0,
                           checkpoint_dir=Path(job["dir"]) / f"rank{rank}",
                           on_epoch=reports.append, on_step=kill_at)
        except Killed:
            results.append({"killed": True})
            continue
        results.append({"losses": [r.losses for r in result.history],
                        "reported": [r.epoch for r in reports],
                        "weights": result.model.state_dict(), "best": result.best_valid})
    torch.save(results, Path(out) / f"rank{rank}.pt")
    dist.destroy_process_group()
