"""What a stage's run function is handed: its own module, so that stage modules need
nothing from the runner that calls them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from sracl_core.artifacts import ArtifactStore
from sracl_core.stages.outputs import StageOutputs
from sracl_core.stages.tables import CheckedWriter

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
    outputs: StageOutputs
    writer: CheckedWriter
    on_epoch: EpochCallback | None = None

    @property
    def store(self) -> ArtifactStore:
        return self.outputs.store

    @property
    def fingerprints(self) -> Mapping[str, str]:
        return self.outputs.fingerprints

    def input_table(self, stage: str, name: str) -> pl.DataFrame:
        return self.outputs.table(stage, name)

    def input_path(self, stage: str) -> Path:
        return self.outputs.path(stage)
