"""Per-run metrics -> one table: mean and spread over seeds, gain over the baseline, p-value.

The gain and the significance test pair runs by seed: the gain compares the means over
the seeds both variants have, and the test is a paired t-test over them (``ttest_rel``):
runs of two variants with the same seed share the data, the split and the
initial RNG stream, so pairing by seed removes that shared noise. With fewer
than two common seeds there is no test and the p-value is left empty. Where a
variant has a published number, a one-sample t-test of its seeds against that
number (``ttest_1samp``) says whether the reproduction is distinguishable from it.
"""

from __future__ import annotations

import math

import polars as pl
from scipy import stats

RUN_SCHEMA = {"variant": pl.String, "seed": pl.Int64, "metric": pl.String, "value": pl.Float64}


def summarise(runs: pl.DataFrame, baseline: str, metrics: list[str],
              reference: dict[str, dict[str, float]] | None = None,
              compare_to: dict[str, str] | None = None) -> pl.DataFrame:
    """``runs``: one row per (variant, seed, metric, value). One row per (variant, metric),
    its gain and p against ``baseline``, or against ``compare_to[variant]`` where given
    (GRU4Rec + SRA-CL against GRU4Rec); the row's ``baseline`` column says which."""
    reference, compare_to = reference or {}, compare_to or {}
    rows = []
    variants = list(dict.fromkeys(runs["variant"].to_list()))
    for variant in variants:
        against = compare_to.get(variant, baseline)
        for metric in metrics:
            mine = _by_seed(runs, variant, metric)
            base = _by_seed(runs, against, metric)
            values = list(mine.values())
            mean = sum(values) / len(values) if values else math.nan
            spread = _std(values)
            gain = _paired_gain(mine, base) if variant != against else math.nan
            rows.append({"variant": variant, "metric": metric, "seeds": len(values),
                         "mean": mean, "std": spread, "baseline": against, "gain_pct": gain,
                         "p_value": _paired_p(mine, base) if variant != against else math.nan,
                         "reference": (published := reference.get(variant, {}).get(
                             metric, math.nan)),
                         "reference_p": _one_sample_p(values, published)})
    return pl.DataFrame(rows, schema={
        "variant": pl.String, "metric": pl.String, "seeds": pl.Int64, "mean": pl.Float64,
        "std": pl.Float64, "baseline": pl.String, "gain_pct": pl.Float64, "p_value": pl.Float64,
        "reference": pl.Float64, "reference_p": pl.Float64})


def mean_minutes(seconds: list[tuple[str, float]]) -> dict[str, float]:
    """(variant, training seconds) per run -> each variant's mean minutes per run."""
    spent: dict[str, list[float]] = {}
    for variant, value in seconds:
        spent.setdefault(variant, []).append(value / 60)
    return {variant: sum(values) / len(values) for variant, values in spent.items()}


def _by_seed(runs: pl.DataFrame, variant: str, metric: str) -> dict[int, float]:
    chosen = runs.filter((pl.col("variant") == variant) & (pl.col("metric") == metric))
    return dict(chosen.select("seed", "value").iter_rows())


def _std(values: list[float]) -> float:
    """Sample standard deviation (n - 1), 0 for a single seed."""
    if len(values) < 2:
        return 0.0 if values else math.nan
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def _paired_gain(mine: dict[int, float], base: dict[int, float]) -> float:
    """Percent gain of the mean over the seeds both have: while a grid is unfinished, a
    mean over two seeds against one over three would mix seed noise into the gain."""
    common = sorted(set(mine) & set(base))
    base_sum = sum(base[seed] for seed in common)
    if not common or not base_sum:
        return math.nan
    return (sum(mine[seed] for seed in common) / base_sum - 1.0) * 100


def _paired_p(mine: dict[int, float], base: dict[int, float]) -> float:
    common = sorted(set(mine) & set(base))
    if len(common) < 2:
        return math.nan
    a = [mine[seed] for seed in common]
    b = [base[seed] for seed in common]
    if all(x == y for x, y in zip(a, b, strict=True)):
        return 1.0
    return float(stats.ttest_rel(a, b).pvalue)


