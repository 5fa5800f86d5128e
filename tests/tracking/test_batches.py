"""The one MLflow batch logger, and the names and params it writes."""

from __future__ import annotations

from typing import Any

from sracl_core.tracking.batches import flatten, metric_name


def test_helpers_name_things_the_way_mlflow_accepts():
    assert flatten({"train": {"objective": {"alpha": 0.1}}, "seed": 3}) == {
        "train.objective.alpha": "0.1", "seed": "3"}
    assert metric_name("valid/all/NDCG@10") == "valid/all/NDCG_10"


def test_one_batch_logger_cleans_names_drops_non_finite_values_and_respects_limits():
    from sracl_core.tracking.batches import log_batch

    class Recorder:
        calls: list[dict[str, Any]] = []

        def log_batch(self, run_id: str, **kinds: Any) -> None:
            self.calls.append(kinds)

    recorder = Recorder()
    metrics = {f"m@{i}": float(i) for i in range(1500)} | {"nan": float("nan"), "flag": True}
    log_batch(recorder, "run", metrics=metrics, step=3, params={f"p{i}": i for i in range(150)},
              tags={"t": 1})
    sizes = [(kind, len(values)) for call in recorder.calls for kind, values in call.items()]
    assert sizes == [("metrics", 1000), ("metrics", 500), ("params", 100), ("params", 50),
                     ("tags", 1)]
    first = recorder.calls[0]["metrics"][0]
    assert (first.key, first.value, first.step) == ("m_0", 0.0, 3)
