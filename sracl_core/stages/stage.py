"""What a stage is: one declaration, made in the stage's own module.

Each module under ``sracl_core/stages/`` ends with ``STAGE = Stage(...)``: its
name, the stages it reads, its code version, the part of the config its output
depends on, its run function, the tables it writes (:mod:`.tables`) and the
device it wants. The DAG and the fingerprints (:mod:`.graph`), GPU placement in
the Prefect tasks (``tasks/stages.py``) and the CLI's stage list are all derived
from these declarations, so a stage is added, renamed or moved to the GPU in one
place.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from sracl_core.config_base import fingerprint_payload
from sracl_core.stages.tables import Table

if TYPE_CHECKING:
    from sracl_core.config import PipelineConfig
    from sracl_core.stages.context import StageContext

Section = Callable[["PipelineConfig"], dict[str, Any]]
Inputs = tuple[str, ...] | Callable[["PipelineConfig"], tuple[str, ...]]


@dataclass(frozen=True)
class Stage:
    """One stage of the pipeline.

    Bump ``code_version`` whenever a change to the stage's code changes its
    output, so that old artifacts are not reused by mistake. ``device`` is
    ``accelerator`` for a stage that takes the GPU when one is present (Prefect
    tags its task ``gpu``, so a tag concurrency limit keeps such stages serial).
    """

    name: str
    inputs: Inputs
    code_version: str
    section: Section
    run: Callable[[StageContext], None]
    tables: Mapping[str, Table]
    device: Literal["cpu", "accelerator"] = "cpu"

    def inputs_for(self, config: PipelineConfig) -> tuple[str, ...]:
        """The stages this one reads for this config (train skips the LLM half when unused)."""
        return self.inputs(config) if callable(self.inputs) else self.inputs


def config_section(section_name: str) -> Section:
    """The stage's output depends on one config section (its runtime fields aside)."""

    def payload(config: PipelineConfig) -> dict[str, Any]:
        return fingerprint_payload(getattr(config, section_name))

    return payload


def seeded_section(section_name: str) -> Section:
    """A section whose output also depends on the global seed."""

    def payload(config: PipelineConfig) -> dict[str, Any]:
        section = fingerprint_payload(getattr(config, section_name))
        # a section with a seed of its own (train.seed) must not have it overwritten
        section["global_seed" if "seed" in section else "seed"] = config.seed
        return section

    return payload
