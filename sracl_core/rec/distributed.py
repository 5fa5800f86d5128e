"""Data-parallel training under torchrun: DDP for the gradients, exact global-batch math.

Used only when the process was started by torchrun (``WORLD_SIZE`` > 1 in the
environment); otherwise :func:`ranks_from_environment` returns :class:`Solo`, whose
step is the trainer's single-process step unchanged, so one process stays
bit-identical to a run without this module.

Under torchrun every rank sees the same global batch (``batch_size`` samples of
the same epoch permutation) and takes its rows of it (:func:`split`: sizes differ
by at most one; a rank left without a row encodes a stand-in row of weight 0).
Why the result equals one process with the same global batch:

* **L_rec** is a mean over the rank's rows; the rank backpropagates it scaled by
  ``world_size * rows / batch`` so that DDP's gradient *average* is the gradient
  of the global mean, also for the last, uneven batch.
* **InfoNCE** (L_CS, L_IS, DuoRec, CL4SRec) couples samples through in-batch
  negatives, so each rank gathers every rank's vectors with
  ``torch.distributed.nn.functional.all_gather`` (differentiable: its backward
  sums the gradients of all ranks' copies) and computes the global-batch loss.
  Every rank computes the same loss, so a vector's gradient arrives
  ``world_size`` times summed, and DDP's average divides it back.
* **Augmentation draws** (L_IS substitution, CL4SRec views, DuoRec partners,
  the synthesizer's dropout) are made for the whole global batch on every rank
  from the same generator, then sliced, so they match one process draw for draw.
* **Dropout inside the backbone** cannot match: one process draws masks for the
  whole batch's activations. Each rank reseeds torch's RNG per step from
  ``(seed, global_step, rank)``: independent across ranks and, since it depends
  on nothing else, identical after a resume. With dropout on, a run is a
  different sample of the same objective; with dropout 0 it equals one process
  to float rounding (``tests/rec/test_distributed.py``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.distributed.nn.functional import all_gather
from torch.nn.parallel import DistributedDataParallel

T = TypeVar("T")


@dataclass(frozen=True)
class Shard:
    """One rank's rows of a global batch, and every rank's row count (for the gathers)."""

    rows: slice
    sizes: tuple[int, ...]
    rank: int

    @property
    def weight(self) -> float:
        """This rank's share of the global batch (0 for a stand-in row)."""
        return self.sizes[self.rank] / sum(self.sizes)

    def take(self, tensor: torch.Tensor) -> torch.Tensor:
        return tensor[self.rows]

    def gather(self, vectors: torch.Tensor) -> torch.Tensor:
        """Every rank's rows of ``vectors``, in global batch order, with gradients.

        all_gather needs equal shapes, so shards are padded to the largest and trimmed.
        """
        padded = F.pad(vectors, (0, 0, 0, max(self.sizes) - vectors.shape[0]))
        pieces = all_gather(padded)
        return torch.cat([piece[:size] for piece, size in zip(pieces, self.sizes, strict=True)])


def split(batch: int, world_size: int, rank: int) -> Shard:
    """Rank ``rank``'s rows of a batch of ``batch``: contiguous, sizes differing by <= 1."""
    base, extra = divmod(batch, world_size)
    sizes = tuple(base + (r < extra) for r in range(world_size))
    start = sum(sizes[:rank])
    rows = slice(start, start + sizes[rank]) if sizes[rank] else slice(0, 1)
    return Shard(rows, sizes, rank)


class Solo:
    """One process: the trainer's own step, no communication."""

    rank = 0
    world_size = 1
    is_main = True

    def device(self, device: torch.device) -> torch.device:
        return device

    def wrap(self, module: nn.Module) -> nn.Module:
        return module

    def losses(self, model: nn.Module, prefixes: torch.Tensor, targets: torch.Tensor,
               samples: torch.Tensor, generator: torch.Generator, *, seed: int,
               global_step: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """(the loss to backpropagate, the loss parts to report) of one global batch."""
        parts = model(prefixes[samples], targets[samples], samples, generator)
        return parts["total"], parts

    def from_main(self, value: T) -> T:
        """Rank 0's ``value`` on every rank (rank 0 waits for nobody; the others wait for it)."""
        return value


class DataParallel(Solo):
    """One torchrun rank: gloo on CPU, NCCL on CUDA; rank 0 is the main rank."""

    def __init__(self) -> None:
        if not dist.is_initialized():
            dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        self.rank, self.world_size = dist.get_rank(), dist.get_world_size()
        self.is_main = self.rank == 0
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))

    def device(self, device: torch.device) -> torch.device:
        if device.type != "cuda":
            return device
        torch.cuda.set_device(self.local_rank)
        return torch.device("cuda", self.local_rank)

    def wrap(self, module: nn.Module) -> nn.Module:
        # the buffers (DuoRec's sample tables) never change: synced once, not every step
        ids = [self.local_rank] if next(module.parameters()).is_cuda else None
        return DistributedDataParallel(module, device_ids=ids, forward_sync_buffers=False)

    def losses(self, model: nn.Module, prefixes: torch.Tensor, targets: torch.Tensor,
               samples: torch.Tensor, generator: torch.Generator, *, seed: int,
               global_step: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """This rank's loss to back-propagate, and the global batch's loss parts to report.

        L_rec is re-weighted so that DDP's gradient average equals the gradient of the
        global-batch mean, whatever share of the batch this rank holds.
        """
        torch.manual_seed(hash((seed, global_step, self.rank)) % 2**63)
        shard = split(samples.numel(), self.world_size, self.rank)
        parts = model(prefixes[samples], targets[samples], samples, generator, shard=shard)
        rec = parts["rec"]
        loss = parts["total"] + (shard.weight * self.world_size - 1.0) * rec
        # report global-batch values: rec is this rank's share of the mean, the
        # InfoNCE parts are already global (identical on every rank)
        names = list(parts)
        shares = []
        for name in names:
            value = parts[name].detach().double()
            if name == "rec":
                shares.append(value * shard.weight)
            elif name == "total":
                shares.append(rec.detach().double() * shard.weight
                              + (value - rec.detach().double()) / self.world_size)
            else:
                shares.append(value / self.world_size)
        reported = torch.stack(shares)
        dist.all_reduce(reported)
        return loss, dict(zip(names, reported.unbind(), strict=True))

    def from_main(self, value: T) -> T:
        box: list[Any] = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]


def ranks_from_environment() -> Solo:
    """:class:`DataParallel` when started by torchrun with several ranks, else :class:`Solo`."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and "RANK" in os.environ:
        return DataParallel()
    return Solo()
