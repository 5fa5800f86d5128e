"""Small canonical ingest tables for the semantic tests."""

from __future__ import annotations

import polars as pl
import pytest

from sracl_core.data.split import split_sequences, training_prefixes


def make_items(titles: dict[int, str | None], **extra: dict[int, object]) -> pl.DataFrame:
    """An ``items`` table as ingest writes it, titles by item id, other fields null."""
    ids = sorted(titles)
    columns = {
        "item": pl.Series(ids, dtype=pl.Int32),
        "original_id": [f"A{i:04d}" for i in ids],
        "title": [titles[i] for i in ids],
    }
    for name, dtype in (("brand", pl.String), ("categories", pl.String),
                        ("description", pl.String), ("price", pl.Float64)):
        values = extra.get(name, {})
        columns[name] = pl.Series([values.get(i) for i in ids], dtype=dtype)
    return pl.DataFrame(columns)


def make_interactions(histories: dict[int, list[int]]) -> pl.DataFrame:
    rows = [(user, item, position) for user, items in histories.items()
            for position, item in enumerate(items)]
    return pl.DataFrame(rows, schema={"user": pl.Int32, "item": pl.Int32, "position": pl.Int32},
                        orient="row")


@pytest.fixture
def small_data() -> dict[str, pl.DataFrame]:
    """Four users; their validation and test items are unique and marked in their titles."""
    histories = {
        1: [1, 2, 3, 4, 101, 201],
        2: [2, 3, 5, 1, 6, 102, 202],
        3: [5, 6, 1, 2, 103, 203],
        4: [3, 4, 5, 6, 2, 1, 104, 204],
    }
    titles: dict[int, str | None] = {i: f"Train product {i}" for i in range(1, 7)}
    titles.update({100 + u: f"VALID-ONLY {u}" for u in histories})
    titles.update({200 + u: f"TEST-ONLY {u}" for u in histories})
    sequences = split_sequences(make_interactions(histories))
    return {
        "items": make_items(titles, brand={1: "Acme"}, description={1: "x" * 500},
                            price={1: 12.5}),
        "sequences": sequences,
        "train_samples": training_prefixes(sequences, max_len=3),
    }
