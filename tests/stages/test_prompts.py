"""The prompts stage on the embedded default sample (real data, no LLM needed)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from sracl_core.config import load_config
from sracl_core.stages.runner import run_stage

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def default_config(tmp_path: Path):
    def make(*overrides: str):
        return load_config(PROJECT_ROOT / "configs" / "default.yaml",
                           [f"cache_root={tmp_path}", *overrides])
    return make


def _read(outcome, name: str) -> pl.DataFrame:
    return pl.read_parquet(Path(outcome.path) / f"{name}.parquet")


@pytest.mark.parametrize("granularity", ["user", "prefix"])
def test_prompts_cover_every_sample_and_hold_no_held_out_item(default_config, granularity):
    config = default_config(f"prompts.granularity={granularity}")
    ingest = run_stage(config, "ingest")
    outcome = run_stage(config, "prompts")
    sequences, items = _read(ingest, "sequences"), _read(ingest, "items")
    samples = _read(ingest, "train_samples")
    mapping = _read(outcome, "sample_profiles")
    users = _read(outcome, "user_prompts")
    assert mapping["sample"].sort().to_list() == samples["sample"].sort().to_list()
    assert mapping["profile"].is_in(users["profile"].implode()).all()
    assert users["profile"].to_list() == list(range(users.height))
    expected_rows = sequences.height if granularity == "user" else samples.height
    assert users.height == expected_rows
    titles = dict(zip(items["item"], items["title"], strict=True))
    by_user = users.join(sequences, on="user")
    for prompt, train, valid, test in by_user.select(
            "prompt", "train", "valid", "test").iter_rows():
        for held_out in {valid, test} - set(train):
            title = titles[held_out][:40]
            if not any(title in (titles[i] or "") for i in train):
                assert title not in prompt
    manifest = json.loads((Path(outcome.path) / "manifest.json").read_text())
    assert manifest["stats"]["item_prompts"] == items.height


def test_editing_a_template_changes_the_prompts_fingerprint(default_config):
    from sracl_core.stages.graph import stage_fingerprints

    before = stage_fingerprints(default_config())
    after = stage_fingerprints(
        default_config("prompts.templates.user_instruction='Bought: {titles}'"))
    assert before["ingest"] == after["ingest"] and before["prompts"] != after["prompts"]
    assert before["profiles"] != after["profiles"]

