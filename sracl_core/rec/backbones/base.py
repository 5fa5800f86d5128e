"""The backbone interface, its config base, and the registry backbones plug into.

A backbone turns a batch of left-padded item sequences into one vector per
sequence; its item-embedding table doubles as the output layer, so scores over
all items are one matrix product. Objectives, training and evaluation only ever
talk to this interface, which is what makes SRA-CL model-agnostic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from sracl_core.config_base import StrictModel
from sracl_core.registry import Registry


class Backbone(nn.Module):
    """Base class: subclasses set ``item_embedding`` and implement :meth:`encode`."""

    item_embedding: nn.Embedding
    n_items: int
    max_len: int

    def encode(self, sequences: torch.Tensor) -> torch.Tensor:
        """[B, max_len] int64 left-padded (0 = padding) -> [B, d] sequence vectors."""
        raise NotImplementedError

    def item_table(self) -> torch.Tensor:
        """[n_items, d] output vectors of items 1..n_items (padding row 0 left out)."""
        return self.item_embedding.weight[1:self.n_items + 1]

    def scores(self, sequences: torch.Tensor) -> torch.Tensor:
        """[B, n_items] logits; column j is item j + 1."""
        return self.encode(sequences) @ self.item_table().T


class BackboneConfig(StrictModel):
    """The settings of one backbone; each backbone subclasses it with its own fields."""

    name: str


BackboneFactory = Callable[..., Backbone]
BACKBONES: Registry[BackboneFactory] = Registry("backbone", default="sasrec")
"""``train.backbone`` names one of these; a backbone registers with
``@BACKBONES.register("name", ItsConfig)`` on its class."""


def build_backbone(params: BackboneConfig, n_items: int, max_len: int,
                   **options: Any) -> Backbone:
    """Instantiate the backbone that ``params`` (a ``train.backbone`` section) names."""
    return BACKBONES.build(params, n_items, max_len, **options)
