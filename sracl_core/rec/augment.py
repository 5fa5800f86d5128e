"""Sequence views for the contrastive losses, vectorised over the batch on the device.

All functions take left-padded [B, L] int64 batches and a ``torch.Generator`` on
the same device, so a run is reproducible from its seed and resumable from the
generator's saved state. Padding stays padding and items stay items.
"""

from __future__ import annotations

import torch


def substitute(sequences: torch.Tensor, item_neighbours: torch.Tensor, prob: float,
               generator: torch.Generator) -> torch.Tensor:
    """L_IS view: each item is replaced, independently with ``prob``, by one of its k
    neighbours drawn uniformly. A neighbour slot holding 0 (fewer than k neighbours
    retrieved) leaves the item unchanged, so an item never becomes padding."""
    k = item_neighbours.shape[1]
    draw = torch.rand(sequences.shape, generator=generator, device=sequences.device)
    slot = torch.randint(0, k, sequences.shape, generator=generator, device=sequences.device)
    replacement = item_neighbours[sequences, slot]
    swap = (sequences > 0) & (draw < prob) & (replacement > 0)
    return torch.where(swap, replacement, sequences)


def _lengths_and_positions(sequences: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Item count per row (left-padded, no gaps) and each column's index within its items."""
    width = sequences.shape[1]
    lengths = (sequences > 0).sum(dim=1)
    index = torch.arange(width, device=sequences.device) - (width - lengths)[:, None]
    return lengths, index


def _rand_int_below(upper: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Uniform integer in [0, upper) per row (upper >= 1)."""
    draw = torch.rand(upper.shape, generator=generator, device=upper.device)
    return (draw * upper).long().clamp(max=upper - 1)


def crop(sequences: torch.Tensor, ratio: float, generator: torch.Generator) -> torch.Tensor:
    """CL4SRec crop: a random contiguous run of max(1, floor(ratio * n)) items, left-padded."""
    width = sequences.shape[1]
    lengths, _ = _lengths_and_positions(sequences)
    keep = (lengths.float() * ratio).long().clamp(min=1)
    offset = _rand_int_below(lengths - keep + 1, generator)
    column = torch.arange(width, device=sequences.device)
    # output column c holds item (c - (width - keep)) of the run starting at item ``offset``
    source = (width - lengths + offset)[:, None] + column - (width - keep)[:, None]
    picked = sequences.gather(1, source.clamp(0, width - 1))
    return torch.where(column >= (width - keep)[:, None], picked, 0)


def mask(sequences: torch.Tensor, ratio: float, mask_token: int,
         generator: torch.Generator) -> torch.Tensor:
    """CL4SRec mask: floor(ratio * n) randomly chosen items become ``mask_token``."""
    lengths, _ = _lengths_and_positions(sequences)
    count = (lengths.float() * ratio).long()
    noise = torch.rand(sequences.shape, generator=generator, device=sequences.device)
    noise = noise.masked_fill(sequences == 0, 2.0)  # padding sorts last, never chosen
    order_rank = noise.argsort(dim=1).argsort(dim=1)
    return torch.where(order_rank < count[:, None], mask_token, sequences)


def reorder(sequences: torch.Tensor, ratio: float, generator: torch.Generator) -> torch.Tensor:
    """CL4SRec reorder: a random contiguous run of floor(ratio * n) items is shuffled."""
    lengths, index = _lengths_and_positions(sequences)
    span = (lengths.float() * ratio).long()
    start = _rand_int_below(lengths - span + 1, generator)
    inside = (index >= start[:, None]) & (index < (start + span)[:, None])
    # sort keys: outside columns keep their integer index; inside ones get a random key
    # within [start, start + span), so only the run is permuted
    noise = torch.rand(sequences.shape, generator=generator, device=sequences.device)
    keys = torch.where(inside, start[:, None] + noise * span[:, None].clamp(min=1) * 0.999,
                       index.float())
    return sequences.gather(1, keys.argsort(dim=1, stable=True))


def cl4srec_view(sequences: torch.Tensor, *, crop_ratio: float, mask_ratio: float,
                 reorder_ratio: float, mask_token: int,
                 generator: torch.Generator) -> torch.Tensor:
    """One CL4SRec view: per sequence, one of crop / mask / reorder chosen uniformly."""
    choice = torch.randint(0, 3, (sequences.shape[0], 1), generator=generator,
                           device=sequences.device)
    cropped = crop(sequences, crop_ratio, generator)
    masked = mask(sequences, mask_ratio, mask_token, generator)
    reordered = reorder(sequences, reorder_ratio, generator)
    return torch.where(choice == 0, cropped, torch.where(choice == 1, masked, reordered))
