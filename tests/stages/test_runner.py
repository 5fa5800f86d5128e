from pathlib import Path

import pytest

from sracl_core.config import load_config
from sracl_core.errors import DataFormatError, StageInputMissing
from sracl_core.stages.graph import plan, stage_fingerprints
from sracl_core.stages.runner import run_stage


def test_second_run_is_cached_and_force_recomputes(tiny_config: Path):
    config = load_config(tiny_config)
    first = run_stage(config, "ingest")
    assert not first.cached
    manifest = Path(first.path) / "manifest.json"
    written = manifest.stat().st_mtime_ns
    second = run_stage(config, "ingest")
    assert second.cached and second.fingerprint == first.fingerprint
    assert manifest.stat().st_mtime_ns == written
    forced = run_stage(config, "ingest", force=True)
    assert not forced.cached
    assert manifest.stat().st_mtime_ns != written


def test_status_plan_flips_from_missing_to_cached(tiny_config: Path):
    config = load_config(tiny_config)
    assert [entry.complete for entry in plan(config)] == [False] * 7
    run_stage(config, "ingest")
    states = {entry.stage: entry.complete for entry in plan(config)}
    assert states["ingest"] and not states["prompts"]


def test_a_stage_whose_inputs_are_missing_says_which(tiny_config: Path):
    config = load_config(tiny_config)
    with pytest.raises(StageInputMissing, match=r"stage 'prompts' needs 'ingest'"):
        run_stage(config, "prompts")


def test_failed_stage_leaves_the_cache_as_it_was(tiny_config: Path):
    config = load_config(tiny_config)
    good = run_stage(config, "ingest")
    with open(config.data.source.interactions, "a") as handle:
        handle.write("4 x\n")
    broken = load_config(tiny_config)
    with pytest.raises(DataFormatError, match=r"interactions.txt:13: expected a non-negative"):
        run_stage(broken, "ingest")
    fingerprint = stage_fingerprints(broken)["ingest"]
    stage_dir = Path(good.path).parent
    assert sorted(p.name for p in stage_dir.iterdir()) == [good.fingerprint]
    assert fingerprint != good.fingerprint
