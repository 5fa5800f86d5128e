"""Loss values against hand computations, and every objective switch end to end."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from sracl_core.rec.backbones import SASRecConfig, build_backbone
from sracl_core.rec.config import TrainConfig
from sracl_core.rec.objectives import (
    SameTargetSampler,
    SampleSynthesizer,
    TrainingObjective,
    info_nce,
    rec_loss,
)


def test_info_nce_matches_hand_computation() -> None:
    z1 = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    z2 = torch.tensor([[1.0, 1.0], [0.5, 0.0]])
    temperature = 0.5
    z = [z1[0], z1[1], z2[0], z2[1]]
    positive = {0: 2, 1: 3, 2: 0, 3: 1}
    expected = 0.0
    for i in range(4):
        logits = {j: float(z[i] @ z[j]) / temperature for j in range(4) if j != i}
        expected += -logits[positive[i]] + math.log(sum(math.exp(v) for v in logits.values()))
    assert info_nce(z1, z2, temperature).item() == pytest.approx(expected / 4, rel=1e-6)


def test_rec_loss_is_full_softmax_over_items_one_to_n() -> None:
    vectors = torch.tensor([[1.0, 0.0]])
    table = torch.tensor([[0.0, 1.0], [2.0, 0.0], [1.0, 1.0]])  # items 1, 2, 3
    logits = [0.0, 2.0, 1.0]
    expected = -logits[1] + math.log(sum(math.exp(v) for v in logits))
    assert rec_loss(vectors, torch.tensor([2]), table).item() == pytest.approx(expected)


def test_synthesizer_equals_the_concatenation_form() -> None:
    torch.manual_seed(0)
    synth = SampleSynthesizer(d_text=12, hidden=4, dropout=0.5).eval()
    anchor, neighbours = torch.randn(3, 12), torch.randn(3, 5, 12)
    projected = torch.cat([(anchor @ synth.W)[:, None].expand(3, 5, 4), neighbours @ synth.W], -1)
    expected = torch.softmax(F.leaky_relu((projected @ synth.a).squeeze(-1), 0.2), dim=1)
    torch.testing.assert_close(synth(anchor, neighbours), expected)
    synth.train()
    dropped = synth(anchor, neighbours)
    assert ((dropped == 0) | torch.isclose(dropped, 2 * expected)).all()


def objective(data, neighbours, **fields) -> TrainingObjective:
    """The objective ``fields`` configure (``name`` picks it; sracl when absent)."""
    torch.manual_seed(0)
    cfg = TrainConfig(objective=fields).objective
    n_special = 1 if cfg.name == "cl4srec" else 0
    backbone = build_backbone(SASRecConfig(hidden_size=16, inner_size=32),
                              data.n_items, data.max_len, n_special=n_special)
    same_target = (SameTargetSampler(data.train_prefixes, data.train_targets)
                   if cfg.name == "duorec" else None)
    return TrainingObjective(backbone, cfg, neighbours,
                             data.n_items + 1 if n_special else None, same_target)


def run(module: TrainingObjective, data, seed: int = 0) -> dict[str, torch.Tensor]:
    samples = torch.arange(32)
    return module(data.train_prefixes[samples], data.train_targets[samples], samples,
                  torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("switches, parts", [
    ({}, {"rec", "cs", "is", "total"}),
    ({"name": "next_item"}, {"rec", "total"}),
    ({"use_cs": False}, {"rec", "is", "total"}),
    ({"use_is": False}, {"rec", "cs", "total"}),
    ({"synthesizer": "random"}, {"rec", "cs", "is", "total"}),
    ({"synthesizer": "mean"}, {"rec", "cs", "is", "total"}),
    ({"name": "cl4srec"}, {"rec", "cl4srec", "total"}),
    ({"name": "duorec"}, {"rec", "duorec", "total"}),
    ({"neighbour_gradients": False, "share_anchor_encoding": True, "dedup_neighbours": True},
     {"rec", "cs", "is", "total"}),
])
def test_every_switch_trains(tiny_data, tiny_neighbours, switches, parts) -> None:
    module = objective(tiny_data, tiny_neighbours, **switches)
    out = run(module, tiny_data)
    assert set(out) == parts
    assert set(module.cfg.loss_parts) | {"total"} == parts
    weights = {"cs": 0.1, "is": 0.1, "cl4srec": 0.1, "duorec": 0.1}
    expected = out["rec"] + sum(weights[k] * out[k] for k in out if k in weights)
    torch.testing.assert_close(out["total"], expected)
    out["total"].backward()
    assert module.backbone.item_embedding.weight.grad.abs().sum() > 0
    if "cs" in parts and module.synthesizer is not None:
        assert module.synthesizer.W.grad.abs().sum() > 0


def test_without_dropout_exact_and_fast_options_agree(tiny_data, tiny_neighbours) -> None:
    exact = objective(tiny_data, tiny_neighbours).eval()
    fast = objective(tiny_data, tiny_neighbours, dedup_neighbours=True,
                     share_anchor_encoding=True, neighbour_gradients=False).eval()
    fast.load_state_dict(exact.state_dict())
    a, b = run(exact, tiny_data), run(fast, tiny_data)
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=1e-5, atol=1e-6)


def test_cs_positive_is_the_weighted_neighbour_sum(tiny_data, tiny_neighbours) -> None:
    module = objective(tiny_data, tiny_neighbours, use_is=False).eval()
    samples = torch.arange(8)
    nb = tiny_neighbours
    rows = nb.profile_neighbours[nb.sample_profile[samples]]
    with torch.no_grad():
        encoded = module.backbone.encode(nb.profile_sequences[rows.reshape(-1)]).view(8, 3, -1)
        weights = module.synthesizer(nb.profile_embeddings[samples], nb.profile_embeddings[rows])
        anchor = module.backbone.encode(tiny_data.train_prefixes[samples])
        expected = info_nce(anchor, (weights[..., None] * encoded).sum(1), 1.0)
        out = module(tiny_data.train_prefixes[samples], tiny_data.train_targets[samples],
                     samples, torch.Generator().manual_seed(0))
    torch.testing.assert_close(out["cs"], expected)


def test_loss_is_deterministic_given_seeds(tiny_data, tiny_neighbours) -> None:
    module = objective(tiny_data, tiny_neighbours)
    torch.manual_seed(7)
    a = run(module, tiny_data, seed=1)["total"]
    torch.manual_seed(7)
    b = run(module, tiny_data, seed=1)["total"]
    assert a.item() == b.item()


def test_neighbours_required_for_sracl_losses(tiny_data) -> None:
    with pytest.raises(ValueError, match="neighbours"):
        objective(tiny_data, None)


def test_same_target_partner_shares_the_target_and_is_another_sample() -> None:
    targets = torch.tensor([5, 3, 5, 5, 7, 3])
    prefixes = torch.arange(6)[:, None].expand(6, 2).clone()  # row i encodes sample i
    sampler = SameTargetSampler(prefixes, targets)
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        partners = sampler(torch.arange(6), g)[:, 0]
        assert torch.equal(targets[partners], targets)
        alone = torch.tensor([False, False, False, False, True, False])
        assert torch.all((partners != torch.arange(6)) | alone)


def test_mean_synthesizer_positive_is_the_plain_neighbour_mean(tiny_data, tiny_neighbours):
    module = objective(tiny_data, tiny_neighbours, use_is=False, synthesizer="mean").eval()
    assert module.synthesizer is None
    samples = torch.arange(8)
    nb = tiny_neighbours
    rows = nb.profile_neighbours[nb.sample_profile[samples]]
    with torch.no_grad():
        encoded = module.backbone.encode(nb.profile_sequences[rows.reshape(-1)]).view(8, 3, -1)
        anchor = module.backbone.encode(tiny_data.train_prefixes[samples])
        expected = info_nce(anchor, encoded.mean(1), 1.0)
        out = module(tiny_data.train_prefixes[samples], tiny_data.train_targets[samples],
                     samples, torch.Generator().manual_seed(0))
    torch.testing.assert_close(out["cs"], expected)
