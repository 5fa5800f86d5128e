"""Run one stage: skip it when its artifact exists and is sound, else compute it atomically,
one run per fingerprint at a time."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from sracl_core.artifact_integrity import move_aside
from sracl_core.artifacts import ArtifactStore
from sracl_core.errors import ArtifactCorrupt, StageInputMissing
from sracl_core.stages.context import EpochCallback, StageContext
from sracl_core.stages.graph import STAGES, declared_tables, stage_fingerprints, store_for
from sracl_core.stages.outputs import StageOutputs
from sracl_core.stages.tables import CheckedWriter

if TYPE_CHECKING:
    from sracl_core.config import PipelineConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StageOutcome:
    """What became of one stage in a run: the one record that the Prefect task returns
    (as :meth:`as_dict`), the flow collects and MLflow tracking logs."""

    stage: str
    fingerprint: str
    cached: bool
    path: str
    seconds: float = 0.0
    live_epochs: tuple[int, ...] = ()
    """Epochs already logged to the pipeline run while training (see ``LiveEpochs``)."""

    @property
    def state(self) -> str:
        return "cached" if self.cached else "computed"

    def as_dict(self) -> dict[str, Any]:
        """Plain values, for a Prefect result; ``StageOutcome(**d)`` reads it back."""
        return {**asdict(self), "live_epochs": list(self.live_epochs)}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> StageOutcome:
        return cls(**{**values, "live_epochs": tuple(values.get("live_epochs", ()))})


def run_stage(config: PipelineConfig, stage: str, *, force: bool = False,
              on_epoch: EpochCallback | None = None) -> StageOutcome:
    """Compute a stage unless its fingerprint already has a sound artifact.

    Its inputs must be complete already; the caller (the Prefect flow) runs stages
    in order. The
    computation holds the stage's lock: a second run of the same fingerprint
    waits, then reuses the first one's artifact. A damaged artifact is moved
    aside and computed again.
    """
    started = time.perf_counter()
    spec = STAGES[stage]
    fingerprints = stage_fingerprints(config)
    store = store_for(config)
    fp = fingerprints[stage]
    path = str(store.path(stage, fp))
    if not force and store.check(stage, fp).usable:
        log.info("%s: cached (%s)", stage, fp)
        return StageOutcome(stage, fp, True, path, time.perf_counter() - started)
    with store.stage_lock(stage, fp):
        verdict = store.check(stage, fp)
        if not force and verdict.usable:
            log.info("%s: cached (%s), written by the run this one waited for", stage, fp)
            return StageOutcome(stage, fp, True, path, time.perf_counter() - started)
        if verdict.state == "corrupt" and store.path(stage, fp).is_dir():  # else: the write
            aside = move_aside(store.path(stage, fp))  # names the file in the way
            log.warning("%s: %s; moved the damaged artifact to %s and computing it again",
                        stage, verdict.problem, aside)
        inputs = {upstream: fingerprints[upstream] for upstream in spec.inputs_for(config)}
        _require_inputs(store, stage, inputs)
        log.debug("%s: computing (%s)", stage, fp)
        with store.write(stage, fp, config=spec.section(config), inputs=inputs,
                         replace=force) as writer:
            checked = CheckedWriter(stage, spec.tables, writer)
            outputs = StageOutputs(store, fingerprints, declared_tables())
            spec.run(StageContext(config, outputs, checked, on_epoch))
            checked.check_complete()
    log.info("%s: wrote %s", stage, path)
    return StageOutcome(stage, fp, False, path, time.perf_counter() - started)


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
