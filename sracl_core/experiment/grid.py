"""An experiment: named variants (config overrides) times training seeds over one config.

A grid file is YAML::

    name: paper-beauty
    baseline: sasrec                 # gains and p-values are against this variant
    seeds: [2024, 2025, 2026]        # each sets train.seed; upstream stages are shared
    metrics: [all/HR@10, all/NDCG@10, all/HR@20, all/NDCG@20]
    variants:
      sasrec: [train.objective=next_item]
      sracl-text: [profiles.backend=text]
      gru4rec: [train.backbone=gru4rec, train.objective=next_item]
      gru4rec-sracl: [train.backbone=gru4rec]
    reference:                       # optional: published numbers shown beside ours
      sracl-text: {all/HR@10: 0.0924}
    compare_to:                      # optional: measured against another variant instead
      gru4rec-sracl: gru4rec

Every variant x seed is one pipeline run with the grid's overrides, then the
variant's, then ``train.seed=<seed>``. Each is validated before anything runs,
so a typo in the last variant fails in seconds, not after hours of grid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError, field_validator, model_validator

from sracl_core.config_base import StrictModel
from sracl_core.errors import ConfigError
from sracl_core.yaml_files import load_yaml_file

DEFAULT_METRICS = ["all/HR@10", "all/NDCG@10", "all/HR@20", "all/NDCG@20"]


RUNNERS = ("local", "ray")
"""Where a grid's train runs go: worker processes on this machine, or prefect-ray's task
runner (``sracl experiment --runner``); here, so the CLI checks it before importing Prefect."""


Seed = Annotated[int, Field(strict=True, ge=0, lt=2**63)]
"""What torch's generators take; strict, so ``true`` is not read as seed 1."""


PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
"""A grid's or a variant's name: it names folders, runs, MLflow tags and table rows."""


def _no_seed(overrides: list[str], where: str) -> None:
    for override in overrides:
        if override.partition("=")[0].strip() == "train.seed":
            raise ValueError(f"{where}: {override!r} sets the seed, which the grid's seeds "
                             "set for every run")


class GridConfig(StrictModel):
    """What to run and how to compare it."""

    name: str = Field(pattern=rf"^{PLAIN_NAME.pattern}$",
                      description="the MLflow experiment and the results folder")
    baseline: str = Field(description="the variant gains and p-values are measured against")
    seeds: list[Seed] = Field(min_length=1, description="training seeds (train.seed)")
    metrics: list[str] = Field(DEFAULT_METRICS, min_length=1,
                               description="test metrics of the evaluate stage to report")
    overrides: list[str] = Field([], description="applied to every run, before the variant's")
    variants: dict[str, list[str]] = Field(min_length=1, description="name -> overrides")
    reference: dict[str, dict[str, float]] = Field(
        {}, description="published numbers per variant and metric, shown beside ours")
    compare_to: dict[str, str] = Field(
        {}, description="variant -> the variant its gain and p are measured against instead "
                        "of the baseline (a GRU4Rec + SRA-CL row against GRU4Rec)")

    @field_validator("variants")
    @classmethod
    def _plain_variants(cls, variants: dict[str, list[str]]) -> dict[str, list[str]]:
        """A variant names runs (``variant/seed-N``), MLflow tags and table rows: no spaces,
        slashes or pipes; and ``seeds`` alone sets the seed, or a variant's would be lost."""
        for name, overrides in variants.items():
            if not PLAIN_NAME.fullmatch(name):
                raise ValueError(f"variant {name!r}: expected letters, digits, '_', '.' or '-' "
                                 "(it names runs, MLflow tags and table rows)")
            _no_seed(overrides, f"variant {name!r}")
        return variants

    @field_validator("overrides")
    @classmethod
    def _no_seed_override(cls, overrides: list[str]) -> list[str]:
        _no_seed(overrides, "overrides")
        return overrides

    @field_validator("seeds")
    @classmethod
    def _distinct(cls, seeds: list[int]) -> list[int]:
        if len(set(seeds)) != len(seeds):
            raise ValueError(f"seeds must be distinct, got {seeds}")
        return seeds

    @model_validator(mode="after")
    def _known_names(self) -> GridConfig:
        if self.baseline not in self.variants:
            raise ValueError(f"baseline {self.baseline!r} is not a variant; variants: "
                             f"{', '.join(self.variants)}")
        unknown = sorted(set(self.reference) - set(self.variants))
        if unknown:
            raise ValueError(f"reference names unknown variants {unknown}")
        for variant, against in self.compare_to.items():
            if variant not in self.variants or against not in self.variants:
                raise ValueError(f"compare_to {variant}: {against}: both must be variants; "
                                 f"variants: {', '.join(self.variants)}")
            if variant == against:
                raise ValueError(f"compare_to {variant}: compared with itself; expected "
                                 "another variant")
        for name, numbers in self.reference.items():
            unreported = sorted(set(numbers) - set(self.metrics))
            if unreported:
                raise ValueError(f"reference {name!r} gives {unreported}, which are not among "
                                 f"the grid's metrics {self.metrics}")
        return self


