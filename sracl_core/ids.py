"""The dataset's own user and item ids against the pipeline's internal ones.

Ingest renumbers users and items from 1 (0 is padding), so internal id 1 is not
the dataset's item 1. Commands that a person types ids into (``recommend``,
``inspect``) take and print the dataset's ids; internal ids stay available
behind an option, for debugging the tables themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from sracl_core.errors import SraclError

if TYPE_CHECKING:
    from sracl_core.config import PipelineConfig


@dataclass(frozen=True)
class IdMap:
    """One entity kind (``user`` or ``item``): original id (text) <-> internal id."""

    kind: str
    to_internal: dict[str, int]
    to_original: dict[int, str]

    @classmethod
    def from_table(cls, kind: str, table: pl.DataFrame) -> IdMap:
        pairs = table.select(kind, "original_id").iter_rows()
        forward = {str(original): int(internal) for internal, original in pairs}
        return cls(kind, forward, {internal: original for original, internal in forward.items()})

    def internal(self, ids: list[str], *, internal_ids: bool = False) -> list[int]:
        """Internal ids for the given ones; every unknown id is named in one error."""
        if internal_ids:
            wanted = [_as_int(self.kind, value) for value in ids]
            unknown = [str(value) for value in wanted if value not in self.to_original]
            found = wanted
        else:  # the readers strip the ids they read, so one pasted with its spaces is found
            wanted_ids = [value if value in self.to_internal else value.strip() for value in ids]
            unknown = [value for value in wanted_ids if value not in self.to_internal]
            found = [self.to_internal.get(value, 0) for value in wanted_ids]
        if unknown:
            raise SraclError(self._unknown_message(unknown, internal_ids))
        return found

    def original(self, internal: int) -> str:
        return self.to_original[internal]

    def _unknown_message(self, unknown: list[str], internal_ids: bool) -> str:
        shown = ", ".join(unknown[:10]) + (" ..." if len(unknown) > 10 else "")
        if internal_ids:
            return (f"unknown internal {self.kind} ids: {shown}; internal ids are "
                    f"1..{len(self.to_original)}")
        examples = ", ".join(list(self.to_internal)[:3])
        return (f"unknown {self.kind} ids: {shown}; expected the dataset's own ids (e.g. "
                f"{examples}); pass --internal-ids to give the pipeline's 1..N ids")


def _as_int(kind: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise SraclError(f"--internal-ids: {kind} id {value!r} is not a whole number") from None


def id_maps(config: PipelineConfig) -> tuple[IdMap, IdMap]:
    """The user and item maps of this config's ingest artifact."""
    from sracl_core.stages.graph import outputs_of

    outputs = outputs_of(config)
    if not outputs.is_complete("ingest"):
        raise SraclError("this config has not been ingested yet; run `sracl run` with it first")
    return (IdMap.from_table("user", outputs.table("ingest", "users")),
            IdMap.from_table("item", outputs.table("ingest", "items")))
