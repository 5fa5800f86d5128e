"""The pipeline config: one YAML file per dataset, one section per stage.

Relative paths in a config file are read from the config file's folder, so a
config means the same thing wherever ``sracl`` is started. ``--set key=value``
overrides use dotted keys and YAML values (``--set train.objective.alpha=0.05``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from pydantic import Field, ValidationError, field_validator

from sracl_core.config_base import ConfigPath, StrictModel, runtime_field
from sracl_core.data.config import DataConfig
from sracl_core.errors import ConfigError
from sracl_core.rec.config import EvaluateConfig, TrainConfig
from sracl_core.registry import ChoiceNameError, Registry, registry_of
from sracl_core.semantic.config import (
    ENCODERS,
    LLM_BACKENDS,
    EmbeddingsConfig,
    NeighboursConfig,
    ProfilesConfig,
    PromptsConfig,
    SentenceTransformersConfig,
    VllmProfilesConfig,
)
from sracl_core.yaml_files import load_yaml_file, yaml_problem


class TrackingConfig(StrictModel):
    """Where MLflow runs go and what they carry; the default is a SQLite store and an
    artifact folder beside the cache. No stage reads this section, so it never enters a
    fingerprint: pointing the pipeline at another tracking server re-runs nothing."""

    enabled: bool = runtime_field(True, "log each pipeline run to MLflow")
    uri: str | None = runtime_field(
        None, "MLflow tracking URI; None = $MLFLOW_TRACKING_URI if set, else "
              "sqlite:///<cache_root>/mlflow.db")
    artifact_location: str | None = runtime_field(
        None, "artifact root of a new experiment; None = <cache_root>/mlartifacts for a SQLite "
              "store, the server's choice otherwise")
    experiment: str = runtime_field("sracl", "MLflow experiment of `sracl run` (a grid logs "
                                             "to one named after it)")
    registered_model: str | None = runtime_field(
        None, "model registry name; None = sracl-<dataset>")
    log_model: bool = runtime_field(True, "log the best model as a pyfunc and register it")
    sample_rows: int = runtime_field(20, "rows of profiles and neighbour examples logged as "
                                         "tables", ge=1)
    top_k: int = runtime_field(20, "length of the lists the logged model returns", ge=1)

class PipelineConfig(StrictModel):
    """Everything one pipeline run needs; each stage reads its own section."""

    dataset: str = Field(description="name of the dataset; the cache folder under cache_root")
    cache_root: ConfigPath = Field(Path("../.sracl_cache"),
                                   description="where stage artifacts live")
    seed: int = Field(42, description="seed of the prompts stage (which training prefixes "
                                      "an item prompt shows) and of training unless "
                                      "train.seed is set")
    data: DataConfig
    prompts: PromptsConfig = PromptsConfig()
    profiles: LLM_BACKENDS.choice(ProfilesConfig) = Field(  # type: ignore[valid-type]
        VllmProfilesConfig(), description="profiles.backend: vllm (default), openai or text")
    embeddings: ENCODERS.choice(EmbeddingsConfig) = Field(  # type: ignore[valid-type]
        SentenceTransformersConfig(),
        description="embeddings.encoder: sentence-transformers (default) or hf-pooler")
    neighbours: NeighboursConfig = NeighboursConfig()
    train: TrainConfig = TrainConfig()
    evaluate: EvaluateConfig = EvaluateConfig()
    tracking: TrackingConfig = TrackingConfig()

    @field_validator("dataset")
    @classmethod
    def _dataset_is_a_folder_name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", value):
            raise ValueError("must be letters, digits, '_', '.', '-' (it names a cache folder)")
        if value in CACHE_ROOT_ENTRIES or value.startswith("mlflow.db"):
            raise ValueError(f"{value!r} is taken: the cache root keeps its "
                             f"{', '.join(sorted(CACHE_ROOT_ENTRIES))} and mlflow.db there")
        return value


CACHE_ROOT_ENTRIES = frozenset({"last_runs", "llm_cache", "logs", "mlartifacts", "prefect"})
"""What the cache root holds beside one folder per dataset, so no dataset may be named so."""


def load_config(path: str | Path, overrides: list[str] | tuple[str, ...] = (),
                origins: Mapping[str, str] | None = None) -> PipelineConfig:
    """Read, override and validate a config; every error names the file and the key, and an
    override's error where it came from (``origins``: override -> where it was written;
    by default ``--set``)."""
    path = Path(path)
    if path.is_dir():
        found = ", ".join(sorted(child.name for child in path.iterdir()
                                 if child.suffix in (".yaml", ".yml"))) or "none"
        raise ConfigError(f"{path}: is a folder; expected a YAML config file (YAML files "
                          f"there: {found})")
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    raw = load_yaml_file(path, "config") or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    for override in overrides:
        try:
            apply_override(raw, override)
        except ConfigError as error:
            if origins and override in origins:
                raise ConfigError(f"{origins[override]}: {error}") from None
            raise
    return validate_config(raw, source=str(path), base_dir=path.resolve().parent,
                           overrides=overrides, origins=origins)


def validate_config(raw: dict[str, Any], *, source: str, base_dir: Path,
                    overrides: list[str] | tuple[str, ...] = (),
                    origins: Mapping[str, str] | None = None) -> PipelineConfig:
    try:
        return PipelineConfig.model_validate(raw, context={"base_dir": base_dir})
    except ValidationError as error:
        raise ConfigError(format_validation_error(error, source, raw, overrides,
                                                  origins)) from None


def apply_override(raw: dict[str, Any], override: str) -> None:
    """Apply one ``dotted.key=value`` override in place; the value is parsed as YAML."""
    key, sep, text = override.partition("=")
    if not sep or not key.strip():
        raise ConfigError(
            f"override {override!r}: expected key=value, e.g. train.objective.alpha=0.05")
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"override {override!r}: value is not valid YAML: "
                          f"{yaml_problem(error)}") from None
    parts = key.strip().split(".")
    node = raw
    for depth, part in enumerate(parts[:-1]):
        child = node.setdefault(part, {})
        registry = _walk(tuple(parts[: depth + 1]), raw).registry
        if isinstance(child, str) and registry is not None:  # a choice by name: train.backbone=x
            child = node[part] = {registry.key: child}
        if not isinstance(child, dict):
            prefix = ".".join(parts[: depth + 1])
            raise ConfigError(f"override {override!r}: {prefix} is a value, not a section")
        node = child
    node[parts[-1]] = value


def format_validation_error(error: ValidationError, source: str,
                            raw: dict[str, Any] | None = None,
                            overrides: list[str] | tuple[str, ...] = (),
                            origins: Mapping[str, str] | None = None) -> str:
    """One line a problem, each naming its key; a key set on the command line says so, since
    the file it is reported against does not hold the bad value."""
    lines = [f"{source}: invalid config"]
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "<top level>"
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "no such key"
            section = _walk(item["loc"][:-1], raw or {}).model
            allowed = sorted(getattr(section, "model_fields", {}))
            if allowed:
                message += f" (allowed: {', '.join(allowed)})"
        elif item["type"] == "missing":
            message = "required key is missing"
        elif item["type"] == "value_error":
            message = str(item.get("ctx", {}).get("error", message))
            registry = _walk(item["loc"], raw or {}).registry
            named = isinstance(item.get("ctx", {}).get("error"), ChoiceNameError)
            if named and registry is not None and isinstance(_raw_at(item["loc"], raw), dict):
                key = f"{key}.{registry.key}"  # a choice's section: the error is its name's
        else:
            message += f" (got {item.get('input')!r})"
        blamed = _override_of(key, overrides)
        origin = (origins or {}).get(blamed, f"--set {blamed}") if blamed else None
        lines.append(f"  {key}: {message}" + (f" (from {origin})" if origin else ""))
    return "\n".join(lines)


def _override_of(key: str, overrides: list[str] | tuple[str, ...]) -> str | None:
    """The last override that set ``key`` or a section holding it, else (for an error of a
    whole section, such as two of its keys that do not fit together) one inside it."""
    set_keys = [(override, override.partition("=")[0].strip()) for override in overrides]
    for override, set_key in reversed(set_keys):
        if key == set_key or key.startswith(set_key + "."):
            return override
    for override, set_key in reversed(set_keys):
        if set_key.startswith(key + "."):
            return override
    return None


def _raw_at(loc: tuple[Any, ...], raw: dict[str, Any] | None) -> Any:
    node: Any = raw
    for part in loc:
        node = node.get(part) if isinstance(node, dict) else None
    return node


class _Place(NamedTuple):
    model: Any
    registry: Registry[Any] | None


def _walk(loc: tuple[Any, ...], raw: dict[str, Any]) -> _Place:
    """The section model a config key ends in (None past a plain value), and the registry
    of its last part when that is a choice. A choice's variant is read from ``raw``."""
    model: Any = PipelineConfig
    node: Any = raw
    registry = None
    for part in loc:
        fields = getattr(model, "model_fields", None)
        if fields is None or part not in fields:
            return _Place(None, None)
        registry = registry_of(fields[part])
        node = node.get(part) if isinstance(node, dict) else None
        if registry is None:
            annotation = fields[part].annotation
            model = annotation if hasattr(annotation, "model_fields") else None
            continue
        name = node if isinstance(node, str) else (
            node.get(registry.key, registry.default) if isinstance(node, dict) else None)
        try:
            model = registry.config(name) if isinstance(name, str) else None
        except ValueError:
            model = None
    return _Place(model, registry)


def dump_config(config: PipelineConfig) -> str:
    """The resolved config as YAML (paths absolute), for manifests and MLflow."""
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)