def _one_sample_p(values: list[float], published: float) -> float:
    """Two-sided p of the seeds' mean against a published number (NaN without one, with
    fewer than two seeds, or with no spread to test against)."""
    if math.isnan(published) or len(values) < 2 or _std(values) == 0.0:
        return math.nan
    return float(stats.ttest_1samp(values, published).pvalue)


def markdown_table(summary: pl.DataFrame, metrics: list[str], baseline: str,
                   minutes: dict[str, float] | None = None) -> str:
    """The paper's layout: one row per variant, one column per metric (mean ± std, gain, p).

    ``minutes`` (variant -> mean training minutes per run) adds the cost column a reader
    needs to weigh a gain against: SRA-CL's extra encoder passes make it several times
    dearer than its baseline.
    """
    timed = minutes is not None
    header = "| variant | " + " | ".join(metrics) + (" | training (min/run) |" if timed else " |")
    lines = [header, "|---|" + "---:|" * (len(metrics) + timed)]
    for variant in dict.fromkeys(summary["variant"].to_list()):
        cells = []
        for metric in metrics:
            row = summary.filter((pl.col("variant") == variant) & (pl.col("metric") == metric))
            if row.is_empty():
                cells.append("")
                continue
            values = row.row(0, named=True)
            cell = f"{values['mean']:.4f}"
            if values["seeds"] > 1:  # one seed has no spread to show, not a spread of zero
                cell += f" ± {values['std']:.4f}"
            if not math.isnan(values["gain_pct"]):
                against = values["baseline"]
                cell += f" ({values['gain_pct']:+.1f}%"
                cell += f" vs {against}" if against != baseline else ""
                cell += f", p={values['p_value']:.3f})" if not math.isnan(values["p_value"]) \
                    else ")"
            if not math.isnan(values["reference"]):
                cell += f" [paper {values['reference']:.4f}"
                cell += f", p={values['reference_p']:.3f}]" \
                    if not math.isnan(values["reference_p"]) else "]"
            cells.append(cell)
        if timed:
            # 0: runs whose artifacts predate the recorded training time
            cells.append(f"{minutes[variant]:.0f}" if minutes.get(variant) else "")
        lines.append(f"| {variant} | " + " | ".join(cells) + " |")
    seeds = int(summary["seeds"].max()) if summary.height else 0
    lines += ["", f"mean ± sample std over up to {seeds} seeds (no ±: one seed); (gain over "
                  f"{baseline} or the variant after 'vs', "
                  "paired t-test p over seeds); [paper: the published number, and the "
                  "one-sample t-test p of the seeds against it]"
                  + ("; training: summed epoch time per run, mean over seeds" if timed else "")]
    return "\n".join(lines)


def per_seed_table(runs: pl.DataFrame, metrics: list[str]) -> str:
    """Every run's own numbers, a row per variant and a column per seed, each cell the
    metrics in the grid's order (``.0920 / .0465 / ...``): what the means and p-values of
    :func:`markdown_table` are computed from, so a reader can check one seed's run."""
    seeds = sorted(set(runs["seed"].to_list()))
    lines = ["| variant | " + " | ".join(f"seed {seed}" for seed in seeds) + " |",
             "|---|" + "---|" * len(seeds)]
    for variant in dict.fromkeys(runs["variant"].to_list()):
        cells = []
        for seed in seeds:
            values = [_by_seed(runs, variant, metric).get(seed) for metric in metrics]
            cells.append("" if all(value is None for value in values) else " / ".join(
                "–" if value is None else f"{value:.4f}".removeprefix("0") for value in values))
        lines.append(f"| {variant} | " + " | ".join(cells) + " |")
    lines += ["", "per seed: " + " / ".join(metrics)]
    return "\n".join(lines)
