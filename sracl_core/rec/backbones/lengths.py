"""Where left-padded sequences start, and how to group them into length buckets."""

from __future__ import annotations

import torch


def sequence_starts(sequences: torch.Tensor) -> torch.Tensor:
    """Column of each row's first item ([B] int64); an empty row starts at its last column.

    Uses the first non-zero column rather than counting items, so a stray zero in
    the middle of a sequence is kept (and masked) instead of cutting real items off.
    """
    width = sequences.shape[1]
    nonzero = sequences != 0
    first = nonzero.to(torch.uint8).argmax(dim=1)
    return torch.where(nonzero.any(dim=1), first, torch.full_like(first, width - 1))


def plan_buckets(counts: list[int], overhead_tokens: int,
                 row_multiple: int = 1) -> list[tuple[int, int]]:
    """Split sequences, sorted by length, into buckets minimising padded tokens + overhead.

    ``counts[w]`` is how many sequences have length ``w`` (index 0 unused). Returns
    ``(width, size)`` per bucket in increasing width. Each bucket costs its
    ``size * width`` token slots, with ``size`` rounded up to ``row_multiple`` when the
    caller pads buckets to that many rows, plus ``overhead_tokens`` for the extra kernel
    launches; an exact dynamic programme over the (at most ``max_len``) widths.
    """
    widths = [w for w in range(1, len(counts)) if counts[w]]
    if not widths:
        return []
    best = [0.0] * (len(widths) + 1)
    cut = [0] * (len(widths) + 1)
    for j in range(1, len(widths) + 1):
        best[j], size = float("inf"), 0
        for i in range(j, 0, -1):
            size += counts[widths[i - 1]]
            rows = -(-size // row_multiple) * row_multiple
            cost = best[i - 1] + overhead_tokens + rows * widths[j - 1]
            if cost < best[j]:
                best[j], cut[j] = cost, i - 1
    buckets: list[tuple[int, int]] = []
    j = len(widths)
    while j > 0:
        i = cut[j]
        buckets.append((widths[j - 1], sum(counts[w] for w in widths[i:j])))
        j = i
    return buckets[::-1]
