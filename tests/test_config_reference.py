"""The generated config reference: current in docs/, and true about what is fingerprinted."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from sracl_core.config_base import fingerprint_payload
from sracl_core.config_reference import config_reference
from sracl_core.rec.config import EvaluateConfig, TrainConfig
from sracl_core.semantic.config import NeighboursConfig

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


def test_runtime_marks_are_exactly_the_keys_left_out_of_fingerprints() -> None:
    reference = config_reference()
    for section, model in (("train", TrainConfig()), ("neighbours", NeighboursConfig()),
                           ("evaluate", EvaluateConfig())):
        fingerprinted = set(fingerprint_payload(model))
        for key, (_, meaning) in rows(reference, section).items():
            name = key.split(".", 1)[1]
            assert meaning.startswith("*runtime*") == (name not in fingerprinted), key


def test_defaults_bounds_choices_and_nested_runtime_groups_are_shown() -> None:
    reference = config_reference()
    train = rows(reference, "train")
    assert train["train.lr"] == ("`0.001`", "Must be > 0.0. Adam learning rate")
    assert train["train.backbone"][0] == "`sasrec`"
    assert train["train.backbone"][1].startswith("*choice*: one of gru4rec, sasrec.")
    assert "One of memory, disk." in train["train.profile_embeddings"][1]
    vllm = rows(reference, "profiles: vllm")
    assert vllm["profiles.vllm.ray.address"][1].startswith("*runtime*")  # under a runtime group
    assert rows(reference, "train.backbone: gru4rec")["train.backbone.hidden_size"][0] == "`128`"
    assert "No keys of its own." in reference.split("## profiles: text", 1)[1].split("##")[0]
    assert rows(reference, "data.source: sasrec")["data.source.interactions"][0] == "required"
