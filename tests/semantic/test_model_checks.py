"""Model names checked on load; model folders and token limits for the stages that load them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sracl_core.config import PipelineConfig
from sracl_core.semantic.model_checks import (
    model_folder_problems,
    model_name_problems,
    token_limit,
)

BASE = {"dataset": "d", "data": {"source": {"format": "sasrec", "interactions": "x.txt"}}}
LOADING = ("profiles", "embeddings")


def config(**sections: object) -> PipelineConfig:
    return PipelineConfig.model_validate({**BASE, **sections})


def problems(**sections: object) -> list[str]:
    resolved = config(**sections)
    return model_name_problems(resolved) + model_folder_problems(resolved, LOADING)


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
     "profiles.model: no such model folder /no/such/llm; expected a local model "
     "folder, a hub id (org/name) or one of: embedded:smollm2-135m-instruct"),
    ({"embeddings": {"max_length": 10_000}},
     "embeddings.max_length: expected at most 512 tokens, the most embedded:all-minilm-l6-v2 "
     "reads (its positions), got 10000"),
])
def test_a_wrong_model_is_named_with_what_was_expected(sections: dict, expected: str) -> None:
    assert problems(**sections) == [expected]


def test_folders_are_checked_only_for_the_stages_that_load_them() -> None:
    missing = config(embeddings={"model": "./gone"}, profiles={"model": "/no/such/llm"})
    assert model_folder_problems(missing, ["train", "evaluate"]) == []
    only_profiles = model_folder_problems(missing, ["profiles"])
    assert len(only_profiles) == 1 and only_profiles[0].startswith("profiles.model: ")
    assert model_folder_problems(missing, ["embeddings"])[0].startswith(
        f"embeddings.model: no such model folder ./gone ({Path('gone').absolute()})")


def test_a_hub_id_is_left_to_the_loader_and_a_home_path_is_expanded(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert problems(embeddings={"model": "sentence-transformers/all-MiniLM-L6-v2"}) == []
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "encoder").mkdir()
    assert problems(embeddings={"model": "~/encoder"}) == []
    assert problems(embeddings={"model": "~/elsewhere"})[0].startswith(
        f"embeddings.model: no such model folder ~/elsewhere ({tmp_path / 'elsewhere'})")


def test_the_token_limit_is_the_positions_less_what_the_architecture_reserves(
        tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"max_position_embeddings": 128}))
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"model_max_length": 64}))
    assert token_limit(tmp_path) == 128  # a tokenizer's default length is not a limit
    assert problems(embeddings={"model": str(tmp_path), "max_length": 100}) == []
    assert problems(embeddings={"model": str(tmp_path), "max_length": 200}) == [
        f"embeddings.max_length: expected at most 128 tokens, the most {tmp_path} reads (its "
        "positions), got 200"]
    (tmp_path / "config.json").write_text(json.dumps({"max_position_embeddings": 514,
                                                      "model_type": "roberta"}))
    assert token_limit(tmp_path) == 512
    assert token_limit(tmp_path / "missing") is None
