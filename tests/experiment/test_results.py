"""A grid's tables are written whole, and a run without its evaluate artifact is named."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from sracl_core.config import load_config
from sracl_core.errors import SraclError
from sracl_core.experiment.results import results_folder, run_figures, write_results


def test_the_three_tables_are_written_and_rewritten_whole(tmp_path: Path) -> None:
    runs = pl.DataFrame({"variant": ["a"], "seed": [1], "metric": ["all/HR@10"], "value": [0.1]})
    summary = pl.DataFrame({"variant": ["a"], "mean": [0.1]})
    paths = write_results(tmp_path / "grid", runs, summary, "| a | 0.1 |")
    assert pl.read_parquet(paths["runs"]).equals(runs)
    assert pl.read_parquet(paths["summary"]).equals(summary)
    assert paths["markdown"].read_text() == "| a | 0.1 |\n"
    write_results(tmp_path / "grid", runs, summary, "| a | 0.2 |")
    assert paths["markdown"].read_text() == "| a | 0.2 |\n"
    assert sorted(p.name for p in (tmp_path / "grid").iterdir()) == [
        "runs.parquet", "summary.md", "summary.parquet"]  # no temporary left behind


def test_a_run_that_was_not_evaluated_is_named(tiny_config: Path) -> None:
    config = load_config(tiny_config)
    with pytest.raises(SraclError, match=r"evaluate \([0-9a-f]{16}\) is not computed"):
        run_figures(config)
    assert results_folder(config, "g") == config.cache_root / config.dataset / "experiments" / "g"


def test_a_run_evaluated_without_its_model_here_reports_the_same_figures(tiny_config: Path):
    """Evaluate records how its model was trained, so a bundle of evaluate artifacts alone
    carries a finished run's figures (wall time and epochs included)."""
    import shutil

    from sracl_core.stages.graph import outputs_of
    from sracl_core.stages.runner import run_stage

    config = load_config(tiny_config, ["train.objective=next_item", "train.epochs=2",
                                       "train.progress=false", "train.backbone.hidden_size=8",
                                       "train.backbone.inner_size=8"])
    for stage in ("ingest", "train", "evaluate"):
        run_stage(config, stage)
    with_model = run_figures(config)
    trained = outputs_of(config).manifest("train")
    epochs = outputs_of(config).table("train", "epochs")
    # every epoch's training and validation time (what a resumed run's earlier processes
    # did included), not the last process's wall time, which also loads the data
    summed = float((epochs["train_seconds"] + epochs["eval_seconds"]).sum())
    assert with_model.train_seconds == pytest.approx(summed, abs=1e-3)
    assert 0 < with_model.train_seconds < trained["wall_seconds"]
    assert with_model.epochs_run == trained["stats"]["epochs_run"] == 2
    shutil.rmtree(outputs_of(config).path("train"))
    assert not outputs_of(config).is_complete("train")
    assert run_figures(config) == with_model


def test_the_tables_say_which_grid_definition_made_them(tmp_path: Path, caplog) -> None:
    """Results folders are named by the grid's name only: a second grid file of the same name
    replaces the tables, and the record and a warning say so; the same definition read from
    another copy of the file (a worktree) is no news."""
    import json
    import logging

    runs = pl.DataFrame({"variant": ["a"], "seed": [1], "metric": ["all/HR@10"], "value": [0.1]})
    summary = pl.DataFrame({"variant": ["a"], "mean": [0.1]})
    first = {"file": "/x/grid.yaml", "name": "g", "variants": {"a": []}, "seeds": [1]}
    paths = write_results(tmp_path / "g", runs, summary, "t", grid=first)
    assert json.loads(paths["grid"].read_text()) == first
    with caplog.at_level(logging.WARNING, logger="sracl_core.experiment.results"):
        write_results(tmp_path / "g", runs, summary, "t", grid={**first, "file": "/copy/g.yaml"})
        # a key added to grid files since (empty: it says nothing) is no news either
        write_results(tmp_path / "g", runs, summary, "t",
                      grid={**first, "file": "/copy/g.yaml", "compare_to": {}})
        assert not caplog.records
        second = {**first, "file": "/y/other.yaml", "variants": {"a": [], "b": ["x=1"]}}
        write_results(tmp_path / "g", runs, summary, "t", grid=second)
    assert json.loads(paths["grid"].read_text()) == second
    assert "from another definition of grid 'g' (from /copy/g.yaml; it differs in variants); " \
           "replacing them with those of /y/other.yaml" in caplog.records[0].getMessage()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="sracl_core.experiment.results"):
        write_results(tmp_path / "g", runs, summary, "t", grid={**second, "set": ["train.lr=1"]})
    [warning] = caplog.records  # the same file, run with a --set: the record says so
    assert "(from /y/other.yaml; it differs in set); replacing them with those of " \
           "/y/other.yaml" in warning.getMessage()
