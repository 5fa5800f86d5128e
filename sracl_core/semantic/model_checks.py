"""The models a config names, checked before any work: they exist, and fit their settings.

Found when a stage loads them, a missing model folder failed 20-50 s into a run with a
loader's message that named no key (``Repo id must be in the form ...``), an embedded
LLM was accepted as the text encoder, and an ``embeddings.max_length`` past the
encoder's positions crashed at the first long text. Names are checked with the rest
of the config; folders only for the stages a run computes here (a cached stage, or a
collaborative run, loads no model). Hub ids are left to the loader: whether one
downloads depends on the network and the local hub cache, not the config.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

from sracl_core.semantic import models

if TYPE_CHECKING:
    from sracl_core.config import PipelineConfig

_KIND_NAMES = {"llm": "LLM", "encoder": "text encoder"}
POSITION_OFFSETS = {"roberta": 2, "xlm-roberta": 2, "camembert": 2}
"""Position slots these architectures reserve (padding), which no token can use."""


def model_name_problems(config: PipelineConfig) -> list[str]:
    """Embedded names that do not exist, or name a model of the other kind."""
    return [f"{key}: {problem} {name!r}; expected one of: {', '.join(_embedded(kind))}"
            for key, name, kind in _named_models(config, ("profiles", "embeddings"))
            if (problem := _name_problem(name, kind))]


def _name_problem(name: str, kind: str) -> str | None:
    if not models.is_embedded(name):
        return None
    entry = models.REGISTRY.get(name.removeprefix(models.EMBEDDED_PREFIX))
    if entry is None:
        return "unknown name"
    return None if entry.kind == kind else f"an embedded {_KIND_NAMES[entry.kind]}"


def model_folder_problems(config: PipelineConfig, stages: Collection[str]) -> list[str]:
    """For the models ``stages`` load: the local folder exists (an embedded model's package
    is installed), and the encoder reads ``embeddings.max_length`` tokens."""
    problems = []
    for key, name, kind in _named_models(config, stages):
        if _name_problem(name, kind):
            continue  # named by model_name_problems
        try:
            folder = _folder(name)
        except (FileNotFoundError, models.ModelNotAvailable) as error:
            problems.append(f"{key}: {error}; expected a local model folder, a hub id "
                            f"(org/name) or one of: {', '.join(_embedded(kind))}")
            continue
        limit = token_limit(folder) if folder is not None and kind == "encoder" else None
        asked = config.embeddings.max_length if kind == "encoder" else 0
        if limit is not None and asked > limit:
            problems.append(f"embeddings.max_length: expected at most {limit} tokens, the "
                            f"most {name} reads (its positions), got {asked}")
    return problems


def _named_models(config: PipelineConfig, stages: Collection[str]
                  ) -> list[tuple[str, str, str]]:
    """(key, name, kind) of each model these stages load. An OpenAI-compatible endpoint's
    model is the server's name for it, not something to load."""
    named = []
    if "profiles" in stages and getattr(config.profiles, "backend", None) == "vllm":
        named.append(("profiles.model", config.profiles.model, "llm"))
    if "embeddings" in stages and hasattr(config.embeddings, "model"):
        named.append(("embeddings.model", config.embeddings.model, "encoder"))
    return named


def _embedded(kind: str) -> list[str]:
    return [models.EMBEDDED_PREFIX + entry.name for entry in models.REGISTRY.values()
            if entry.kind == kind]


def _folder(name: str) -> Path | None:
    """The model's local folder (None for a hub id, or an LLM prepared on first use)."""
    if models.is_embedded(name):
        return models.installed_source(name)
    if models.is_local_path(name):
        folder = Path(models.resolve(name))
        if not folder.is_dir():
            where = "" if str(folder.absolute()) == name else f" ({folder.absolute()})"
            raise FileNotFoundError(f"no such model folder {name}{where}")
        return folder
    return None


def token_limit(folder: Path) -> int | None:
    """The most tokens the model reads: its position embeddings, less the slots its
    architecture reserves; None when its config does not say. (A tokenizer's
    ``model_max_length`` is only a default, which encoding past works.)"""
    config = _json(folder / "config.json")
    positions = config.get("max_position_embeddings")
    if not isinstance(positions, int) or positions <= 0:
        return None
    return positions - POSITION_OFFSETS.get(str(config.get("model_type")), 0)


def _json(path: Path) -> dict:
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}
