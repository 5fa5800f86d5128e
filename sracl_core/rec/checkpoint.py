"""Saving and loading: a self-contained model folder, and the trainer's resume state.

No pickled code anywhere: weights are safetensors, the optimizer and RNG states
are tensors saved with ``torch.save`` and read back with ``weights_only=True``,
the rest is JSON. Every folder is written to a temporary sibling and renamed
into place, so a kill mid-write leaves the previous complete version, and sealed with
the checksums of its files (``checksums.json``), so a copy damaged later (on a disk, or
in a bundle between machines) is refused rather than trained on.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from sracl_core.artifact_integrity import seal, seal_problem
from sracl_core.atomic import replacing_folder
from sracl_core.errors import ArtifactCorrupt
from sracl_core.rec.backbones import build_backbone
from sracl_core.rec.backbones.base import Backbone
from sracl_core.rec.config import TrainConfig

MODEL_CONFIG = "config.json"
MODEL_WEIGHTS = "model.safetensors"


def _contiguous(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {name: t.detach().contiguous().cpu() for name, t in state.items()}


def save_model(folder: Path, backbone: Backbone, config: TrainConfig, n_special: int) -> None:
    """A folder that :func:`load_model` turns back into the backbone, without training code."""
    params = config.backbone.model_dump()
    meta = {"backbone": params.pop("name"), "params": params,
            "n_items": backbone.n_items, "max_len": backbone.max_len, "n_special": n_special}

    with replacing_folder(folder) as tmp:
        (tmp / MODEL_CONFIG).write_text(json.dumps(meta, indent=2))
        save_file(_contiguous(backbone.state_dict()), str(tmp / MODEL_WEIGHTS))
        seal(tmp)


def require_sound(folder: Path, what: str, remedy: str = "") -> None:
    """Raise :class:`ArtifactCorrupt` naming the damaged file of a sealed folder."""
    problem = seal_problem(folder)
    if problem is not None:
        raise ArtifactCorrupt(f"{problem}: {what} is damaged" + (f"; {remedy}" if remedy else ""))


def load_model(folder: Path, device: str | torch.device = "cpu") -> Backbone:
    """Rebuild a saved backbone in eval mode."""
    folder = Path(folder)
    require_sound(folder, "the model folder")
    meta = json.loads((folder / MODEL_CONFIG).read_text())
    section = TrainConfig.model_validate(
        {"backbone": {"name": meta["backbone"], **meta["params"]}})
    backbone = build_backbone(section.backbone, meta["n_items"], meta["max_len"],
                              n_special=meta["n_special"])
    backbone.load_state_dict(load_file(str(folder / MODEL_WEIGHTS)))
    return backbone.to(device).eval()


def save_train_state(folder: Path, module: torch.nn.Module, optimizer: torch.optim.Optimizer,
                     rng: dict[str, torch.Tensor], progress: dict[str, Any]) -> None:
    """Everything needed to continue a run bit-for-bit: weights, Adam moments, RNG, counters."""
    with replacing_folder(folder) as tmp:
        save_file(_contiguous(module.state_dict()), str(tmp / "module.safetensors"))
        torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
        torch.save(rng, tmp / "rng.pt")
        (tmp / "progress.json").write_text(json.dumps(progress, indent=2))
        seal(tmp)


def load_train_state(folder: Path, module: torch.nn.Module, optimizer: torch.optim.Optimizer,
                     device: torch.device) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Restore weights and optimizer in place; return (rng states, progress counters).

    Checkpoints are written whole or not at all, so a damaged one means a disk fault or a
    hand edit; it is named with what to do, rather than failing every retry with a bare
    parser error (``JSONDecodeError: Unterminated string``)."""
    require_sound(folder, "the resume checkpoint",
                  f"move {folder.parent} aside to train this run from its start")
    current = folder / "progress.json"
    try:
        progress = json.loads(current.read_text())
        if not isinstance(progress, dict):
            raise ValueError(f"it holds a {type(progress).__name__}, not an object")
        current = folder / "module.safetensors"
        module.load_state_dict(load_file(str(current), device=str(device)))
        current = folder / "optimizer.pt"
        optimizer.load_state_dict(torch.load(current, map_location=device, weights_only=True))
        current = folder / "rng.pt"
        rng = torch.load(current, weights_only=True)
    except Exception as error:  # json, safetensors, pickle and torch each raise their own
        raise ArtifactCorrupt(
            f"{current}: the resume checkpoint cannot be read ({type(error).__name__}: "
            f"{error}); move {folder.parent} aside to train this run from its start"
        ) from error
    return rng, progress
