"""Checks before work: choice names, input files, and settings that must fit the data."""

from pathlib import Path

import polars as pl
import pytest

from sracl_core.config import load_config
from sracl_core.errors import ConfigError
from sracl_core.preflight import (
    check_against_data,
    check_cache_root,
    check_config,
    check_devices,
    check_ingested,
    check_models,
)
from sracl_core.stages.runner import run_stage


def test_a_misspelt_backbone_is_named_with_the_valid_choices_at_load(tiny_config: Path):
    with pytest.raises(ConfigError, match=r"train\.backbone: unknown name 'sasrek'; expected "
                                          r"one of: gru4rec, sasrec"):
        load_config(tiny_config, ["train.backbone=sasrek"])


def test_every_bad_choice_is_listed_at_load_with_the_valid_names(tiny_config: Path):
    with pytest.raises(ConfigError) as raised:
        load_config(tiny_config, ["profiles.backend=vlm", "embeddings.encoder=bert",
                                  "train.objective=sasrec"])
    lines = str(raised.value).splitlines()
    assert lines[0].endswith("invalid config")
    backend = next(line for line in lines if line.startswith("  profiles.backend: "))
    assert backend.startswith("  profiles.backend: unknown name 'vlm'; expected one of: ")
    backend, blamed = backend.removesuffix(")").split(" (from --set ")
    assert blamed == "profiles.backend=vlm"
    assert {"openai", "text", "vllm"} <= set(backend.split("expected one of: ")[1].split(", "))
    assert ("  embeddings.encoder: unknown name 'bert'; expected one of: hf-pooler, "
            "sentence-transformers (from --set embeddings.encoder=bert)") in lines
    assert ("  train.objective: unknown name 'sasrec'; expected one of: cl4srec, duorec, "
            "next_item, sracl (from --set train.objective=sasrec)") in lines


def test_every_bad_model_and_missing_file_is_listed_in_one_error(tiny_config: Path,
                                                                 tmp_path: Path):
    config = load_config(tiny_config, [
        "profiles.model=embedded:nope", f"data.source.interactions={tmp_path / 'gone.txt'}"])
    with pytest.raises(ConfigError) as raised:
        check_config(config, tiny_config)
    message = str(raised.value)
    assert "2 problems" in message
    assert "profiles.model: unknown name 'embedded:nope'; expected one of: " in message
    assert f"data.source.interactions: no such file or folder {tmp_path / 'gone.txt'}" in message
    assert "sracl data download" in message


def test_the_shipped_configs_pass(tiny_config: Path):
    check_config(load_config(tiny_config), tiny_config)
    default = Path(__file__).resolve().parents[1] / "configs" / "default.yaml"
    check_config(load_config(default), default)


def test_k_must_leave_enough_candidates_at_each_granularity(tiny_config: Path):
    stats = {"n_users": 3, "n_items": 5}
    config = load_config(tiny_config, ["neighbours.k=2"])
    check_against_data(config, stats)
    with pytest.raises(ConfigError, match=r"neighbours\.k: 3 neighbours asked for, but tiny has "
                                          r"only 2 candidate user profiles"):
        check_against_data(load_config(tiny_config, ["neighbours.k=3"]), stats)
    with pytest.raises(ConfigError, match="only 4 candidate items"):
        check_against_data(load_config(tiny_config, ["neighbours.k=5"]), stats)
    samples = pl.DataFrame({"user": [1, 1, 1, 2, 2, 3]})
    prefix = load_config(tiny_config, ["prompts.granularity=prefix", "neighbours.k=3"])
    check_against_data(prefix, stats, samples)  # 6 prefixes, at most 3 of one user
    with pytest.raises(ConfigError, match="only 3 candidate user profiles"):
        check_against_data(load_config(tiny_config, ["prompts.granularity=prefix",
                                                     "neighbours.k=4"]), stats, samples)


def test_data_with_no_candidates_names_the_objective_not_a_k_that_cannot_fit(
        tiny_config: Path):
    config = load_config(tiny_config, ["neighbours.k=1"])
    with pytest.raises(ConfigError, match=r"train\.objective: sracl needs semantic neighbours, "
                                          r"but tiny has no candidate user profiles") as error:
        check_against_data(config, {"n_users": 1, "n_items": 5})
    assert "neighbours.k=" not in str(error.value)
    check_against_data(load_config(tiny_config, ["train.objective=next_item"]),
                       {"n_users": 1, "n_items": 5})


def test_k_is_not_checked_when_no_semantic_neighbours_are_used(tiny_config: Path):
    plain = load_config(tiny_config, ["neighbours.k=50", "train.objective=next_item"])
    check_against_data(plain, {"n_users": 3, "n_items": 5})


def test_the_ingest_artifact_feeds_the_data_check(tiny_config: Path):
    config = load_config(tiny_config, ["neighbours.k=3"])
    check_ingested(config)  # nothing ingested yet: nothing to check
    run_stage(config, "ingest")
    with pytest.raises(ConfigError, match="only 2 candidate user profiles"):
        check_ingested(config)
    with pytest.raises(ConfigError, match="only 2 candidate user profiles"):
        check_ingested(config, ["ingest", "prompts", "neighbours"])
    check_ingested(config, ["ingest"])  # `--until ingest`: the neighbours stage will not run


