"""The models a config names, checked before any work: they exist, and fit their settings.

Found when a stage loads them, a missing model folder failed 20-50 s into a run with a
loader's message that named no key (``Repo id must be in the form ...``), an embedded
LLM was accepted as the text encoder, and an ``embeddings.max_length`` past the
encoder's positions crashed at the first long text. Hub ids are left to the loader:
whether one downloads depends on the network and the local hub cache, not the config.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from sracl_core.semantic import models

if TYPE_CHECKING:
    from sracl_core.config import PipelineConfig

_KIND_NAMES = {"llm": "LLM", "encoder": "text encoder"}
_UNBOUNDED = 1_000_000
"""Tokenizers without a limit store a huge ``model_max_length``; below this it is real."""


def model_problems(config: PipelineConfig) -> list[str]:
    """One line per problem, each naming its key and what it expects."""
    problems = []
    for key, name, kind in _named_models(config):
        folder, problem = _folder(key, name, kind)
        if problem:
            problems.append(problem)
        elif folder is not None and kind == "encoder":
            limit = token_limit(folder)
            asked = config.embeddings.max_length
            if limit is not None and asked > limit:
                problems.append(f"embeddings.max_length: expected at most {limit} tokens, the "
                                f"most {name} reads (its positions), got {asked}")
    return problems


def _named_models(config: PipelineConfig) -> list[tuple[str, str, str]]:
    """(key, name, kind) of each model a stage will load on this machine. An OpenAI-
    compatible endpoint's model is the server's name for it, not something to load."""
    named = []
    if getattr(config.profiles, "backend", None) == "vllm":
        named.append(("profiles.model", config.profiles.model, "llm"))
    if hasattr(config.embeddings, "model"):
        named.append(("embeddings.model", config.embeddings.model, "encoder"))
    return named


def _folder(key: str, name: str, kind: str) -> tuple[Path | None, str | None]:
    """The model's local folder if it has one (None for a hub id), or the problem."""
    known = [models.EMBEDDED_PREFIX + entry.name for entry in models.REGISTRY.values()
             if entry.kind == kind]
    choices = f"a local model folder, a hub id (org/name) or one of: {', '.join(known)}"
    if models.is_embedded(name):
        entry = models.REGISTRY.get(name.removeprefix(models.EMBEDDED_PREFIX))
        if entry is None or entry.kind != kind:
            what = "unknown name" if entry is None else f"an embedded {_KIND_NAMES[entry.kind]}"
            return None, f"{key}: {what} {name!r}; expected one of: {', '.join(known)}"
        if entry.convert is not None:
            return None, None  # prepared on first use; its limits are its own
        try:
            return models.prepare(name), None
        except models.ModelNotAvailable as error:
            return None, f"{key}: {error}"
    if name.startswith(("/", ".", "~")):
        folder = Path(name).expanduser()
        if not folder.is_dir():
            return None, f"{key}: no such model folder {folder}; expected {choices}"
        return folder, None
    return None, None


def token_limit(folder: Path) -> int | None:
    """The most tokens the model reads: its tokenizer's ``model_max_length`` where that
    is real, else its ``max_position_embeddings``; None when the folder says neither."""
    tokenizer = _json(folder / "tokenizer_config.json").get("model_max_length")
    if isinstance(tokenizer, int | float) and 0 < tokenizer < _UNBOUNDED:
        return int(tokenizer)
    positions = _json(folder / "config.json").get("max_position_embeddings")
    return positions if isinstance(positions, int) and positions > 0 else None


def _json(path: Path) -> dict:
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}
