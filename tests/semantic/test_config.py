"""The semantic sections: each LLM backend and encoder carries only its own settings."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from sracl_core.config import PipelineConfig
from sracl_core.config_base import fingerprint_payload

BASE = {"dataset": "d", "data": {"source": {"format": "sasrec", "interactions": "x.txt"}}}


def config(**sections: object) -> PipelineConfig:
    return PipelineConfig.model_validate({**BASE, **sections})


def test_each_backend_has_its_own_engine_settings_and_text_has_none() -> None:
    vllm, openai, text = (config(profiles={"backend": name}).profiles
                          for name in ("vllm", "openai", "text"))
    assert "vllm" in type(vllm).model_fields and "openai" not in type(vllm).model_fields
    assert "openai" in type(openai).model_fields and "vllm" not in type(openai).model_fields
    assert text.model_dump() == {"backend": "text"}
    assert vllm.model == openai.model == "embedded:smollm2-135m-instruct"
    with pytest.raises(ValidationError, match="Extra inputs"):
        config(profiles={"backend": "openai", "vllm": {"max_num_seqs": 8}})


def test_engine_options_are_runtime_settings_outside_the_fingerprint() -> None:
    plain = fingerprint_payload(config().profiles)
    tuned = fingerprint_payload(config(profiles={"vllm": {"max_num_seqs": 256},
                                                 "batch_size": 512}).profiles)
    on_ray = config(profiles={"vllm": {"replicas": 4, "ray": {"address": "auto"}}}).profiles
    assert plain == tuned == fingerprint_payload(on_ray)
    assert on_ray.vllm.on_ray and not config().profiles.vllm.on_ray
    assert fingerprint_payload(config(profiles={"temperature": 0.7}).profiles) != plain


def test_both_encoders_share_their_settings_and_the_default_is_sentence_transformers() -> None:
    default = config().embeddings
    pooler = config(embeddings={"encoder": "hf-pooler", "max_length": 64}).embeddings
    assert default.encoder == "sentence-transformers" and default.max_length == 256
    assert (pooler.encoder, pooler.model, pooler.max_length) == (
        "hf-pooler", "embedded:all-minilm-l6-v2", 64)


@pytest.mark.parametrize(("url", "problem"), [
    ("127.0.0.1:8000/v1", "got '127.0.0.1:8000/v1'$"),
    ("ftp://host/v1", "got 'ftp://host/v1'$"),
    ("http:///v1", "got 'http:///v1'$"),
    ("http://[::1:8000/v1", r"\(Invalid IPv6 URL\)"),
    ("http://host:99999/v1", r"\(Port out of range"),
])
def test_an_endpoint_that_is_not_an_http_url_is_refused_on_load(url: str, problem: str) -> None:
    with pytest.raises(ValidationError, match="expected an http\\(s\\) URL") as caught:
        config(profiles={"backend": "openai", "openai": {"base_url": url}})
    error = caught.value.errors()[0]
    assert error["loc"][0] == "profiles" and error["loc"][-2:] == ("openai", "base_url")
    assert re.search(problem, error["msg"])
    served = config(profiles={"backend": "openai", "openai": {"base_url": "https://h:8443/v1"}})
    assert served.profiles.openai.base_url == "https://h:8443/v1"
