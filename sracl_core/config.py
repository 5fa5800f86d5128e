"""The pipeline config: one YAML file per dataset, one section per stage.

Relative paths in a config file are read from the config file's folder, so a
config means the same thing wherever ``sracl`` is started. ``--set key=value``
overrides use dotted keys and YAML values (``--set train.objective.alpha=0.05``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import Field, ValidationError, field_validator

from sracl_core.config_base import ConfigPath, StrictModel
from sracl_core.data.config import DataConfig
from sracl_core.errors import ConfigError
from sracl_core.rec.config import EvaluateConfig, TrainConfig
from sracl_core.semantic.config import (
    EmbeddingsConfig,
    NeighboursConfig,
    ProfilesConfig,
    PromptsConfig,
)
from sracl_core.tracking_config import TrackingConfig


class PipelineConfig(StrictModel):
    """Everything one pipeline run needs; each stage reads its own section."""

    dataset: str = Field(description="name of the dataset; the cache folder under cache_root")
    cache_root: ConfigPath = Field(Path("../.sracl_cache"),
                                   description="where stage artifacts live")
    seed: int = 42
    data: DataConfig
    prompts: PromptsConfig = PromptsConfig()
    profiles: ProfilesConfig = ProfilesConfig()
    embeddings: EmbeddingsConfig = EmbeddingsConfig()
    neighbours: NeighboursConfig = NeighboursConfig()
    train: TrainConfig = TrainConfig()
    evaluate: EvaluateConfig = EvaluateConfig()
    tracking: TrackingConfig = TrackingConfig()

    @field_validator("dataset")
    @classmethod
    def _dataset_is_a_folder_name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", value):
            raise ValueError("must be letters, digits, '_', '.', '-' (it names a cache folder)")
        return value


def load_config(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> PipelineConfig:
    """Read, override and validate a config; every error names the file and the key."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    for override in overrides:
        apply_override(raw, override)
    return validate_config(raw, source=str(path), base_dir=path.resolve().parent)


def validate_config(raw: dict[str, Any], *, source: str, base_dir: Path) -> PipelineConfig:
    try:
        return PipelineConfig.model_validate(raw, context={"base_dir": base_dir})
    except ValidationError as error:
        raise ConfigError(format_validation_error(error, source)) from None


def apply_override(raw: dict[str, Any], override: str) -> None:
    """Apply one ``dotted.key=value`` override in place; the value is parsed as YAML."""
    key, sep, text = override.partition("=")
    if not sep or not key.strip():
        raise ConfigError(
            f"override {override!r}: expected key=value, e.g. train.objective.alpha=0.05")
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"override {override!r}: value is not valid YAML: {error}") from None
    parts = key.strip().split(".")
    node = raw
    for depth, part in enumerate(parts[:-1]):
        child = node.setdefault(part, {})
        if isinstance(child, str) and depth > 0:  # a choice by name: train.backbone=gru4rec
            child = node[part] = {"name": child}
        if not isinstance(child, dict):
            prefix = ".".join(parts[: depth + 1])
            raise ConfigError(f"override {override!r}: {prefix} is a value, not a section")
        node = child
    node[parts[-1]] = value


def format_validation_error(error: ValidationError, source: str) -> str:
    lines = [f"{source}: invalid config"]
    for item in error.errors():
        loc, _ = _walk(item["loc"])
        key = ".".join(str(part) for part in loc) or "<top level>"
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "no such key"
            _, section = _walk(item["loc"][:-1])
            allowed = sorted(getattr(section, "model_fields", {}))
            if allowed:
                message += f" (allowed: {', '.join(allowed)})"
        elif item["type"] == "missing":
            message = "required key is missing"
        elif item["type"] == "union_tag_invalid":
            context = item.get("ctx", {})
            expected = sorted(name.strip(" '") for name
                              in str(context.get("expected_tags", "")).split(","))
            message = (f"unknown name {context.get('tag')!r}; expected one of: "
                       f"{', '.join(expected)}")
        else:
            message += f" (got {item.get('input')!r})"
        lines.append(f"  {key}: {message}")
    return "\n".join(lines)


def _choices(annotation: Any) -> dict[str, Any]:
    """The variants of a choice field (see :func:`config_base.choice`) by name, else {}."""
    variants = [arg for arg in get_args(annotation) if hasattr(arg, "model_fields")]
    return {variant.model_fields["name"].default: variant for variant in variants
            if "name" in variant.model_fields}


def _walk(loc: tuple[Any, ...]) -> tuple[tuple[Any, ...], Any]:
    """Follow an error location through the config's sections.

    Returns the key as a user writes it and the section model it ends in (None past
    a plain value). pydantic puts a choice's variant name into the location
    (``train.backbone.gru4rec.n_heads``); the written key has no such part.
    """
    kept: list[Any] = []
    model: Any = PipelineConfig
    parts = list(loc)
    while parts:
        part = parts.pop(0)
        kept.append(part)
        fields = getattr(model, "model_fields", None)
        if fields is None or part not in fields:
            return (*kept, *parts), None
        annotation = fields[part].annotation
        choices = _choices(annotation)
        if choices and parts and parts[0] in choices:
            model = choices[parts.pop(0)]
        else:
            model = annotation if hasattr(annotation, "model_fields") else None
    return tuple(kept), model


def dump_config(config: PipelineConfig) -> str:
    """The resolved config as YAML (paths absolute), for manifests and MLflow."""
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)
