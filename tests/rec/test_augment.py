"""Augmentation invariants: padding stays padding, items stay items, draws are seeded."""

from __future__ import annotations

import torch

from sracl_core.rec.augment import cl4srec_view, crop, mask, reorder, substitute


def batch() -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    lengths = torch.randint(1, 11, (500,), generator=g)
    items = torch.randint(1, 41, (500, 10), generator=g)
    return torch.where(torch.arange(10) >= 10 - lengths[:, None], items, 0)


def neighbour_table(n_items: int = 40, k: int = 4) -> torch.Tensor:
    rows = torch.arange(n_items + 1)[:, None]
    table = (rows + torch.arange(1, k + 1)) % n_items + 1  # never self for k < n_items
    table[0] = 0
    return table


def test_substitution_invariants_and_rate() -> None:
    seqs, table = batch(), neighbour_table()
    view = substitute(seqs, table, 0.2, torch.Generator().manual_seed(1))
    assert torch.equal(view == 0, seqs == 0)
    changed = view != seqs
    assert torch.all(table[seqs][changed] == view[changed][:, None]).logical_not().sum() >= 0
    # every replacement is one of the original item's neighbours
    is_neighbour = (table[seqs] == view[..., None]).any(-1)
    assert torch.all(is_neighbour[changed])
    rate = changed.sum() / (seqs > 0).sum()
    assert 0.17 < rate.item() < 0.23


def test_substitution_edge_probabilities_and_determinism() -> None:
    seqs, table = batch(), neighbour_table()
    assert torch.equal(substitute(seqs, table, 0.0, torch.Generator().manual_seed(0)), seqs)
    everything = substitute(seqs, table, 1.0, torch.Generator().manual_seed(0))
    assert torch.all((everything != seqs)[seqs > 0])
    a = substitute(seqs, table, 0.2, torch.Generator().manual_seed(5))
    b = substitute(seqs, table, 0.2, torch.Generator().manual_seed(5))
    assert torch.equal(a, b)


def test_missing_neighbour_slot_keeps_the_item() -> None:
    seqs = torch.tensor([[0, 1, 2]])
    table = torch.tensor([[0, 0], [0, 0], [0, 0]])
    assert torch.equal(substitute(seqs, table, 1.0, torch.Generator().manual_seed(0)), seqs)


def lengths(seqs: torch.Tensor) -> torch.Tensor:
    return (seqs > 0).sum(1)


def test_crop_keeps_a_contiguous_run_left_padded() -> None:
    seqs = batch()
    out = crop(seqs, 0.5, torch.Generator().manual_seed(0))
    assert torch.equal(lengths(out), (lengths(seqs) * 0.5).long().clamp(min=1))
    for row, cropped in zip(seqs.tolist(), out.tolist(), strict=True):
        items = [i for i in row if i]
        run = [i for i in cropped if i]
        assert cropped[:len(cropped) - len(run)] == [0] * (len(cropped) - len(run))
        assert any(items[s:s + len(run)] == run for s in range(len(items)))


def test_mask_hides_floor_ratio_items() -> None:
    seqs = batch()
    out = mask(seqs, 0.5, 99, torch.Generator().manual_seed(0))
    assert torch.equal((out == 99).sum(1), (lengths(seqs) * 0.5).long())
    assert torch.equal(out == 0, seqs == 0)
    kept = out != 99
    assert torch.equal(out[kept], seqs[kept])


def test_reorder_permutes_only_inside_one_window() -> None:
    seqs = batch()
    out = reorder(seqs, 0.5, torch.Generator().manual_seed(0))
    assert torch.equal(out == 0, seqs == 0)
    assert torch.equal(out.sort(1).values, seqs.sort(1).values)
    for row, new in zip(seqs.tolist(), out.tolist(), strict=True):
        moved = [i for i, (a, b) in enumerate(zip(row, new, strict=True)) if a != b]
        span = int(sum(1 for i in row if i) * 0.5)
        if moved:
            assert moved[-1] - moved[0] < span


def test_cl4srec_view_is_seeded() -> None:
    seqs = batch()
    kwargs = {"crop_ratio": 0.2, "mask_ratio": 0.7, "reorder_ratio": 0.2, "mask_token": 41}
    a = cl4srec_view(seqs, generator=torch.Generator().manual_seed(3), **kwargs)
    b = cl4srec_view(seqs, generator=torch.Generator().manual_seed(3), **kwargs)
    assert torch.equal(a, b)
    assert (a != seqs).any()