@dataclass(frozen=True)
class GridRun:
    """One pipeline run of the grid."""

    variant: str
    seed: int
    overrides: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.variant}/seed-{self.seed}"


def load_grid(path: str | Path) -> GridConfig:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: " + ("a folder; expected a grid YAML file" if path.is_dir()
                                         else "grid file not found"))
    raw = load_yaml_file(path, "grid") or {}
    try:
        return GridConfig.model_validate(raw)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in issue['loc']) or 'grid'}: "
            + (str(issue["ctx"]["error"]) if issue["type"] == "value_error" else issue["msg"])
            for issue in error.errors())
        raise ConfigError(f"{path}: {problems}") from None


def grid_runs(grid: GridConfig, extra: list[str] | tuple[str, ...] = ()) -> list[GridRun]:
    """Runs in an order that makes each finished prefix a reportable result: every variant of
    the first seed, then the next seed."""
    return [GridRun(variant, seed, (*extra, *grid.overrides, *overrides, f"train.seed={seed}"))
            for seed in grid.seeds for variant, overrides in grid.variants.items()]


def grid_origins(grid: GridConfig, path: str | Path, run: GridRun) -> dict[str, str]:
    """Where each override of a run was written, for config errors: the grid's own list, the
    variant's, or its seeds (the rest came from the command line)."""
    origins = {override: f"{path}, overrides" for override in grid.overrides}
    origins.update({override: f"{path}, variant {run.variant!r}"
                    for override in grid.variants[run.variant]})
    origins[f"train.seed={run.seed}"] = f"{path}, seeds"
    return origins


def check_grid_metrics(grid: GridConfig, path: str | Path, run: GridRun,
                       computed: list[str]) -> None:
    """The grid's metrics are among those the run's evaluate stage writes (before, a typo
    surfaced after training as a table of nan)."""
    unknown = [metric for metric in grid.metrics if metric not in computed]
    if unknown:
        raise ConfigError(f"{path}: metrics: {', '.join(unknown)} not computed by the evaluate "
                          f"stage of {run.label}; it computes {', '.join(computed)}")


def select_variants(grid: GridConfig, names: list[str] | None) -> GridConfig:
    """The grid cut to the named variants, its baseline and their compare_to variants always
    kept (the table's gains need them): part of a grid runs now, e.g. what the machine can
    compute, the rest later."""
    if not names:
        return grid
    unknown = [name for name in names if name not in grid.variants]
    if unknown:
        raise ConfigError(f"--variant {', '.join(unknown)}: not in grid {grid.name!r}; "
                          f"variants: {', '.join(grid.variants)}")
    needed = {*names, grid.baseline, *(grid.compare_to[name] for name in names
                                       if name in grid.compare_to)}
    kept = [name for name in grid.variants if name in needed]
    return grid.model_copy(update={
        "variants": {name: grid.variants[name] for name in kept},
        "reference": {name: value for name, value in grid.reference.items() if name in kept},
        # a target kept only as another's target keeps no comparison of its own whose other
        # end is gone (compare_to {c: b, b: d} with --variant c: b is compared with the
        # baseline, as any variant without an entry)
        "compare_to": {name: value for name, value in grid.compare_to.items()
                       if name in kept and value in kept}})
