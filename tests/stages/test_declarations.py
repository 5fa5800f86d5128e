"""The stage declarations are the one record of each stage; everything else agrees with them."""

from __future__ import annotations

from pathlib import Path

import yaml

from sracl_core.stages import embeddings, evaluate, ingest, neighbours, profiles, prompts, train
from sracl_core.stages.graph import STAGE_ORDER, STAGES
from sracl_core.tracking.stages import STAGE_LOGGERS
from tasks.stages import GPU_STAGES, STAGE_TASKS

PREFECT_YAML = Path(__file__).resolve().parents[2] / "prefect.yaml"


def test_each_stage_module_declares_its_stage_and_the_graph_holds_them_in_run_order():
    modules = [ingest, prompts, profiles, embeddings, neighbours, train, evaluate]
    assert [module.STAGE.name for module in modules] == list(STAGE_ORDER)
    assert all(STAGES[module.STAGE.name] is module.STAGE for module in modules)
    assert all(STAGES[name].run.__module__ == f"sracl_core.stages.{name}" for name in STAGES)


def test_gpu_placement_tasks_and_tracking_follow_the_declarations():
    assert {name for name, stage in STAGES.items() if stage.device == "accelerator"} == GPU_STAGES
    assert {"profiles", "embeddings", "train", "evaluate"} == GPU_STAGES
    assert list(STAGE_TASKS) == list(STAGE_ORDER)
    assert set(STAGE_LOGGERS) == set(STAGE_ORDER)


def test_prefect_yaml_has_one_deployment_per_stage_on_the_pool_its_device_needs():
    deployments = yaml.safe_load(PREFECT_YAML.read_text())["deployments"]
    per_stage = {d["parameters"]["stage"]: d for d in deployments
                 if d["entrypoint"].endswith(":stage_flow")}
    assert list(per_stage) == list(STAGE_ORDER)
    for name, deployment in per_stage.items():
        wants_gpu = STAGES[name].device == "accelerator"
        assert (deployment["work_pool"]["name"] == "sracl-gpu") == wants_gpu, name
        assert ("gpu" in deployment["tags"]) == wants_gpu, name
