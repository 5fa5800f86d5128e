"""The train stage on several ranks: ``torchrun --nproc-per-node N -m flows.train_ddp``.

Rank 0 runs the ordinary train stage (:func:`sracl_core.stages.runner.run_stage`:
stage lock, artifact, epoch log); the trainer sees the torchrun environment and
trains with DDP (:mod:`sracl_core.rec.distributed`). The other ranks read the
same stage inputs and join :func:`sracl_core.rec.trainer.train`, which gives them
rank 0's checkpoint folder; they write nothing. The upstream stages must be
computed already (``sracl run --until neighbours``). See ``docs/scale-out.md``.

With tracking on, rank 0 also opens an MLflow run (tagged ``sracl.launcher:
torchrun`` and ``sracl.world_size``): the config, each epoch live, and the train
stage's nested run, as ``sracl run`` logs them. The run after it (evaluate) finds
train cached and logs its own.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging

import torch.distributed as dist

from sracl_core.config import PipelineConfig, load_config
from sracl_core.rec.distributed import ranks_from_environment
from sracl_core.rec.trainer import train
from sracl_core.stages.context import StageContext
from sracl_core.stages.graph import outputs_of
from sracl_core.stages.rec_inputs import semantic_neighbours, training_data
from sracl_core.stages.runner import StageOutcome, run_stage
from sracl_core.tracking.live import LiveEpochs
from sracl_core.tracking.run import PipelineRun

log = logging.getLogger(__name__)


def _train_tracked(config: PipelineConfig, args: argparse.Namespace,
                   world_size: int) -> StageOutcome:
    """Rank 0's train stage, in an MLflow run of its own when tracking is on."""
    if not config.tracking.enabled:
        return run_stage(config, "train", force=args.force)
    run = PipelineRun.start(config, run_name=f"{config.dataset}-torchrun-train", tags={
        "sracl.selected": "train", "sracl.launcher": "torchrun",
        "sracl.world_size": str(world_size)})
    run.log_config(config_path=args.config, overrides=args.overrides)
    live = LiveEpochs(config, run.run_id)
    try:
        outcome = run_stage(config, "train", force=args.force, on_epoch=live)
    except BaseException:
        live.close()
        run.finish("FAILED")
        raise
    outcome = dataclasses.replace(outcome, live_epochs=live.close())
    run.log_stage(outcome)
    log.info("mlflow: run %s (%s)", run.run_id, run.finish().run_url)
    return outcome


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="torchrun --nproc-per-node N -m flows.train_ddp",
        description=__doc__.splitlines()[0])
    parser.add_argument("config", help="pipeline config (YAML)")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="config override, as in `sracl run --set`")
    parser.add_argument("--force", action="store_true", help="train even if the artifact exists")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    config = load_config(args.config, args.overrides)
    ranks = ranks_from_environment()
    outputs = outputs_of(config)
    # every rank must agree whether training happens, or the others wait for ever
    cached = ranks.from_main(not args.force and outputs.store.check(
        "train", outputs.fingerprint("train")).usable)
    if ranks.is_main:
        outcome = _train_tracked(config, args, ranks.world_size)
        if outcome.cached and not cached:  # another run finished it while this one waited
            raise RuntimeError("train: another run wrote the artifact meanwhile; the other "
                               "ranks are waiting for a training that will not start")
        log.info("train: %s (%s)", "cached" if outcome.cached else "trained", outcome.path)
    elif not cached:
        # the followers only read inputs; the trainer hands them rank 0's checkpoint folder
        context = StageContext(config, outputs, writer=None)  # type: ignore[arg-type]
        section = config.train
        neighbours = (semantic_neighbours(context) if section.objective.needs_neighbours
                      else None)
        seed = config.seed if section.seed is None else section.seed
        train(section, training_data(context), neighbours, seed=seed,
              checkpoint_dir=outputs.store.root / "unused-on-this-rank")
    if dist.is_initialized():
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
