"""The stage declarations are the one record of each stage; everything else agrees with them."""

from __future__ import annotations

from pathlib import Path

import yaml

from sracl_core.stages import embeddings, evaluate, ingest, neighbours, profiles, prompts, train
from sracl_core.stages.graph import STAGE_ORDER, STAGES
from sracl_core.tracking.stages import STAGE_LOGGERS
from tasks.stages import gpu_stages, stage_task

PREFECT_YAML = Path(__file__).resolve().parents[2] / "prefect.yaml"


def test_each_stage_module_declares_its_stage_and_the_graph_holds_them_in_run_order():
    modules = [ingest, prompts, profiles, embeddings, neighbours, train, evaluate]
    assert [module.STAGE.name for module in modules] == list(STAGE_ORDER)
    assert all(STAGES[module.STAGE.name] is module.STAGE for module in modules)
    assert all(STAGES[name].run.__module__ == f"sracl_core.stages.{name}" for name in STAGES)


def test_gpu_placement_tasks_and_tracking_follow_the_declarations():
    assert {"profiles", "embeddings", "train", "evaluate"} == gpu_stages()
    assert [stage_task(name).name for name in STAGE_ORDER] == [f"sracl-{n}" for n in STAGE_ORDER]
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
