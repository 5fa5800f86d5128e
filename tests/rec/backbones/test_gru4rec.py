"""GRU4Rec never runs over padding."""

from __future__ import annotations

import torch

from sracl_core.rec.backbones import GRU4RecConfig, build_backbone


def test_gru4rec_ignores_left_padding() -> None:
    torch.manual_seed(0)
    model = build_backbone(GRU4RecConfig(), n_items=20, max_len=6).eval()
    with torch.no_grad():
        short = model.encode(torch.tensor([[0, 0, 0, 3, 4, 5]]))
        model.max_len = 3
        tight = model.encode(torch.tensor([[3, 4, 5]]))
    torch.testing.assert_close(short, tight)
