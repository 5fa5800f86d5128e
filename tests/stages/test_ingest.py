from pathlib import Path

import pytest

from sracl_core.artifacts import ArtifactStore
from sracl_core.config import load_config
from sracl_core.errors import EmptyDatasetError
from sracl_core.stages.runner import run_stage

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_ingest_writes_every_canonical_table(tiny_config: Path):
    config = load_config(tiny_config)
    outcome = run_stage(config, "ingest")
    store = ArtifactStore(config.cache_root, config.dataset)
    read = lambda name: store.read_table("ingest", outcome.fingerprint, name)  # noqa: E731
    sequences = read("sequences").sort("user")
    assert sequences["train"].to_list() == [[1, 2], [2, 3, 4], [5]]
    assert sequences["valid"].to_list() == [3, 5, 4]
    assert sequences["test"].to_list() == [4, 1, 3]
    samples = read("train_samples")
    assert samples.select("prefix", "target").rows() == [([1], 2), ([2], 3), ([2, 3], 4)]
    assert read("items")["title"].to_list() == [f"Item number {i}" for i in range(1, 6)]
    assert read("users")["n_interactions"].to_list() == [4, 5, 3]
    stats = store.manifest("ingest", outcome.fingerprint)["stats"]
    assert stats["n_users"] == 3 and stats["n_items"] == 5 and stats["n_interactions"] == 12
    assert stats["n_train_samples"] == 3


def test_embedded_sample_is_already_five_core():
    config = load_config(PROJECT_ROOT / "configs" / "default.yaml")
    from sracl_core.data.preprocess import clean
    from sracl_core.data.readers import read_source

    dataset = clean(read_source(config.data.source), config.data)
    assert dataset.stats["dropped_by_k_core"] == 0
    assert dataset.stats["items_without_text"] == 0
    assert dataset.stats["n_users"] == 144
    assert 1 <= dataset.items.height <= 200


def test_empty_result_names_the_file_and_the_threshold(tiny_config: Path):
    config = load_config(tiny_config, ["data.k_core=50"])
    with pytest.raises(EmptyDatasetError, match=r"interactions.txt: no interactions left after "
                                                 r"50-core"):
        run_stage(config, "ingest")
    assert not (config.cache_root / config.dataset / "ingest").exists() or not any(
        (config.cache_root / config.dataset / "ingest").iterdir())


def test_empty_after_metadata_check_blames_the_metadata_not_k_core(make_config):
    config = load_config(make_config({1: [1, 2, 3]}, {9: "other"}))
    with pytest.raises(EmptyDatasetError, match=r"after dropping the 3 whose items are not in "
                                                 r".*items.tsv.*the interactions name items "
                                                 r"like '1', the items file like '9'"):
        run_stage(config, "ingest")


def test_users_too_short_to_train_on_fail_at_ingest_and_cache_nothing(make_config):
    """Three items each: one to train on, one to validate, one to test, and no prefix with a
    next item. Found at ingest rather than at training, hours of profiles later."""
    config = load_config(make_config({1: [1, 2, 3], 2: [2, 3, 1]}, None))
    with pytest.raises(EmptyDatasetError) as caught:
        run_stage(config, "ingest")
    assert str(caught.value).endswith(
        "interactions.txt: no training samples: each of the 2 users has fewer than 4 "
        "interactions after filtering (a training sample is a prefix and its next item, "
        "before the validation and test items)")
    ingest = config.cache_root / config.dataset / "ingest"
    assert not ingest.exists() or not any(ingest.iterdir())


def test_below_three_interactions_the_hint_does_not_suggest_a_lower_k_core(make_config):
    config = load_config(make_config({1: [1, 2], 2: [2, 1]}, None, data={"k_core": 1}))
    with pytest.raises(EmptyDatasetError) as caught:
        run_stage(config, "ingest")
    assert "lower data.k_core" not in str(caught.value)
    assert str(caught.value).endswith("a user needs 3 interactions whatever data.k_core is (one "
                                      "each to train, validate and test); check the input")
