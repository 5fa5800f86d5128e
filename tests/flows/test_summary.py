"""The closing summary of ``sracl run``: stages, test metrics by mode, where things are."""

from __future__ import annotations

from rich.console import Console

from flows.summary import metrics_table, print_summary

RESULT = {
    "dataset": "beauty-sample", "cache_root": "/c", "flow_run_id": "f-1",
    "stages": [{"stage": "ingest", "cached": True, "seconds": 0.0, "fingerprint": "a" * 16},
               {"stage": "train", "cached": False, "seconds": 12.34, "fingerprint": "b" * 16}],
    "tracking": {"run_id": "r-1", "tracking_uri": "sqlite:///c/mlflow.db",
                 "ui_command": "mlflow server ...", "run_url": "http://127.0.0.1:5000/#/r-1",
                 "model_uri": "models:/sracl-beauty-sample/3"},
    "test_metrics": {"all/HR@10": 0.1234, "unseen/HR@10": 0.2, "all/NDCG@10": 0.05},
}


def test_the_summary_lists_stages_metrics_and_locations() -> None:
    console = Console(record=True, width=120, color_system=None)
    print_summary(console, RESULT)
    text = console.export_text()
    assert "2 stages: 1 cached, 1 computed" in text
    assert "12.3" in text and "b" * 16 in text
    assert "artifacts:   /c/beauty-sample/<stage>/<fingerprint>/" in text
    assert "mlflow run:  r-1 in sqlite:///c/mlflow.db" in text
    assert "model:       models:/sracl-beauty-sample/3" in text
    assert "test metrics" in text and "0.1234" in text


def test_without_tracking_the_summary_still_shows_the_test_metrics() -> None:
    console = Console(record=True, width=120, color_system=None)
    print_summary(console, {**RESULT, "tracking": None})
    text = console.export_text()
    assert "test metrics" in text and "0.1234" in text and "mlflow" not in text


def test_metrics_are_rows_by_name_and_columns_by_ranking_mode() -> None:
    table = metrics_table({"all/HR@10": 0.1234, "unseen/HR@10": 0.2, "all/NDCG@10": 0.05})
    assert [column.header for column in table.columns] == ["metric", "all", "unseen"]
    assert list(table.columns[0].cells) == ["HR@10", "NDCG@10"]
    assert list(table.columns[2].cells) == ["0.2000", ""]  # no unseen NDCG was given
