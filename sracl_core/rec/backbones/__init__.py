"""Sequence encoders behind one interface; importing this package registers them all."""

from sracl_core.rec.backbones import gru4rec, sasrec
from sracl_core.rec.backbones.base import Backbone, build_backbone, register_backbone

__all__ = ["Backbone", "build_backbone", "gru4rec", "register_backbone", "sasrec"]
