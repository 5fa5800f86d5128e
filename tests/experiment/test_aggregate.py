import math

import polars as pl
import pytest

from sracl_core.experiment.aggregate import (
    RUN_SCHEMA,
    markdown_table,
    mean_minutes,
    per_seed_table,
    summarise,
)


def _runs(rows):
    return pl.DataFrame(rows, schema=RUN_SCHEMA, orient="row")


RUNS = _runs([
    ("base", 1, "HR@10", 0.10), ("base", 2, "HR@10", 0.12),
    ("new", 1, "HR@10", 0.11), ("new", 2, "HR@10", 0.15),
])


def test_mean_std_gain_and_paired_p_against_hand_computation():
    summary = summarise(RUNS, "base", ["HR@10"], {"new": {"HR@10": 0.2}})
    base, new = summary.sort("variant").iter_rows(named=True)
    assert base["mean"] == pytest.approx(0.11) and base["std"] == pytest.approx(math.sqrt(2e-4))
    assert math.isnan(base["gain_pct"]) and math.isnan(base["p_value"])
    assert new["mean"] == pytest.approx(0.13)
    assert new["std"] == pytest.approx(math.sqrt((0.11 - 0.13) ** 2 + (0.15 - 0.13) ** 2))
    assert new["gain_pct"] == pytest.approx((0.13 / 0.11 - 1) * 100)
    # paired differences 0.01 and 0.03: t = 2 with 1 degree of freedom (a Cauchy law),
    # so the two-sided p is 1 - 2 atan(2) / pi
    assert new["p_value"] == pytest.approx(1 - 2 * math.atan(2) / math.pi)
    assert new["reference"] == 0.2 and math.isnan(base["reference"])
    # against the published 0.2: mean 0.13, standard error 0.0283 / sqrt(2) = 0.02, so
    # t = -3.5 with 1 degree of freedom
    assert new["reference_p"] == pytest.approx(1 - 2 * math.atan(3.5) / math.pi)
    assert math.isnan(base["reference_p"])


def test_no_test_against_the_paper_with_one_seed_or_no_spread():
    runs = _runs([("one", 1, "m", 0.1), ("flat", 1, "m", 0.2), ("flat", 2, "m", 0.2)])
    summary = summarise(runs, "one", ["m"], {"one": {"m": 0.3}, "flat": {"m": 0.3}})
    assert summary["reference_p"].is_nan().all()


def test_unpaired_seeds_give_no_p_value_no_gain_and_one_seed_a_zero_spread():
    runs = _runs([("base", 1, "HR@10", 0.1), ("new", 2, "HR@10", 0.2)])
    new = summarise(runs, "base", ["HR@10"]).filter(pl.col("variant") == "new").row(0, named=True)
    assert math.isnan(new["p_value"]) and new["std"] == 0.0 and new["seeds"] == 1
    assert math.isnan(new["gain_pct"])


def test_an_unfinished_grids_gain_compares_the_seeds_both_variants_have():
    """The mean shown is over every seed a variant has; its gain only over shared seeds
    (seed 2's baseline missing: 0.0208 against 0.0347 is -40%, not two seeds against one)."""
    runs = _runs([("base", 1, "HR@10", 0.0347),
                  ("new", 1, "HR@10", 0.0208), ("new", 2, "HR@10", 0.0416)])
    new = summarise(runs, "base", ["HR@10"]).filter(pl.col("variant") == "new").row(0, named=True)
    assert new["mean"] == pytest.approx(0.0312) and new["seeds"] == 2
    assert new["gain_pct"] == pytest.approx((0.0208 / 0.0347 - 1) * 100)


def test_identical_runs_are_not_significant():
    runs = _runs([("base", 1, "m", 0.1), ("base", 2, "m", 0.2),
                  ("same", 1, "m", 0.1), ("same", 2, "m", 0.2)])
    same = summarise(runs, "base", ["m"]).filter(pl.col("variant") == "same").row(0, named=True)
    assert same["p_value"] == 1.0 and same["gain_pct"] == pytest.approx(0.0)


def test_markdown_has_one_row_per_variant_in_grid_order():
    text = markdown_table(summarise(RUNS, "base", ["HR@10"], {"new": {"HR@10": 0.2}}),
                          ["HR@10"], "base")
    lines = text.splitlines()
    assert lines[0] == "| variant | HR@10 |"
    assert lines[2] == "| base | 0.1100 ± 0.0141 |"
    assert lines[3].startswith(
        "| new | 0.1300 ± 0.0283 (+18.2%, p=0.295) [paper 0.2000, p=0.177] |")


def test_markdown_training_column_gives_each_variants_minutes_and_blank_when_unknown():
    summary = summarise(RUNS, "base", ["HR@10"])
    lines = markdown_table(summary, ["HR@10"], "base", {"new": 134.4, "base": 0.0}).splitlines()
    assert lines[0] == "| variant | HR@10 | training (min/run) |"
    assert lines[1] == "|---|---:|---:|"
    assert lines[2] == "| base | 0.1100 ± 0.0141 |  |"
    assert lines[3].endswith("| 134 |")
    assert "summed epoch time per run" in lines[-1]


def test_mean_minutes_averages_each_variants_runs():
    assert mean_minutes([("a", 60.0), ("b", 600.0), ("a", 180.0)]) == {"a": 2.0, "b": 10.0}


def test_compare_to_measures_a_variant_against_another_than_the_baseline():
    runs = _runs([("sasrec", 1, "m", 0.20), ("sasrec", 2, "m", 0.22),
                  ("gru", 1, "m", 0.10), ("gru", 2, "m", 0.12),
                  ("gru-sracl", 1, "m", 0.11), ("gru-sracl", 2, "m", 0.15)])
    summary = summarise(runs, "sasrec", ["m"], compare_to={"gru-sracl": "gru"})
    gru, with_sracl = (summary.filter(pl.col("variant") == name).row(0, named=True)
                       for name in ("gru", "gru-sracl"))
    assert gru["baseline"] == "sasrec"
    assert gru["gain_pct"] == pytest.approx((0.11 / 0.21 - 1) * 100)
    assert with_sracl["baseline"] == "gru"
    assert with_sracl["gain_pct"] == pytest.approx((0.13 / 0.11 - 1) * 100)
    assert with_sracl["p_value"] == pytest.approx(1 - 2 * math.atan(2) / math.pi)
    lines = markdown_table(summary, ["m"], "sasrec").splitlines()
    assert lines[3].startswith("| gru | 0.1100 ± 0.0141 (-47.6%, p=")
    assert lines[4] == "| gru-sracl | 0.1300 ± 0.0283 (+18.2% vs gru, p=0.295) |"


def test_per_seed_table_gives_each_runs_metrics_in_order_and_blanks_for_missing_runs():
    runs = _runs([("base", 1, "a", 0.0834), ("base", 1, "b", 0.0416),
                  ("base", 2, "a", 0.0842), ("base", 2, "b", 0.0429),
                  ("new", 2, "b", 0.0465), ("new", 2, "a", 0.0923), ("new", 3, "b", 0.05)])
    lines = per_seed_table(runs, ["a", "b"]).splitlines()
    assert lines[0] == "| variant | seed 1 | seed 2 | seed 3 |"
    assert lines[2] == "| base | .0834 / .0416 | .0842 / .0429 |  |"
    assert lines[3] == "| new |  | .0923 / .0465 | – / .0500 |"
    assert lines[-1] == "per seed: a / b"
