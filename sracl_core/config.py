"""The pipeline config: one YAML file per dataset, one section per stage.

Relative paths in a config file are read from the config file's folder, so a
config means the same thing wherever ``sracl`` is started. ``--set key=value``
overrides use dotted keys and YAML values (``--set train.objective.alpha=0.05``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

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
        if not isinstance(child, dict):
            prefix = ".".join(parts[: depth + 1])
            raise ConfigError(f"override {override!r}: {prefix} is a value, not a section")
        node = child
    node[parts[-1]] = value


def format_validation_error(error: ValidationError, source: str) -> str:
    lines = [f"{source}: invalid config"]
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "<top level>"
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "no such key"
            allowed = _allowed_keys(item["loc"][:-1])
            if allowed:
                message += f" (allowed: {', '.join(allowed)})"
        elif item["type"] == "missing":
            message = "required key is missing"
        else:
            message += f" (got {item.get('input')!r})"
        lines.append(f"  {key}: {message}")
    return "\n".join(lines)


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys a section accepts, found by walking the model along the error location."""
    model: Any = PipelineConfig
    for part in loc:
        fields = getattr(model, "model_fields", None)
        if fields is None or part not in fields:
            return []
        annotation = fields[part].annotation
        model = annotation if hasattr(annotation, "model_fields") else None
        if model is None:
            return []
    return sorted(getattr(model, "model_fields", {}))


def dump_config(config: PipelineConfig) -> str:
    """The resolved config as YAML (paths absolute), for manifests and MLflow."""
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)
