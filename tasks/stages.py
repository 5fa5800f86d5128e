"""One Prefect task per stage, each a thin wrapper over :func:`run_stage`.

Tasks take the config path, the overrides and the expected fingerprint, never
DataFrames: inputs come from the artifact store. The fingerprint decides
whether a stage computes (Prefect's own result cache stays off, so the artifact
store is the single source of truth and deleting a cache folder really
recomputes it). A stage found complete finishes in a ``Cached`` state and its
task run is named ``<stage>-cached``; a computed one is named
``<stage>-computed``.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from typing import Any

from prefect import Task, get_run_logger
from prefect.cache_policies import NO_CACHE
from prefect.states import Completed, State

from sracl_core.config import load_config
from sracl_core.errors import SraclError
from sracl_core.stages.graph import STAGES, stage_fingerprints, store_for
from sracl_core.stages.runner import run_stage
from sracl_core.tracking.live import LiveEpochs


def gpu_stages() -> frozenset[str]:
    """Stages that take the accelerator when one is present; tagged ``gpu`` so a Prefect
    tag concurrency limit (``prefect concurrency-limit create gpu 1``) keeps them serial
    across flow runs."""
    return frozenset(name for name, stage in STAGES.items() if stage.device == "accelerator")


class FingerprintChanged(SraclError):
    """The config on disk no longer gives the fingerprint the flow planned with."""


def stage_run_name(parameters: dict[str, Any]) -> str:
    """``<stage>-cached`` or ``<stage>-computed``, decided when the task run starts.

    Prefect names a task run as it begins, after the stages before it finished,
    so the artifact store already says which it will be.
    """
    stage = parameters["stage"]
    if parameters.get("force"):
        return f"{stage}-computed"
    config = load_config(parameters["config_path"], parameters.get("overrides") or [])
    usable = store_for(config).check(stage, parameters["fingerprint"]).usable
    return f"{stage}-{'cached' if usable else 'computed'}"


def run_stage_task(config_path: str, overrides: list[str], stage: str, fingerprint: str,
                   force: bool = False, tracking_run_id: str | None = None) -> State:
    """Compute one stage unless its fingerprint is complete; returns a ``Completed`` state
    (named ``Cached`` when nothing was computed) whose data is the stage record.

    With ``tracking_run_id`` (the pipeline's MLflow run) the train stage logs each epoch
    there as it ends."""
    logger = get_run_logger()
    config = load_config(config_path, overrides)
    actual = stage_fingerprints(config)[stage]
    if actual != fingerprint:
        raise FingerprintChanged(
            f"{stage}: the config now gives fingerprint {actual}, the flow planned {fingerprint}; "
            f"was {config_path} edited during the run? Start the run again."
        )
    live = LiveEpochs(config, tracking_run_id) if tracking_run_id and stage == "train" else None
    try:
        outcome = run_stage(config, stage, force=force, on_epoch=live)
    finally:
        logged = live.close() if live is not None else ()
    outcome = dataclasses.replace(outcome, seconds=round(outcome.seconds, 3), live_epochs=logged)
    record, seconds = outcome.as_dict(), outcome.seconds
    if outcome.cached:
        logger.info("%s: cached (%s), skipped", stage, fingerprint)
        return Completed(name="Cached", message=f"{stage} cached ({fingerprint})", data=record)
    logger.info("%s: computed (%s) in %.1f s", stage, fingerprint, seconds)
    return Completed(message=f"{stage} computed ({fingerprint})", data=record)


@cache
def stage_task(stage: str) -> Task[..., State]:
    """The Prefect task of one stage (made once per stage, plug-in stages included)."""
    tags = ["sracl", f"stage:{stage}", *(["gpu"] if stage in gpu_stages() else [])]
    return Task(run_stage_task, name=f"sracl-{stage}", task_run_name=stage_run_name,
                cache_policy=NO_CACHE, tags=tags)
