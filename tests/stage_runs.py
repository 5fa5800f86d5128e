"""Stages run in order in this process, without Prefect: the tests of stages and tracking."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sracl_core.config import PipelineConfig, load_config
from sracl_core.stages.graph import STAGE_ORDER
from sracl_core.stages.runner import StageOutcome, run_stage

DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "configs" / "default.yaml"
"""The embedded default config."""
PLAIN_TWO_EPOCHS = ["train.objective=next_item", "train.epochs=2", "train.progress=false"]
"""Its plain SASRec path, two quiet epochs: ingest, train and evaluate, no LLM."""


def run_pipeline(config: PipelineConfig, stages: Iterable[str] = STAGE_ORDER, *,
                 force: Iterable[str] = ()) -> list[StageOutcome]:
    forced = set(force)
    return [run_stage(config, stage, force=stage in forced) for stage in stages]


SMALL_PLAIN = [*PLAIN_TWO_EPOCHS, "train.backbone.hidden_size=16", "train.backbone.inner_size=32"]
"""The plain path with a small SASRec: fast enough to train once per test session."""


def plain_config(cache: Path, *extra: str) -> PipelineConfig:
    return load_config(DEFAULT_CONFIG, [*SMALL_PLAIN, f"cache_root={cache}", *extra])
