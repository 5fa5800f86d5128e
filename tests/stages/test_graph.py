from pathlib import Path

import pytest
import torch

from sracl_core.config import load_config
from sracl_core.errors import ConfigError, StageInputMissing
from sracl_core.stages.graph import (
    STAGE_ORDER,
    check_selection,
    downstream_of,
    stage_fingerprints,
    upstream_of,
)
from sracl_core.stages.runner import run_stage


def changed_stages(config_path: Path, override: str) -> set[str]:
    before = stage_fingerprints(load_config(config_path))
    after = stage_fingerprints(load_config(config_path, [override]))
    return {stage for stage in STAGE_ORDER if before[stage] != after[stage]}


def test_a_change_invalidates_its_stage_and_everything_after_it_only(tiny_config: Path):
    assert changed_stages(tiny_config, "train.objective.alpha=0.05") == {"train", "evaluate"}
    assert changed_stages(tiny_config, "evaluate.ks=[1,5]") == {"evaluate"}
    assert changed_stages(tiny_config, "profiles.model=some/other-llm") == {
        "profiles", "embeddings", "neighbours", "train", "evaluate"}
    assert changed_stages(tiny_config, "neighbours.k=5") == {"neighbours", "train", "evaluate"}
    assert changed_stages(tiny_config, "data.max_len=10") == set(STAGE_ORDER)
    assert changed_stages(tiny_config, "seed=1") == {"prompts", "profiles", "embeddings",
                                                     "neighbours", "train", "evaluate"}


def test_runtime_only_settings_change_nothing(tiny_config: Path):
    assert changed_stages(tiny_config, "profiles.batch_size=3") == set()
    assert changed_stages(tiny_config, "train.eval_batch_size=7") == set()


def test_changing_the_input_file_content_invalidates_everything(tiny_config: Path):
    config = load_config(tiny_config)
    before = stage_fingerprints(config)
    with open(config.data.source.interactions, "a") as handle:
        handle.write("3 1\n")
    after = stage_fingerprints(load_config(tiny_config))
    assert all(before[stage] != after[stage] for stage in STAGE_ORDER)


def test_dependency_walks(tiny_config: Path):
    config = load_config(tiny_config)
    assert downstream_of("embeddings", config) == ["embeddings", "neighbours", "train",
                                                   "evaluate"]
    assert downstream_of("ingest", config) == list(STAGE_ORDER)
    assert downstream_of("evaluate", config) == ["evaluate"]
    assert upstream_of("train", config) == ["ingest", "prompts", "profiles", "embeddings",
                                            "neighbours"]
    assert upstream_of("ingest", config) == []


def test_plain_backbone_needs_no_llm_stages(tiny_config: Path):
    config = load_config(tiny_config, ["train.objective=next_item"])
    assert upstream_of("evaluate", config) == ["ingest", "train"]
    assert downstream_of("profiles", config) == ["profiles", "embeddings", "neighbours"]
    collaborative = load_config(tiny_config, ["neighbours.source=collaborative"])
    assert upstream_of("train", collaborative) == ["ingest", "prompts", "neighbours"]
    assert "train" not in downstream_of("profiles", collaborative)
    assert changed_stages(tiny_config, "profiles.model=x") == {"profiles", "embeddings",
                                                               "neighbours", "train", "evaluate"}


def test_each_training_seed_is_its_own_train_artifact_sharing_the_upstream(tiny_config: Path):
    from sracl_core.stages.graph import stage_fingerprints

    one, two = (stage_fingerprints(load_config(tiny_config, [f"train.seed={seed}"]))
                for seed in (1, 2))
    assert one["train"] != two["train"] and one["evaluate"] != two["evaluate"]
    assert all(one[stage] == two[stage] for stage in ("ingest", "prompts", "profiles",
                                                       "embeddings", "neighbours"))
    default = stage_fingerprints(load_config(tiny_config))
    moved = stage_fingerprints(load_config(tiny_config, ["seed=7"]))
    assert default["prompts"] != moved["prompts"] and default["train"] != moved["train"]


def test_the_device_dependent_json_mode_is_in_the_profiles_fingerprint(
        tiny_config: Path, monkeypatch: pytest.MonkeyPatch):
    config = load_config(tiny_config)  # json_mode: auto with the vllm backend
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    on_cpu = stage_fingerprints(config)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    on_gpu = stage_fingerprints(config)
    assert on_cpu["prompts"] == on_gpu["prompts"]
    assert on_cpu["profiles"] != on_gpu["profiles"]
    assert on_cpu["train"] != on_gpu["train"]  # everything downstream follows
    explicit = load_config(tiny_config, ["profiles.json_mode=none"])
    with_gpu = stage_fingerprints(explicit)["profiles"]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert stage_fingerprints(explicit)["profiles"] == with_gpu  # a set mode is the same anywhere


def test_a_selection_that_runs_nothing_or_lacks_an_input_is_refused(tiny_config: Path):
    config = load_config(tiny_config)
    with pytest.raises(ConfigError, match="--until ingest comes before --stage prompts: "
                                          "nothing would run"):
        check_selection(config, "prompts", until="ingest")
    with pytest.raises(StageInputMissing) as missing:
        check_selection(config, "prompts")
    assert "stage 'prompts' reads from stage 'ingest', which has no complete artifact" \
        in str(missing.value) and str(missing.value).endswith("(sracl run --until ingest)")
    assert check_selection(config, "ingest", downstream=True, until="prompts") == [
        "ingest", "prompts"]
    run_stage(config, "ingest")
    assert check_selection(config, "prompts") == ["prompts"]


def test_only_bf16_train_fingerprints_carry_the_cpu_bucket_padding(tiny_config: Path):
    """Padding bf16 buckets changed bf16 models alone: fp32 artifacts keep their fingerprints."""
    from sracl_core.rec.backbones.sasrec import BF16_CPU_ROW_MULTIPLE
    from sracl_core.stages.stage import seeded_section
    from sracl_core.stages.train import fingerprinted_settings

    fp32 = load_config(tiny_config, ["train.precision=fp32"])
    assert fingerprinted_settings(fp32) == seeded_section("train")(fp32)
    bf16 = fingerprinted_settings(load_config(tiny_config, ["train.precision=bf16"]))
    assert bf16["bf16_cpu_bucket_rows"] == BF16_CPU_ROW_MULTIPLE
    gru = load_config(tiny_config, ["train.precision=bf16", "train.backbone=gru4rec"])
    assert fingerprinted_settings(gru) == seeded_section("train")(gru)
    assert changed_stages(tiny_config, "train.precision=bf16") == {"train", "evaluate"}
