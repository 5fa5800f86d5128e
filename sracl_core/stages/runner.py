"""Run one stage: skip it when its artifact exists, else compute it atomically."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from sracl_core.artifacts import ArtifactStore, StageWriter
from sracl_core.errors import StageInputMissing
from sracl_core.stages.graph import STAGES, stage_fingerprints, store_for

if TYPE_CHECKING:
    from sracl_core.config import PipelineConfig
    from sracl_core.rec.trainer import EpochReport

EpochCallback = Callable[["EpochReport"], None]

log = logging.getLogger(__name__)


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


@dataclass(frozen=True)
class StageOutcome:
    stage: str
    fingerprint: str
    cached: bool
    path: str


def run_stage(config: PipelineConfig, stage: str, *, force: bool = False,
              on_epoch: EpochCallback | None = None) -> StageOutcome:
    """Compute a stage unless its fingerprint already has a complete artifact.

    Its inputs must be complete already; the caller (the Prefect flow or
    :func:`sracl_core.pipeline.run_pipeline`) runs stages in order.
    """
    spec = STAGES[stage]
    fingerprints = stage_fingerprints(config)
    store = store_for(config)
    fp = fingerprints[stage]
    path = str(store.path(stage, fp))
    if store.is_complete(stage, fp) and not force:
        log.info("%s: cached (%s)", stage, fp)
        return StageOutcome(stage, fp, True, path)
    inputs = {upstream: fingerprints[upstream] for upstream in spec.inputs_for(config)}
    for upstream in inputs:
        if not store.is_complete(upstream, fingerprints[upstream]):
            raise StageInputMissing(
                f"stage {stage!r} needs {upstream!r} ({fingerprints[upstream]}), which is not "
                f"computed for this config; run `sracl run` (the whole pipeline) or "
                f"`sracl run --stage {upstream} --downstream` first"
            )
    log.debug("%s: computing (%s)", stage, fp)
    with store.write(stage, fp, config=spec.section(config), inputs=inputs,
                     replace=force) as writer:
        spec.run_function()(StageContext(config, store, fingerprints, writer, on_epoch))
    log.info("%s: wrote %s", stage, path)
    return StageOutcome(stage, fp, False, path)
