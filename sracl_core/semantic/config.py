"""Config of the semantic stages: prompts -> profiles -> embeddings -> neighbours."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from sracl_core.config_base import StrictModel, runtime_field


class PromptsConfig(StrictModel):
    """What the LLM is asked; built from training data only."""

    granularity: Literal["user", "prefix"] = Field(
        "user", description="one user profile per user (cheap) or per training prefix (paper)")
    domain: str = Field("products", description="domain phrase in the system prompts")
    max_item_sequences: int = Field(5, ge=0, description="sampled prefixes shown per item")
    sequence_titles: int = Field(11, ge=1, description="titles shown per sampled prefix")
    description_chars: int = Field(300, ge=0, description="item description cut to this length")


class ProfilesConfig(StrictModel):
    """Which LLM writes the profiles and how it samples."""

    backend: Literal["vllm", "openai"] = "vllm"
    model: str = Field("embedded:smollm2-135m-instruct",
                       description="'embedded:<name>' or a local path / hub id")
    temperature: float = Field(0.0, ge=0.0)
    max_tokens_item: int = Field(160, ge=1)
    max_tokens_user: int = Field(128, ge=1)
    batch_size: int = runtime_field(64, "prompts sent to the engine at once")


class EmbeddingsConfig(StrictModel):
    """Which text encoder embeds the profiles."""

    encoder: Literal["sentence-transformers", "hf-pooler"] = "sentence-transformers"
    model: str = "embedded:all-minilm-l6-v2"
    batch_size: int = runtime_field(64, "texts encoded at once")


class NeighboursConfig(StrictModel):
    """How semantic neighbours are retrieved."""

    k: int = Field(10, ge=1)
    index: Literal["flat", "ivf", "hnsw"] = "flat"
