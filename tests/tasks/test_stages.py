"""The stage tasks: one per stage, named and finished by what the fingerprint says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from prefect import flow
from prefect.cache_policies import NO_CACHE

from sracl_core.config import load_config
from sracl_core.stages.graph import STAGE_ORDER, stage_fingerprints
from tasks.stages import FingerprintChanged, gpu_stages, stage_run_name, stage_task


def parameters(config: Path, stage: str = "ingest", force: bool = False,
               fingerprint: str | None = None) -> dict[str, Any]:
    fingerprint = fingerprint or stage_fingerprints(load_config(config))[stage]
    return {"config_path": str(config), "overrides": [], "stage": stage,
            "fingerprint": fingerprint, "force": force}


@flow(persist_result=False)
def run_ingest(params: dict[str, Any]) -> Any:
    return stage_task("ingest")(**params, return_state=True)


def test_one_task_per_stage_with_tags_and_no_prefect_cache():
    for stage in STAGE_ORDER:
        task = stage_task(stage)
        assert task.name == f"sracl-{stage}"
        assert f"stage:{stage}" in task.tags
        assert ("gpu" in task.tags) == (stage in gpu_stages())
        assert task.cache_policy is NO_CACHE, "the fingerprint, not Prefect, decides"


def test_run_name_says_computed_until_the_artifact_exists(tiny_config: Path):
    from sracl_core.stages.runner import run_stage

    assert stage_run_name(parameters(tiny_config)) == "ingest-computed"
    run_stage(load_config(tiny_config), "ingest")
    assert stage_run_name(parameters(tiny_config)) == "ingest-cached"
    assert stage_run_name(parameters(tiny_config, force=True)) == "ingest-computed"


def test_run_name_says_computed_for_a_corrupt_artifact(tiny_config: Path):
    from sracl_core.stages.runner import run_stage

    outcome = run_stage(load_config(tiny_config), "ingest")
    (Path(outcome.path) / "users.parquet").write_bytes(b"PAR1")
    assert stage_run_name(parameters(tiny_config)) == "ingest-computed"


@pytest.mark.slow
def test_task_computes_then_finishes_cached_and_force_recomputes(tiny_config: Path):
    first = run_ingest(parameters(tiny_config))
    record = first.result()
    assert first.name == "Completed" and record["cached"] is False
    assert (Path(record["path"]) / "manifest.json").is_file()
    second = run_ingest(parameters(tiny_config))
    assert second.name == "Cached" and second.is_completed()
    assert second.result()["cached"] is True
    assert second.result()["path"] == record["path"]
    forced = run_ingest(parameters(tiny_config, force=True))
    assert forced.name == "Completed" and forced.result()["cached"] is False


@pytest.mark.slow
def test_task_refuses_a_config_that_changed_since_planning(tiny_config: Path):
    with pytest.raises(FingerprintChanged, match="planned 0000000000000000"):
        run_ingest(parameters(tiny_config, fingerprint="0" * 16))
