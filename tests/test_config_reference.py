"""The generated config reference: current in docs/, and true about what is fingerprinted."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from sracl_core.config_reference import config_reference
from sracl_core.errors import ConfigError

DOC = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"
ROW = re.compile(r"^\| `([^`]+)` \| (.*?) \| (.*) \|$")


def rows(reference: str, section: str) -> dict[str, tuple[str, str]]:
    """key -> (default, meaning) of one section's table."""
    body = reference.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    return {match[1]: (match[2], match[3]) for line in body.splitlines()
            if (match := ROW.match(line))}


def test_the_reference_in_docs_is_the_generated_one() -> None:
    """Generated in a fresh interpreter: tests in this one register variants of their own
    (a scripted LLM backend, a toy backbone), which the reference would list."""
    generated = subprocess.run(
        [sys.executable, "-c", "from sracl_core.config_reference import config_reference; "
                               "print(config_reference(), end='')"],
        capture_output=True, text=True, check=True).stdout
    assert DOC.read_text(encoding="utf-8") == generated, (
        "docs/configuration.md is stale: run `sracl config reference -o docs/configuration.md`")


CONDITIONAL = re.compile(r"(^|\. )(ivf|hnsw|collaborative:)")
"""A description starting so names the variant a key matters for: with another, no
fingerprint moves, as the reference's introduction says."""


def tweaked(value: object) -> object | None:
    """Another valid-looking value of a plain setting, or None to leave the key alone."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value / 2 if value else 0.5
    return None


def test_runtime_marks_are_exactly_the_keys_whose_change_moves_no_fingerprint() -> None:
    """Every plain setting of the embedded default's variants changed alone: a key marked
    runtime moves no stage's fingerprint, and an unmarked one moves at least one."""
    from sracl_core.config import load_config
    from sracl_core.stages.graph import stage_fingerprints

    default = Path(__file__).resolve().parents[1] / "configs" / "default.yaml"
    base_config = load_config(default)
    base = stage_fingerprints(base_config)
    reference, checked = config_reference(), 0
    variants = ("profiles: vllm", "embeddings: sentence-transformers", "data.source: sasrec",
                "train.backbone: sasrec", "train.objective: sracl")
    for section in ("top level", "data", "prompts", "neighbours", "train", "evaluate",
                    "tracking", *variants):
        for key, (_, meaning) in rows(reference, section).items():
            value = base_config
            for part in key.split("."):
                value = getattr(value, part)
            other = tweaked(value)
            if other is None or CONDITIONAL.search(meaning):
                continue
            try:
                changed = load_config(default, [f"{key}={json.dumps(other)}"])
            except ConfigError:
                continue  # out of its bounds: nothing to compare
            moved = stage_fingerprints(changed) != base
            assert moved != meaning.startswith("*runtime*"), (key, other, moved)
            checked += 1
    assert checked > 60


def test_defaults_bounds_choices_and_nested_runtime_groups_are_shown() -> None:
    reference = config_reference()
    train = rows(reference, "train")
    assert train["train.lr"] == ("`0.001`", "Must be > 0.0. Adam learning rate")
    assert train["train.backbone"][0] == "`sasrec`"
    assert train["train.backbone"][1].startswith(
        "*choice*, named by `train.backbone.name`: one of gru4rec, sasrec.")
    assert "One of memory, disk." in train["train.profile_embeddings"][1]
    vllm = rows(reference, "profiles: vllm")
    assert vllm["profiles.vllm.ray.address"][1].startswith("*runtime*")  # under a runtime group
    assert rows(reference, "train.backbone: gru4rec")["train.backbone.hidden_size"][0] == "`128`"
    assert "No keys of its own." in reference.split("## profiles: text", 1)[1].split("##")[0]
    assert rows(reference, "data.source: sasrec")["data.source.interactions"][0] == "required"
