"""A finished run's test metrics under each tie rule, and how many test targets tie at all.

    .venv/bin/python benchmarks/tie_rules.py -c configs/beauty.yaml \\
        --set cache_root=/root/sracl-cache --set train.objective=next_item \\
        --set train.seed=2024 --set train.epochs=40 --set train.patience=40

It drives the product: the config's trained model (the train stage's artifact, which
must exist) and its test split (the ingest artifact), scored by
``sracl_core.rec.metrics.evaluate`` under each of ``train.rank_ties``' rules. The run's
own evaluate stage used one of them. The other two show how much the rule can move a
trained model's numbers, which is next to nothing unless scores tie.
"""

from __future__ import annotations

import argparse
from typing import get_args

import torch

from sracl_core.config import load_config
from sracl_core.rec.checkpoint import load_model
from sracl_core.rec.config import TieRule
from sracl_core.rec.metrics import evaluate, rank_counts
from sracl_core.stages.context import StageContext
from sracl_core.stages.graph import outputs_of
from sracl_core.stages.rec_inputs import evaluation_split

METRICS = ("all/HR@10", "all/NDCG@10", "all/HR@20", "all/NDCG@20", "all/MRR@10")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args()
    config = load_config(args.config, args.overrides)
    outputs = outputs_of(config)
    outputs.require("train", "model", "sracl run (this config)")
    model = load_model(outputs.path("train") / "model")
    test = evaluation_split(StageContext(config, outputs, writer=None), "test")  # type: ignore[arg-type]
    with torch.no_grad():
        model.eval()
        tied = torch.cat([rank_counts(model.scores(test.inputs[i:i + 2048]).float(),
                                      test.targets[i:i + 2048])[1]
                          for i in range(0, len(test.targets), 2048)])
    print(f"train {outputs.fingerprint('train')}: {len(test.targets):,} test targets, "
          f"{int((tied > 0).sum())} tie with another item (most ties: {int(tied.max())})")
    print(f"{'rule':12s} " + " ".join(f"{m:>12s}" for m in METRICS))
    for rule in get_args(TieRule):
        values = evaluate(model, test.inputs, test.targets, ties=rule)
        print(f"{rule:12s} " + " ".join(f"{values[m]:12.6f}" for m in METRICS))


if __name__ == "__main__":
    main()
