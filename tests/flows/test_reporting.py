"""The Prefect artifacts' text: keys Prefect accepts, the stage table, the MLflow links."""

from __future__ import annotations

from flows.reporting import artifact_key, summary_markdown

STAGES = [{"stage": "ingest", "state": "cached", "seconds": 0.04, "fingerprint": "a" * 16},
          {"stage": "train", "state": "computed", "seconds": 61.25, "fingerprint": "b" * 16}]
METRICS = {"all/NDCG@10": 0.04321}
TRACKING = {"run_id": "r1", "run_url": "http://ui/#/r1", "tracking_uri": "sqlite:///m.db",
            "ui_command": "mlflow server", "test_metrics": METRICS,
            "model_uri": "models:/sracl-beauty/2"}


def test_keys_are_lowercase_letters_digits_and_dashes() -> None:
    assert artifact_key("Beauty_Sample.v2", "summary") == "sracl-beauty-sample-v2-summary"


def test_the_summary_has_every_stage_the_metrics_and_where_the_run_is() -> None:
    text = summary_markdown("beauty", STAGES, TRACKING, METRICS)
    assert "| train | computed | 61.2 | `" + "b" * 16 + "` |" in text
    assert "| all/NDCG@10 | 0.0432 |" in text
    assert "- run: [r1](http://ui/#/r1)" in text and "- model: `models:/sracl-beauty/2`" in text


def test_without_tracking_the_summary_has_the_metrics_and_says_tracking_is_off() -> None:
    text = summary_markdown("beauty", STAGES, None, METRICS)
    assert "| all/NDCG@10 | 0.0432 |" in text
    assert text.endswith("MLflow tracking is off for this config.")
