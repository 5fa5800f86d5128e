"""Readers, one module per on-disk format, chosen by the config's ``source.format``.

Each is registered in :data:`sracl_core.data.config.SOURCES` with its source
section; a new format plugs in with ``@SOURCES.register("name", ItsSource)`` on a
function that takes that section and returns a :class:`~sracl_core.data.raw.RawDataset`.
"""

from __future__ import annotations

from sracl_core.data.config import SOURCES, SourceConfig
from sracl_core.data.raw import RawDataset


def read_source(source: SourceConfig) -> RawDataset:
    """Read a configured source with the reader its ``format`` names."""
    return SOURCES.build(source)
