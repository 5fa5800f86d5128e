"""The training loop: seeded, resumable, early-stopped on a validation metric.

One epoch = one pass over a permutation of the training samples that depends
only on (seed, epoch), so a run resumed from a mid-epoch checkpoint replays the
same batches with the same dropout and augmentation draws as an uninterrupted
run. The caller gets an :class:`EpochReport` per epoch (for MLflow or a log) and
a :class:`TrainResult` with the best model reloaded.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from sracl_core.atomic import complete_folder
from sracl_core.rec.backbones import build_backbone
from sracl_core.rec.backbones.base import Backbone
from sracl_core.rec.checkpoint import (
    load_model,
    load_train_state,
    require_sound,
    save_model,
    save_train_state,
)
from sracl_core.rec.config import TrainConfig
from sracl_core.rec.data import SemanticNeighbours, TrainingData
from sracl_core.rec.distributed import Solo, ranks_from_environment
from sracl_core.rec.loss_tally import LossTally
from sracl_core.rec.metrics import evaluate, metric_key
from sracl_core.rec.objectives import SameTargetSampler, TrainingObjective
from sracl_core.rec.run_folders import BEST, LAST
from sracl_core.stopping import StopRequested, signals_stop_after_step, stop_requested


@dataclass
class EpochReport:
    """What one epoch did; ``losses`` are the mean loss parts (``rec``, ``cs``, ``is``, ...)."""

    epoch: int
    losses: dict[str, float]
    valid: dict[str, float]
    train_seconds: float
    eval_seconds: float
    improved: bool
    best_epoch: int
    best_score: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TrainResult:
    """The best model (by the early-stopping metric) and how the run went; its test metrics
    are the evaluate stage's (full history, every protocol), not the trainer's."""

    model: Backbone
    best_epoch: int
    best_valid: dict[str, float]
    history: list[EpochReport] = field(default_factory=list)
    stopped_early: bool = False
    model_dir: Path | None = None


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def epoch_permutation(n: int, seed: int, epoch: int) -> torch.Tensor:
    """The sample order of one epoch, a function of (seed, epoch) only."""
    generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(n, generator=generator)


def _rng_state(generator: torch.Generator, device: torch.device) -> dict[str, torch.Tensor]:
    state = {"torch": torch.random.get_rng_state(), "augment": generator.get_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def _set_rng_state(state: dict[str, torch.Tensor], generator: torch.Generator,
                   device: torch.device) -> None:
    torch.random.set_rng_state(state["torch"])
    generator.set_state(state["augment"])
    if "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


def build_objective(config: TrainConfig, data: TrainingData,
                    neighbours: SemanticNeighbours | None) -> tuple[TrainingObjective, int]:
    """The backbone wrapped in its objective; returns it and the number of special tokens."""
    n_special = 1 if config.objective.name == "cl4srec" else 0
    backbone = build_backbone(config.backbone, data.n_items, data.max_len, n_special=n_special,
                              bucketed=config.bucketed_encoder,
                              bucket_overhead_tokens=config.bucket_overhead_tokens)
    mask_token = data.n_items + 1 if n_special else None
    same_target = (SameTargetSampler(data.train_prefixes, data.train_targets)
                   if config.objective.name == "duorec" else None)
    return TrainingObjective(backbone, config.objective, neighbours, mask_token,
                             same_target), n_special


def train(config: TrainConfig, data: TrainingData, neighbours: SemanticNeighbours | None, *,
          seed: int, checkpoint_dir: Path,
          on_epoch: Callable[[EpochReport], None] | None = None,
          on_step: Callable[[int], None] | None = None) -> TrainResult:
    """Train until early stopping (or the epoch cap), resuming from ``checkpoint_dir``.

    ``checkpoint_dir/last`` holds the resume state (rewritten every
    ``checkpoint_every_steps`` and at each epoch end) and ``checkpoint_dir/best``
    the best model folder (see :func:`load_model`). ``on_step(global_step)`` is called
    after every optimizer step.

    Started by torchrun (:mod:`sracl_core.rec.distributed`), every rank trains its
    share of each global batch of ``batch_size`` with DDP and resumes from rank 0's
    ``checkpoint_dir``; only rank 0 evaluates, writes checkpoints and calls
    ``on_epoch``.

    Trained in the main thread by a single process, SIGINT or SIGTERM stop the run after
    its current step with a resume checkpoint (:func:`signals_stop_after_step`).
    """
    ranks = ranks_from_environment()
    with signals_stop_after_step(enabled=ranks.world_size == 1):
        return _train(ranks, config, data, neighbours, seed=seed, checkpoint_dir=checkpoint_dir,
                      on_epoch=on_epoch, on_step=on_step)


def _train(ranks: Solo, config: TrainConfig, data: TrainingData,
           neighbours: SemanticNeighbours | None, *, seed: int, checkpoint_dir: Path,
           on_epoch: Callable[[EpochReport], None] | None,
           on_step: Callable[[int], None] | None) -> TrainResult:
    checkpoint_dir = Path(ranks.from_main(str(checkpoint_dir)))
    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    device = ranks.device(resolve_device(config.device))
    seed_everything(seed)
    objective_cfg = config.objective
    if neighbours is not None:
        neighbours.check(data)
        neighbours = neighbours.to(device) if objective_cfg.needs_neighbours else None
    module, n_special = build_objective(config, data, neighbours)
    module.to(device)
    optimizer = torch.optim.Adam(module.parameters(), lr=config.lr,
                                 weight_decay=config.weight_decay)
    generator = torch.Generator(device).manual_seed(seed + 1)
    prefixes, targets = data.train_prefixes.to(device), data.train_targets.to(device)
    valid = data.valid.to(device)
    stop_key = metric_key(config.early_stopping_metric, config.validation_exclude_history)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16,
                              enabled=config.precision == "bf16")

    progress: dict[str, Any] = {"epoch": 0, "step": 0, "global_step": 0, "loss_sums": {},
                                "train_seconds": 0.0, "best_score": -math.inf,
                                "best_epoch": -1, "best_valid": {}, "bad_epochs": 0,
                                "history": [], "done": False}
    resume = complete_folder(checkpoint_dir / LAST)
    if resume is not None:
        rng, progress = load_train_state(resume, module, optimizer, device)
        if progress["best_epoch"] >= 0:  # the model to publish, checked now, not after training
            require_sound(checkpoint_dir / BEST, "the best model so far",
                          f"move {checkpoint_dir} aside to train this run from its start")
        _set_rng_state(rng, generator, device)
    model = ranks.wrap(module)

    def checkpoint() -> None:
        if ranks.is_main:
            save_train_state(checkpoint_dir / LAST, module, optimizer,
                             _rng_state(generator, device), progress)

    n = prefixes.shape[0]
    n_batches = math.ceil(n / config.batch_size)
    history = [EpochReport(**entry) for entry in progress["history"]]
    while not progress["done"] and progress["epoch"] < config.epochs:
        epoch = progress["epoch"]
        order = epoch_permutation(n, seed, epoch).to(device)
        module.train()
        started = time.perf_counter()
        bar = tqdm(range(progress["step"], n_batches), desc=f"epoch {epoch}",
                   initial=progress["step"], total=n_batches,
                   disable=not (config.progress and ranks.is_main),
                   leave=False)
        tally = LossTally(progress["loss_sums"])
        for step in bar:
            samples = order[step * config.batch_size:(step + 1) * config.batch_size]
            with autocast:
                loss, parts = ranks.losses(model, prefixes, targets, samples, generator,
                                           seed=seed, global_step=progress["global_step"])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            tally.add(parts, step)
            progress["step"] = step + 1
            progress["global_step"] += 1
            if step % 20 == 0:
                bar.set_postfix({k: f"{v / (step + 1):.4f}" for k, v in tally.read().items()})
            if on_step is not None:
                on_step(progress["global_step"])
            stopping = stop_requested()
            if stopping or (progress["step"] % config.checkpoint_every_steps == 0
                            and step + 1 < n_batches):
                progress["train_seconds"] += time.perf_counter() - started
                started = time.perf_counter()
                progress["loss_sums"] = tally.read()
                checkpoint()
            if stopping:
                raise StopRequested(f"stopped at epoch {epoch}, step {step + 1}; the next run "
                                    f"resumes from {checkpoint_dir / LAST}")
        bar.close()
        progress["loss_sums"] = tally.read()
        train_seconds = progress["train_seconds"] + time.perf_counter() - started

        if ranks.is_main:  # the other ranks wait for its progress (and stop with it)
            eval_started = time.perf_counter()
            metrics = evaluate(module.backbone, valid.inputs, valid.targets,
                               exclude_history=config.validation_exclude_history,
                               batch_size=config.eval_batch_size, ties=config.rank_ties)
            if stop_key not in metrics:
                raise ValueError(f"early_stopping_metric {config.early_stopping_metric!r} is not "
                                 f"computed; have {sorted(metrics)}")
            improved = metrics[stop_key] > progress["best_score"]
            if improved:
                progress.update(best_score=metrics[stop_key], best_epoch=epoch, best_valid=metrics,
                                bad_epochs=0)
                save_model(checkpoint_dir / BEST, module.backbone, config, n_special)
            else:
                progress["bad_epochs"] += 1
            report = EpochReport(
                epoch=epoch, losses={k: v / n_batches for k, v in progress["loss_sums"].items()},
                valid=metrics, train_seconds=train_seconds,
                eval_seconds=time.perf_counter() - eval_started, improved=improved,
                best_epoch=progress["best_epoch"], best_score=progress["best_score"])
            history.append(report)
            progress.update(epoch=epoch + 1, step=0, loss_sums={}, train_seconds=0.0,
                            history=[r.as_dict() for r in history],
                            done=progress["bad_epochs"] >= config.patience)
            checkpoint()
            if on_epoch is not None:
                on_epoch(report)
        progress = ranks.from_main(progress)
        if not ranks.is_main:
            history = [EpochReport(**entry) for entry in progress["history"]]

    best = load_model(checkpoint_dir / BEST, device)
    return TrainResult(model=best, best_epoch=progress["best_epoch"],
                       best_valid=progress["best_valid"], history=history,
                       stopped_early=progress["done"], model_dir=checkpoint_dir / BEST)
