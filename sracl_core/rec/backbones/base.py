"""The backbone interface and the registry backbones plug into.

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


BackboneFactory = Callable[..., Backbone]
_REGISTRY: dict[str, BackboneFactory] = {}


def register_backbone(name: str) -> Callable[[BackboneFactory], BackboneFactory]:
    """Class decorator: ``@register_backbone("sasrec")`` makes ``backbone: sasrec`` work."""

    def decorate(factory: BackboneFactory) -> BackboneFactory:
        if name in _REGISTRY:
            raise ValueError(f"backbone {name!r} registered twice")
        _REGISTRY[name] = factory
        return factory

    return decorate


def registered_backbones() -> list[str]:
    return sorted(_REGISTRY)


def build_backbone(params: StrictModel, n_items: int, max_len: int, **options: Any) -> Backbone:
    """Instantiate the backbone that ``params`` (a ``train.backbone`` section) names."""
    name = getattr(params, "name", None)
    if name not in _REGISTRY:
        raise ValueError(f"unknown backbone {name!r}; registered: {registered_backbones()}")
    return _REGISTRY[name](params, n_items, max_len, **options)