def test_a_damaged_ingest_artifact_is_left_for_run_to_recompute(tiny_config: Path):
    config = load_config(tiny_config, ["prompts.granularity=prefix", "neighbours.k=1"])
    manifest = Path(run_stage(config, "ingest").path) / "manifest.json"
    manifest.write_text(manifest.read_text()[:30])
    check_ingested(config)  # no raw JSON error before `sracl run` can repair it
    assert not run_stage(config, "ingest").cached
    check_ingested(config)


def test_a_text_run_has_no_llm_settings(tiny_config: Path):
    from sracl_core.stages.graph import stage_fingerprints

    text = load_config(tiny_config, ["profiles.backend=text"])
    check_config(text, tiny_config)
    assert text.profiles.model_dump() == {"backend": "text"}
    with pytest.raises(ConfigError, match=r"profiles\.model: no such key \(allowed: backend\)"):
        load_config(tiny_config, ["profiles.backend=text", "profiles.model=embedded:nope"])
    llm = load_config(tiny_config, ["profiles.temperature=0.7"])
    assert stage_fingerprints(llm)["profiles"] != stage_fingerprints(load_config(
        tiny_config))["profiles"]


def test_a_cache_root_that_cannot_be_a_folder_is_named_before_anything_starts(tmp_path: Path):
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    with pytest.raises(ConfigError, match=f"for {a_file}, but it is a file"):
        check_cache_root(a_file, writing=False)
    with pytest.raises(ConfigError, match=f"for {a_file}/cache, but {a_file} is a file"):
        check_cache_root(a_file / "cache", writing=True)
    assert a_file.read_text() == "not a folder"


def test_a_cache_root_is_made_when_written_to_and_left_alone_when_only_read(tmp_path: Path):
    root = tmp_path / "new" / "cache"
    check_cache_root(root, writing=False)
    assert not (tmp_path / "new").exists(), "status and verify create nothing"
    check_cache_root(root, writing=True)
    assert root.is_dir() and list(root.iterdir()) == [], "the probe file is gone"


def test_an_unwritable_cache_root_says_why():
    """/proc takes no new folders, even from root (whom file modes do not stop)."""
    with pytest.raises(ConfigError, match=r"cache_root: expected a writable folder at "
                                          r"/proc/sracl-cache, but writing there failed: "):
        check_cache_root(Path("/proc/sracl-cache"), writing=True)


def test_a_cuda_device_is_checked_only_for_the_stages_that_compute_here(tiny_config: Path):
    """A machine has no 1001st GPU; the embeddings device alone is asked of the embeddings
    stage, and no stage that is cached or runs elsewhere asks for anything."""
    config = load_config(tiny_config, ["train.device=cuda:1000",
                                       "embeddings.device=cuda:1000"])
    with pytest.raises(ConfigError, match=r"^config\.yaml: 2 problems:\n  embeddings\.device: "
                                          r"expected a device this machine has, got "
                                          r"'cuda:1000': torch .* sees \d+ CUDA device\(s\); "
                                          r"auto takes cuda when present, else cpu\n  "
                                          r"train\.device: "):
        check_devices(config, "config.yaml", ["ingest", "embeddings", "train"])
    with pytest.raises(ConfigError, match=r"^config\.yaml: embeddings\.device: "):
        check_devices(config, "config.yaml", ["embeddings", "neighbours"])
    check_devices(config, "config.yaml", ["ingest", "evaluate"])
    check_devices(load_config(tiny_config, ["train.device=cpu"]), "config.yaml", ["train"])


def test_a_missing_model_folder_is_refused_only_for_a_stage_that_computes_here(
        tiny_config: Path):
    config = load_config(tiny_config, ["embeddings.model=./no-such-encoder"])
    check_models(config, "config.yaml", ["ingest", "train", "evaluate"])
    with pytest.raises(ConfigError, match=r"config.yaml: embeddings.model: no such model "
                                          r"folder ./no-such-encoder"):
        check_models(config, "config.yaml", ["embeddings", "neighbours"])


@pytest.mark.parametrize("name", ["gpu", "cuda:-1", "cuda:x", "CPU"])
def test_a_device_name_torch_would_not_know_is_refused_at_load(tiny_config: Path, name: str):
    with pytest.raises(ConfigError, match=rf"train\.device: expected auto, cpu, cuda or "
                                          rf"cuda:N, got '{name}'"):
        load_config(tiny_config, [f"train.device={name}"])


@pytest.mark.parametrize(("overrides", "message"), [
    (["neighbours.index=ivfpq"], r"neighbours\.index: ivfpq trains 256 codes \(neighbours\."
                                 r"pq_bits=8\) .* but tiny has only 5 items after ingest"),
    (["neighbours.index=ivfpq", "neighbours.pq_bits=4", "neighbours.nlist=4",
      "neighbours.train_points=8"],
     r"neighbours\.train_points: ivfpq trains on 8 of the 20 items, but needs at least 16"),
    (["neighbours.index=ivf", "neighbours.train_points=3"],
     r"neighbours\.train_points: ivf trains on 3 of the 5 items, but needs at least 5"),
])
def test_an_index_sample_smaller_than_what_it_trains_is_named_before_any_work(
        tiny_config: Path, overrides: list[str], message: str):
    n_items = 20 if "neighbours.pq_bits=4" in overrides else 5
    stats = {"n_users": 20, "n_items": n_items}
    config = load_config(tiny_config, ["neighbours.k=2", *overrides])
    with pytest.raises(ConfigError, match=message):
        check_against_data(config, stats)
    check_against_data(load_config(tiny_config, ["neighbours.k=2", "neighbours.index=ivf"]),
                       stats)
