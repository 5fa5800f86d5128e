"""Model names checked on load: kind, existence and the encoder's token limit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sracl_core.config import PipelineConfig
from sracl_core.semantic.model_checks import model_problems, token_limit

BASE = {"dataset": "d", "data": {"source": {"format": "sasrec", "interactions": "x.txt"}}}


def problems(**sections: object) -> list[str]:
    return model_problems(PipelineConfig.model_validate({**BASE, **sections}))


def test_the_embedded_defaults_pass_and_a_served_model_name_is_not_a_path() -> None:
    assert problems() == []
    assert problems(profiles={"backend": "openai", "model": "/served/name"}) == []
    assert problems(profiles={"backend": "text"}) == []


@pytest.mark.parametrize(("sections", "expected"), [
    ({"embeddings": {"model": "embedded:smollm2-135m-instruct"}},
     "embeddings.model: an embedded LLM 'embedded:smollm2-135m-instruct'; expected one of: "
     "embedded:all-minilm-l6-v2"),
    ({"profiles": {"model": "embedded:all-minilm-l6-v2"}},
     "profiles.model: an embedded text encoder 'embedded:all-minilm-l6-v2'; expected one of: "
     "embedded:smollm2-135m-instruct"),
    ({"embeddings": {"model": "embedded:nope"}},
     "embeddings.model: unknown name 'embedded:nope'; expected one of: "
     "embedded:all-minilm-l6-v2"),
    ({"profiles": {"model": "/no/such/llm"}},
     "profiles.model: no such model folder /no/such/llm; expected a local model folder, a hub "
     "id (org/name) or one of: embedded:smollm2-135m-instruct"),
    ({"embeddings": {"max_length": 10_000}},
     "embeddings.max_length: expected at most 512 tokens, the most embedded:all-minilm-l6-v2 "
     "reads (its positions), got 10000"),
])
def test_a_wrong_model_is_named_with_what_was_expected(sections: dict, expected: str) -> None:
    assert problems(**sections) == [expected]


def test_a_hub_id_is_left_to_the_loader() -> None:
    assert problems(embeddings={"model": "sentence-transformers/all-MiniLM-L6-v2"}) == []


def test_a_local_encoder_folder_is_checked_against_its_own_limit(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"max_position_embeddings": 128}))
    assert token_limit(tmp_path) == 128
    assert problems(embeddings={"model": str(tmp_path), "max_length": 200}) == [
        f"embeddings.max_length: expected at most 128 tokens, the most {tmp_path} reads (its "
        "positions), got 200"]
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"model_max_length": 1e30}))
    assert token_limit(tmp_path) == 128  # an unbounded tokenizer defers to the positions
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"model_max_length": 96}))
    assert token_limit(tmp_path) == 96
    assert token_limit(tmp_path / "missing") is None
