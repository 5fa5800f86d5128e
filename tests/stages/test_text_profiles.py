"""``profiles.backend: text`` through the stages: no LLM, the LLM path's tables, preflight."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from sracl_core.config import load_config
from sracl_core.errors import ConfigError
from sracl_core.preflight import check_config
from sracl_core.semantic.profiles import ITEM_PROFILE_SCHEMA, USER_PROFILE_SCHEMA
from sracl_core.stages.runner import run_stage

TEXT = ["profiles.backend=text", "neighbours.k=2"]
SEMANTIC_STAGES = ("ingest", "prompts", "profiles", "embeddings", "neighbours")


@pytest.fixture
def no_llm(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to create an LLM backend fails the test."""

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("the text backend created an LLM backend")

    monkeypatch.setattr("sracl_core.stages.profiles.LazyBackend", refuse)
    monkeypatch.setattr("sracl_core.semantic.backends.base.create_backend", refuse)


def _run(config) -> dict[str, Path]:
    return {stage: Path(run_stage(config, stage).path) for stage in SEMANTIC_STAGES}


def _table(folder: Path, name: str) -> pl.DataFrame:
    return pl.read_parquet(folder / f"{name}.parquet")


def test_text_backend_runs_ingest_to_neighbours_without_an_llm(tiny_config, no_llm):
    vllm_before = "vllm" in sys.modules
    config = load_config(tiny_config, TEXT)
    paths = _run(config)
    items = _table(paths["profiles"], "item_profiles")
    users = _table(paths["profiles"], "user_profiles")
    assert items.schema == pl.Schema(ITEM_PROFILE_SCHEMA)
    assert users.schema == pl.Schema(USER_PROFILE_SCHEMA)
    assert items["text"].to_list() == [f"Item number {i}" for i in range(1, 6)]
    # tiny sequences {1: [1, 2, 3, 4], 2: [2, 3, 4, 5, 1], 3: [5, 4, 3]}: train = all but 2
    assert dict(users.select("user", "text").iter_rows()) == {
        1: "Item number 2; Item number 1", 2: "Item number 4; Item number 3; Item number 2",
        3: "Item number 5"}
    assert not items["generated"].any() and not users["parse_fallback"].any()
    stats = json.loads((paths["profiles"] / "manifest.json").read_text())["stats"]
    assert stats == {"backend": "text", "item_profiles": 5, "user_profiles": 3}
    neighbours = _table(paths["neighbours"], "item_neighbours")
    assert neighbours["neighbours"].list.len().to_list() == [2] * 5
    assert _table(paths["neighbours"], "user_neighbours").height == 3
    if not vllm_before:
        assert "vllm" not in sys.modules

    from flows.neighbour_lists import item_neighbours

    view = item_neighbours(config, 3)
    assert view.anchor.detail == "Item number 3" and len(view.neighbours) == 2


def test_prompts_stage_writes_item_texts_and_profile_items(tiny_config):
    config = load_config(tiny_config, [*TEXT, "prompts.granularity=prefix"])
    run_stage(config, "ingest")
    outcome = Path(run_stage(config, "prompts").path)
    texts = _table(outcome, "item_texts")
    assert texts.columns == ["item", "name", "text"] and texts.height == 5
    prompts = _table(outcome, "user_prompts")
    samples = _table(Path(run_stage(config, "ingest").path), "train_samples")
    prefixes = dict(samples.select("sample", "prefix").iter_rows())
    assert all(items == prefixes[sample]
               for sample, items in prompts.select("sample", "items").iter_rows())
    manifest = json.loads((outcome / "manifest.json").read_text())
    assert {"item_texts", "item_prompts", "user_prompts"} <= set(manifest["tables"])


def test_items_without_any_text_are_named_by_their_id(make_config, no_llm):
    path = make_config({1: [1, 2, 3, 4], 2: [2, 3, 4, 1], 3: [4, 3, 2, 1]}, titles=None)
    config = load_config(path, TEXT)
    paths = _run(config)
    items = _table(paths["profiles"], "item_profiles")
    originals = dict(_table(paths["ingest"], "items").select("item", "original_id").iter_rows())
    assert items["text"].to_list() == [f"item {originals[i]}" for i in items["item"]]
    users = dict(_table(paths["profiles"], "user_profiles").select("user", "text").iter_rows())
    assert users[1] == f"item {originals[2]}; item {originals[1]}"


def test_text_backend_has_its_own_profiles_fingerprint_and_shares_the_prompts(tiny_config):
    from sracl_core.stages.graph import stage_fingerprints

    text, llm = (stage_fingerprints(load_config(tiny_config, overrides))
                 for overrides in (TEXT, ["neighbours.k=2"]))
    assert text["prompts"] == llm["prompts"] and text["profiles"] != llm["profiles"]


def test_preflight_and_status_accept_the_text_backend(tiny_config):
    from flows.cli import app

    check_config(load_config(tiny_config, TEXT), tiny_config)
    with pytest.raises(ConfigError, match=r"profiles.backend: unknown name 'txt'.*text"):
        load_config(tiny_config, ["profiles.backend=txt"])
    result = CliRunner().invoke(app, ["status", "--config", str(tiny_config), "--set",
                                      "profiles.backend=text"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "profiles" in result.output and "unknown name" not in result.output


@pytest.mark.parametrize("titles", [True, False], ids=["with-titles", "no-item-text"])
def test_profiles_of_a_dataset_without_item_text_say_they_compare_ids(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, titles: bool):
    """Sports ships no item text: its 'semantic' neighbours would be item-id look-alikes
    ('item 12' beside 'item 120'); the warning points to co-occurrence retrieval."""
    from tests.conftest import write_config, write_sasrec_dataset

    sequences = {1: [1, 2, 3, 4], 2: [2, 3, 4, 1], 3: [4, 3, 2, 1]}
    interactions, items = write_sasrec_dataset(
        tmp_path / "data", sequences, {i: f"Item number {i}" for i in range(1, 5)}
        if titles else None)
    config = load_config(write_config(tmp_path / "config.yaml", interactions, items), TEXT)
    for stage in ("ingest", "prompts"):
        run_stage(config, stage)
    with caplog.at_level("WARNING", logger="sracl_core"):
        run_stage(config, "profiles")
    told = [r.getMessage() for r in caplog.records if "no item has text" in r.getMessage()]
    assert len(told) == (not titles)
