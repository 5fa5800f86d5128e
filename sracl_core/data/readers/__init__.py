"""Readers, one per on-disk format, registered by the config's ``source.format``.

A new format plugs in with ``@register("name")`` on a function that takes its
config section and returns a :class:`~sracl_core.data.raw.RawDataset`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sracl_core.data.raw import RawDataset

Reader = Callable[[Any], RawDataset]
READERS: dict[str, Reader] = {}


def register(name: str) -> Callable[[Reader], Reader]:
    def decorator(reader: Reader) -> Reader:
        READERS[name] = reader
        return reader

    return decorator


def read_source(source: Any) -> RawDataset:
    """Read a configured source with the reader its ``format`` names."""
    _load_builtin_readers()
    try:
        reader = READERS[source.format]
    except KeyError:
        raise ValueError(
            f"no reader for source.format={source.format!r}; known: {sorted(READERS)}"
        ) from None
    return reader(source)


def _load_builtin_readers() -> None:
    from sracl_core.data.readers import (  # noqa: F401
        amazon2014,
        amazon2023,
        movielens,
        sasrec,
        table,
    )
