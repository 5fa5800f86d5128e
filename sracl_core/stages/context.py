"""What a stage's run function is handed: its own module, so that stage modules need
nothing from the runner that calls them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from sracl_core.artifacts import ArtifactStore, StageWriter

if TYPE_CHECKING:
    from sracl_core.config import PipelineConfig
    from sracl_core.rec.trainer import EpochReport

EpochCallback = Callable[["EpochReport"], None]


@dataclass
class StageContext:
    """What a stage's run function gets: its config, its inputs and where to write.

    ``on_epoch`` is the caller's hook into training (the orchestrator logs epochs to
    MLflow as they end); stages other than train ignore it.
    """

    config: PipelineConfig
    store: ArtifactStore
    fingerprints: dict[str, str]
    writer: StageWriter
    on_epoch: EpochCallback | None = None

    def input_table(self, stage: str, name: str) -> pl.DataFrame:
        return self.store.read_table(stage, self.fingerprints[stage], name)

    def input_path(self, stage: str) -> str:
        return str(self.store.path(stage, self.fingerprints[stage]))
