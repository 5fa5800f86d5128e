"""The profiles stage: response cache, resume, retries and fallbacks.

Most tests use a scripted fake backend (named so), because they need an
engine that dies after a given batch or answers garbage on purpose, which a
real engine cannot be made to do deterministically; the real vLLM engine runs
the stage in the slow test at the end.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from sracl_core.config import load_config
from sracl_core.semantic.cache import ResponseCache
from sracl_core.stages.graph import stage_fingerprints, store_for
from sracl_core.stages.profiles import llm_cache_dir
from sracl_core.stages.runner import run_stage
from tests.semantic.fakes import Interrupted, ScriptedFakeBackend, use_scripted_fake


@pytest.fixture
def fake(tiny_config: Path) -> type[ScriptedFakeBackend]:
    return use_scripted_fake()


def _config(path: Path, *overrides: str):
    return load_config(path, ["profiles.backend=scripted-fake", *overrides])


def _prepare(config) -> None:
    for stage in ("ingest", "prompts"):
        run_stage(config, stage)


def _generated(fake) -> int:
    return sum(len(batch) for batch in fake.calls)


def test_a_killed_stage_resumes_with_only_the_missing_prompts_fake_backend(tiny_config, fake):
    config = _config(tiny_config, "profiles.batch_size=3")
    _prepare(config)
    fake.die_after_batches = 1
    with pytest.raises(Interrupted):
        run_stage(config, "profiles")
    store = store_for(config)
    assert not store.is_complete("profiles", stage_fingerprints(config)["profiles"])
    assert len(ResponseCache(llm_cache_dir(config))) == 3
    fake.die_after_batches = None
    outcome = run_stage(config, "profiles")
    total = 5 + 3  # five items, three users in the tiny dataset
    assert _generated(fake) == total
    items = pl.read_parquet(Path(outcome.path) / "item_profiles.parquet")
    users = pl.read_parquet(Path(outcome.path) / "user_profiles.parquet")
    assert items.height == 5 and users.height == 3
    assert items["summary"].to_list() == ["A useful product."] * 5
    assert all(text.startswith("Item number") for text in items["text"])
    assert not items["parse_fallback"].any()
    manifest = json.loads((Path(outcome.path) / "manifest.json").read_text())
    assert manifest["stats"]["llm_cached"] == 3 and manifest["stats"]["llm_generated"] == 5


def test_new_users_only_generate_their_new_prompts_fake_backend(tmp_path, fake):
    from tests.conftest import write_config, write_sasrec_dataset

    titles = {i: f"Item number {i}" for i in range(1, 8)}
    sequences = {1: [1, 2, 3, 4], 2: [2, 3, 4, 5, 1], 3: [5, 4, 3]}
    interactions, items = write_sasrec_dataset(tmp_path / "data", sequences, titles)
    path = write_config(tmp_path / "config.yaml", interactions, items)
    config = _config(path)
    _prepare(config)
    run_stage(config, "profiles")
    first = _generated(fake)
    sequences[4] = [6, 7, 6, 7]
    write_sasrec_dataset(tmp_path / "data", sequences, titles)
    config = _config(path)
    _prepare(config)
    run_stage(config, "profiles")
    new = [request.prompt for batch in fake.calls for request in batch][first:]
    assert len(new) == 3  # the new user, and items 6 and 7 that now have a training sequence
    assert sum("Chosen products: " in prompt for prompt in new) == 1


def test_invalid_answers_are_retried_then_fall_back_and_are_counted_fake_backend(tiny_config,
                                                                                fake):
    fake.bad_prompts = {"Title: Item number 2"}
    config = _config(tiny_config, "profiles.max_attempts=3")
    _prepare(config)
    outcome = run_stage(config, "profiles")
    retries = [request for batch in fake.calls[1:] for request in batch]
    assert len(fake.calls) == 3 and len(retries) == 2
    assert all(r.temperature == 0.7 and r.seed in (2, 3) for r in retries)
    items = pl.read_parquet(Path(outcome.path) / "item_profiles.parquet")
    flagged = items.filter(pl.col("parse_fallback"))
    assert flagged["item"].to_list() == [2]
    assert flagged["summary"].item() == "no json here, sorry"
    stats = json.loads((Path(outcome.path) / "manifest.json").read_text())["stats"]
    assert stats["item_parse_fallbacks"] == 1 and stats["llm_invalid_final"] == 1
    failures = ResponseCache(llm_cache_dir(config)).failures()
    assert failures.height == 3 and set(failures["status"]) == {"invalid"}


def test_backend_failures_stop_the_stage_but_keep_the_answers_fake_backend(tiny_config, fake):
    from sracl_core.semantic.generation import GenerationFailed

    fake.failing_prompts = {"Title: Item number 3"}
    config = _config(tiny_config, "profiles.max_attempts=2")
    _prepare(config)
    with pytest.raises(GenerationFailed, match="failed on 1 prompts"):
        run_stage(config, "profiles")
    assert len(ResponseCache(llm_cache_dir(config))) == 7
    fake.failing_prompts = set()
    run_stage(config, "profiles")
    assert len(fake.calls[-1]) == 1


@pytest.mark.slow
def test_real_vllm_engine_runs_the_semantic_stages_end_to_end(tiny_config):
    config = load_config(tiny_config, ["profiles.max_tokens_item=48",
                                       "profiles.max_tokens_user=32", "neighbours.k=2",
                                       "profiles.vllm.cpu_kv_cache_gib=0.5",
                                       "profiles.vllm.max_model_len=1024"])
    outcomes = {stage: Path(run_stage(config, stage).path)
                for stage in ("ingest", "prompts", "profiles", "embeddings", "neighbours")}
    items = pl.read_parquet(outcomes["profiles"] / "item_profiles.parquet")
    users = pl.read_parquet(outcomes["profiles"] / "user_profiles.parquet")
    assert items.height == 5 and users.height == 3
    assert items["generated"].all() and (items["summary"].str.len_chars() > 0).all()
    assert (users["text"].str.len_chars() > 0).all()
    stats = json.loads((outcomes["profiles"] / "manifest.json").read_text())["stats"]
    assert stats["llm_generated"] >= 8 and stats["llm_completion_tokens"] > 0
    neighbours = pl.read_parquet(outcomes["neighbours"] / "item_neighbours.parquet")
    assert neighbours["neighbours"].list.len().to_list() == [2] * 5
    again = run_stage(load_config(tiny_config, ["profiles.max_tokens_item=48",
                                                "profiles.max_tokens_user=32"]), "profiles")
    assert again.cached


def test_answer_parsing_is_part_of_llm_profiles_fingerprint_only(tiny_config, monkeypatch):
    from sracl_core.semantic import parsing
    from sracl_core.stages import profiles
    from sracl_core.stages.graph import stage_fingerprints

    llm, text = (load_config(tiny_config, overrides) for overrides in ([],
                                                                        ["profiles.backend=text"]))
    before = stage_fingerprints(llm)["profiles"], stage_fingerprints(text)["profiles"]
    monkeypatch.setattr(profiles, "PARSER_VERSION", parsing.PARSER_VERSION + 1)
    after = stage_fingerprints(llm)["profiles"], stage_fingerprints(text)["profiles"]
    assert after[0] != before[0] and after[1] == before[1]
