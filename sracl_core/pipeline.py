"""Run stages in order without an orchestrator (tests, notebooks, the Prefect tasks' core)."""

from __future__ import annotations

from collections.abc import Iterable

from sracl_core.config import PipelineConfig
from sracl_core.stages.graph import STAGE_ORDER, downstream_of, upstream_of
from sracl_core.stages.runner import StageOutcome, run_stage


def select_stages(config: PipelineConfig, stage: str | None = None, *,
                  downstream: bool = False, until: str | None = None) -> list[str]:
    """The stages a command line asks for, in run order.

    No stage: the whole pipeline (or up to ``until``). One stage: just it, or
    it and everything after it with ``downstream``.
    """
    if stage is None:
        stages = needed_stages(config)
    elif downstream:
        stages = downstream_of(stage, config)
    else:
        stages = [stage]
    if until is not None:
        stages = [name for name in stages if STAGE_ORDER.index(name) <= STAGE_ORDER.index(until)]
    return stages


def needed_stages(config: PipelineConfig) -> list[str]:
    """The stages a full run computes: evaluate and everything it needs for this config."""
    return [*upstream_of("evaluate", config), "evaluate"]


def run_pipeline(config: PipelineConfig, stages: Iterable[str] = STAGE_ORDER, *,
                 force: Iterable[str] = ()) -> list[StageOutcome]:
    forced = set(force)
    return [run_stage(config, stage, force=stage in forced) for stage in stages]
