"""A stage from outside the package, declared in this one file: training samples per user.

Imported by ``test_plugin_stage.py`` (a plug-in would be imported through an
``sracl.plugins`` entry point); adding it is one call, :func:`add_stage`.
"""

from __future__ import annotations

import polars as pl

from sracl_core.stages.context import StageContext
from sracl_core.stages.stage import Stage
from sracl_core.stages.tables import Table


def run(context: StageContext) -> None:
    samples = context.input_table("ingest", "train_samples")
    counts = samples.group_by("user").agg(pl.len().cast(pl.Int64).alias("samples")).sort("user")
    context.writer.write_table("samples_per_user", counts)
    context.writer.stats.update(users=counts.height, most=int(counts["samples"].max()))


STAGE = Stage("sample_counts", inputs=("ingest",), code_version="1",
              section=lambda config: {}, run=run,
              tables={"samples_per_user": Table({"user": pl.Int32(), "samples": pl.Int64()})})
