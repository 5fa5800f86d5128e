"""Run one stage: skip it when its artifact exists and is sound, else compute it atomically,
one run per fingerprint at a time."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sracl_core.artifact_integrity import move_aside
from sracl_core.artifacts import ArtifactStore
from sracl_core.errors import ArtifactCorrupt, StageInputMissing
from sracl_core.stages.context import EpochCallback, StageContext
from sracl_core.stages.graph import STAGES, stage_fingerprints, store_for

if TYPE_CHECKING:
    from sracl_core.config import PipelineConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StageOutcome:
    stage: str
    fingerprint: str
    cached: bool
    path: str


def run_stage(config: PipelineConfig, stage: str, *, force: bool = False,
              on_epoch: EpochCallback | None = None) -> StageOutcome:
    """Compute a stage unless its fingerprint already has a sound artifact.

    Its inputs must be complete already; the caller (the Prefect flow) runs stages
    in order. The
    computation holds the stage's lock: a second run of the same fingerprint
    waits, then reuses the first one's artifact. A damaged artifact is moved
    aside and computed again.
    """
    spec = STAGES[stage]
    fingerprints = stage_fingerprints(config)
    store = store_for(config)
    fp = fingerprints[stage]
    path = str(store.path(stage, fp))
    if not force and store.check(stage, fp).usable:
        log.info("%s: cached (%s)", stage, fp)
        return StageOutcome(stage, fp, True, path)
    with store.stage_lock(stage, fp):
        verdict = store.check(stage, fp)
        if not force and verdict.usable:
            log.info("%s: cached (%s), written by the run this one waited for", stage, fp)
            return StageOutcome(stage, fp, True, path)
        if verdict.state == "corrupt":
            aside = move_aside(store.path(stage, fp))
            log.warning("%s: %s; moved the damaged artifact to %s and computing it again",
                        stage, verdict.problem, aside)
        inputs = {upstream: fingerprints[upstream] for upstream in spec.inputs_for(config)}
        _require_inputs(store, stage, inputs)
        log.debug("%s: computing (%s)", stage, fp)
        with store.write(stage, fp, config=spec.section(config), inputs=inputs,
                         replace=force) as writer:
            spec.run(StageContext(config, store, fingerprints, writer, on_epoch))
    log.info("%s: wrote %s", stage, path)
    return StageOutcome(stage, fp, False, path)


def _require_inputs(store: ArtifactStore, stage: str, inputs: dict[str, str]) -> None:
    """Every input computed and sound, or one line saying which and what to run."""
    for upstream, fp in inputs.items():
        verdict = store.check(upstream, fp)
        if verdict.state == "corrupt":
            raise ArtifactCorrupt(
                f"stage {stage!r} reads {upstream!r} ({fp}), which is damaged: "
                f"{verdict.problem}; `sracl run` (or `sracl run --stage {upstream}`) moves it "
                "aside and computes it again"
            )
        if not verdict.usable:
            raise StageInputMissing(
                f"stage {stage!r} needs {upstream!r} ({fp}), which is not "
                f"computed for this config; run `sracl run` (the whole pipeline) or "
                f"`sracl run --stage {upstream} --downstream` first"
            )
