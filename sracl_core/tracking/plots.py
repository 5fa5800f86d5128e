"""Training curves as a PNG: the loss parts and the validation metrics per epoch.

Built on a bare ``Figure`` (no pyplot), so no GUI backend or global figure state is involved.
"""

from __future__ import annotations

import polars as pl
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator


def training_curves(epochs: pl.DataFrame) -> Figure:
    """Two panels from the train stage's ``epochs`` table: ``loss/*`` columns, ``valid/*``
    columns; the best epoch (``improved`` last true) is marked."""
    losses = [c for c in epochs.columns if c.startswith("loss/")]
    valid = [c for c in epochs.columns if c.startswith("valid/")]
    figure = Figure(figsize=(11, 4), layout="constrained")
    left, right = figure.subplots(1, 2)
    x = epochs["epoch"].to_list()
    for column in losses:
        left.plot(x, epochs[column].to_list(), marker="o", markersize=3,
                  label=column.removeprefix("loss/"))
    left.set(title="training loss", xlabel="epoch", ylabel="loss")
    for column in valid:
        right.plot(x, epochs[column].to_list(), marker="o", markersize=3,
                   label=column.removeprefix("valid/"))
    right.set(title="validation", xlabel="epoch", ylabel="metric")
    if "improved" in epochs.columns:
        improved = epochs.filter(pl.col("improved"))["epoch"]
        if improved.len():
            right.axvline(improved[-1], color="grey", linestyle="--", label="best epoch")
    for axis in (left, right):
        if axis.lines:
            axis.legend(fontsize="small", loc="upper right")
        axis.grid(alpha=0.3)
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    return figure
