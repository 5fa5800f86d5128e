"""Sequence encoders behind one interface; importing this package registers them all."""

from sracl_core.rec.backbones import gru4rec, sasrec
from sracl_core.rec.backbones.base import BACKBONES, Backbone, BackboneConfig, build_backbone
from sracl_core.rec.backbones.gru4rec import GRU4RecConfig
from sracl_core.rec.backbones.sasrec import SASRecConfig

__all__ = ["BACKBONES", "Backbone", "BackboneConfig", "GRU4RecConfig", "SASRecConfig",
           "build_backbone", "gru4rec", "sasrec"]
