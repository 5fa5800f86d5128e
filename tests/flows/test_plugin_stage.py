"""A stage added in one file is planned, run by the Prefect flow, cached and tracked."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import polars as pl
import pytest

from sracl_core.config import load_config
from sracl_core.errors import SraclError
from sracl_core.stages import graph
from sracl_core.stages.runner import run_stage
from sracl_core.stages.stage import Stage
from sracl_core.stages.tables import Table
from tests.flows import toy_stage


@pytest.fixture
def with_toy_stage() -> Iterator[None]:
    order = list(graph.STAGE_ORDER)
    graph.add_stage(toy_stage.STAGE)
    yield
    graph.STAGES.pop(toy_stage.STAGE.name)
    graph.STAGE_ORDER[:] = order


def test_the_toy_stage_is_planned_run_cached_and_tracked(harness: Any, with_toy_stage: None,
                                                          tmp_path) -> None:
    cache = tmp_path / "cache"
    config = load_config(harness.config_path, harness.overrides(cache=cache))
    assert graph.downstream_of("ingest", config)[-1] == "sample_counts"
    planned = {status.stage: status.state for status in graph.plan(config)}
    assert planned["sample_counts"] == "missing"
    run_stage(config, "ingest")
    first = harness.run_stage("sample_counts", cache=cache)
    again = harness.run_stage("sample_counts", cache=cache)
    assert [row["cached"] for row in (*first["stages"], *again["stages"])] == [False, True]
    outputs = graph.outputs_of(config)
    counts = outputs.table("sample_counts", "samples_per_user")
    samples = outputs.table("ingest", "train_samples")
    assert counts["samples"].sum() == samples.height
    assert counts.height == samples["user"].n_unique()
    assert outputs.manifest("sample_counts")["stats"]["users"] == counts.height
    from mlflow import MlflowClient

    client = MlflowClient(first["tracking"]["tracking_uri"])
    nested = client.search_runs(
        [client.get_run(first["tracking"]["run_id"]).info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{first['tracking']['run_id']}'")
    (stage_run,) = [run for run in nested if run.data.tags.get("sracl.stage") == "sample_counts"]
    assert stage_run.data.metrics["rows.samples_per_user"] == counts.height
    assert stage_run.data.metrics["stats.most"] == counts["samples"].max()  # generic logging
    moved = load_config(harness.config_path, harness.overrides("data.k_core=3", cache=cache))
    fingerprints = graph.stage_fingerprints(moved)
    assert fingerprints["sample_counts"] != graph.stage_fingerprints(config)["sample_counts"]


def test_a_stage_that_writes_what_it_did_not_declare_publishes_nothing(
        harness: Any, tmp_path) -> None:
    def run(context) -> None:
        context.writer.write_table("counts", pl.DataFrame({"user": [1], "n": ["many"]}))

    bad = Stage("bad_counts", inputs=("ingest",), code_version="1", section=lambda c: {},
                run=run, tables={"counts": Table({"user": pl.Int64(), "n": pl.Int64()})})
    order = list(graph.STAGE_ORDER)
    graph.add_stage(bad)
    try:
        config = load_config(harness.config_path, harness.overrides(cache=tmp_path))
        run_stage(config, "ingest")
        with pytest.raises(SraclError, match=r"bad_counts: table 'counts': column 'n' is String, "
                                             r"declared Int64"):
            run_stage(config, "bad_counts")
        assert not graph.outputs_of(config).is_complete("bad_counts")
    finally:
        graph.STAGES.pop("bad_counts")
        graph.STAGE_ORDER[:] = order


def test_a_stage_must_come_after_what_it_reads() -> None:
    late = Stage("early", inputs=("nowhere",), code_version="1", section=lambda c: {},
                 run=lambda context: None, tables={})
    with pytest.raises(ValueError, match="reads nowhere, which come after it or do not exist"):
        graph.add_stage(late)
    with pytest.raises(ValueError, match="declared twice"):
        graph.add_stage(graph.STAGES["ingest"])


def test_reading_a_table_a_stage_does_not_declare_names_what_it_writes(harness: Any,
                                                                      tmp_path) -> None:
    config = load_config(harness.config_path, harness.overrides(cache=tmp_path))
    run_stage(config, "ingest")
    outputs = graph.outputs_of(config)
    assert outputs.table("ingest", "users").height > 0
    with pytest.raises(SraclError, match=r"ingest declares no table 'itmes' \(it writes: "
                                         r"interactions, items, sequences, train_samples, "
                                         r"users\)"):
        outputs.table("ingest", "itmes")
