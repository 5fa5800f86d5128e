"""Training curves: one line per loss part and validation metric, the best epoch marked."""

from __future__ import annotations

import io

import polars as pl

from sracl_core.tracking.plots import training_curves


def test_each_loss_part_and_metric_is_a_line_and_the_last_improvement_is_marked() -> None:
    epochs = pl.DataFrame({"epoch": [0, 1, 2], "loss/rec": [9.0, 8.0, 7.5],
                           "loss/cs": [12.0, 6.0, 5.0], "valid/all/NDCG@10": [0.02, 0.03, 0.029],
                           "improved": [True, True, False]})
    figure = training_curves(epochs)
    left, right = figure.axes
    assert [line.get_label() for line in left.lines] == ["rec", "cs"]
    assert list(left.lines[1].get_ydata()) == [12.0, 6.0, 5.0]
    assert [line.get_label() for line in right.lines] == ["all/NDCG@10", "best epoch"]
    assert list(right.lines[-1].get_xdata()) == [1, 1]  # epoch 1 improved last
    png = io.BytesIO()
    figure.savefig(png, format="png")
    assert png.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_epoch_log_without_improvements_marks_nothing() -> None:
    figure = training_curves(pl.DataFrame({"epoch": [0], "loss/rec": [9.0],
                                           "improved": [False]}))
    assert len(figure.axes[1].lines) == 0
