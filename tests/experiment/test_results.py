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
