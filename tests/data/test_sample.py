import random
from pathlib import Path

import polars as pl
import pytest

from sracl_core.data.config import SasrecSource
from sracl_core.data.preprocess import k_core
from sracl_core.data.raw import RAW_INTERACTION_SCHEMA, RawDataset, items_frame
from sracl_core.data.readers.sasrec import read_sasrec
from sracl_core.data.sample import SampleSpec, dense_sample, write_sasrec
from sracl_core.errors import SraclError

DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "configs" / "default.yaml"


def synthetic(n_users: int = 300, n_items: int = 120, seed: int = 0) -> RawDataset:
    """Users with skewed item popularity, so a uniform cut would not be k-core."""
    rng = random.Random(seed)
    users, items = [], []
    for user in range(1, n_users + 1):
        for _ in range(rng.randint(5, 15)):
            users.append(str(user))
            items.append(str(int(rng.paretovariate(1.2)) % n_items + 1))
    order = list(range(len(users)))
    frame = pl.DataFrame({"user_id": users, "item_id": items, "timestamp": order,
                          "source_order": order}, schema=RAW_INTERACTION_SCHEMA)
    ids = [str(i) for i in range(1, n_items + 1)]
    titles = [None if i % 10 == 0 else f"title {i}" for i in range(1, n_items + 1)]
    return RawDataset(frame, items_frame({"item_id": ids, "title": titles}), Path("x"), Path("y"))


def test_dense_sample_is_k_core_titled_and_keeps_original_order(tmp_path: Path):
    raw = synthetic()
    sample = dense_sample(raw, SampleSpec(n_users=60, n_popular_items=30, k_core=5, seed=3))
    frame = sample.interactions
    assert 0 < frame["user_id"].n_unique() <= 60
    assert k_core(frame, user_k=5, item_k=5).height == frame.height
    titled = set(raw.items.filter(pl.col("title").is_not_null())["item_id"])
    assert set(frame["item_id"]) <= titled
    assert frame["source_order"].is_sorted()
    assert set(sample.items["item_id"]) == set(frame["item_id"])


def test_written_sample_reads_back_identically(tmp_path: Path):
    sample = dense_sample(synthetic(), SampleSpec(60, 30, 5, 3))
    write_sasrec(sample, tmp_path)
    again = read_sasrec(SasrecSource(interactions=tmp_path / "interactions.txt",
                                     items=tmp_path / "items.tsv"))
    assert again.interactions.select("user_id", "item_id").rows() == sample.interactions.select(
        "user_id", "item_id").rows()
    titles = dict(zip(again.items["item_id"], again.items["title"], strict=True))
    assert titles == dict(zip(sample.items["item_id"], sample.items["title"], strict=True))


def test_every_item_column_survives_writing_and_reading_back(tmp_path: Path):
    """Brand, categories, description and price were dropped; tabs cannot break the TSV."""
    raw = synthetic()
    n = raw.items.height
    items = raw.items.with_columns(
        brand=pl.Series([f"brand {i}" if i % 3 else None for i in range(n)]),
        categories=pl.Series([f"Beauty > Skin > {i}" for i in range(n)]),
        description=pl.Series([f'"Soft"\ttoner,\nline {i}' for i in range(n)]),
        price=pl.Series([None if i % 4 == 0 else i + 0.99 for i in range(n)]),
    )
    sample = dense_sample(RawDataset(raw.interactions, items, Path("x"), Path("y")),
                          SampleSpec(60, 30, 5, 3))
    columns = write_sasrec(sample, tmp_path)
    assert columns == ["item_id", "title", "brand", "categories", "description", "price"]
    again = read_sasrec(SasrecSource(interactions=tmp_path / "interactions.txt",
                                     items=tmp_path / "items.tsv"))
    expected = sample.items.with_columns(pl.col("description").str.replace_all(r"[\t\n]+", " "))
    assert again.items.sort("item_id").rows() == expected.sort("item_id").rows()
    assert again.items["price"].null_count() > 0 and again.items["brand"].null_count() > 0


def test_non_numeric_ids_are_renumbered_and_the_original_kept(tmp_path: Path):
    """Amazon ids ("B00...") do not fit the integer SASRec format; the sample must still."""
    raw = synthetic()
    interactions = raw.interactions.with_columns(pl.format("A{}", "user_id").alias("user_id"),
                                                 pl.format("B{}", "item_id").alias("item_id"))
    items = raw.items.with_columns(pl.format("B{}", "item_id").alias("item_id"))
    sample = dense_sample(RawDataset(interactions, items, Path("x"), Path("y")),
                          SampleSpec(60, 30, 5, 3))
    columns = write_sasrec(sample, tmp_path)
    assert columns[-1] == "original_id"
    again = read_sasrec(SasrecSource(interactions=tmp_path / "interactions.txt",
                                     items=tmp_path / "items.tsv"))
    table = pl.read_csv(tmp_path / "items.tsv", separator="\t", infer_schema=False)
    original = dict(zip(table["item_id"], table["original_id"], strict=True))
    assert [original[i] for i in again.interactions["item_id"]] == \
        sample.interactions["item_id"].to_list()
    titles = dict(zip(sample.items["item_id"], sample.items["title"], strict=True))
    assert {original[i]: t for i, t in zip(again.items["item_id"], again.items["title"],
                                           strict=True)} == titles


def test_cli_data_sample_keeps_item_columns(tmp_path: Path):
    """``sracl data sample`` over a table source with string ids and several item columns."""
    from typer.testing import CliRunner

    from flows.cli import app

    rng = random.Random(1)
    rows = [f"u{user},sku{rng.randint(1, 12)},{t}" for user in range(40) for t in range(8)]
    (tmp_path / "log.csv").write_text("user_id,item_id,timestamp\n" + "\n".join(rows) + "\n")
    (tmp_path / "items.csv").write_text("item_id,title,brand,category,price\n" + "".join(
        f'sku{i},"Mug, size {i}",Potter,Kitchen > Mugs,{i}.5\n' for i in range(1, 13)))
    config = tmp_path / "config.yaml"
    config.write_text(
        "dataset: t\ndata:\n  k_core: 2\n  source:\n    format: table\n"
        "    interactions: log.csv\n    items: items.csv\n"
        "    item_columns: {title: title, brand: brand, categories: category, price: price}\n")
    result = CliRunner().invoke(app, ["data", "sample", "--config", str(config), "--output",
                                      str(tmp_path / "out"), "--users", "10",
                                      "--popular-items", "12"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "item columns: item_id, title, brand, categories, description, price, " \
        "original_id" in " ".join(result.output.split())
    again = read_sasrec(SasrecSource(interactions=tmp_path / "out" / "interactions.txt",
                                     items=tmp_path / "out" / "items.tsv"))
    first = again.items.sort("item_id").row(0, named=True)
    assert first["brand"] == "Potter" and first["categories"] == "Kitchen > Mugs"
    assert first["title"].startswith("Mug, size ") and first["price"] % 1 == 0.5


def test_a_sample_that_keeps_nothing_fails_naming_the_options():
    raw = synthetic()
    for users, popular in ((0, 30), (60, 0)):
        with pytest.raises(SraclError, match=rf"--users {users}, --popular-items {popular}: "
                                             r"no interaction of x is left at 5-core"):
            dense_sample(raw, SampleSpec(n_users=users, n_popular_items=popular, k_core=5,
                                         seed=3))


def test_cli_data_sample_that_keeps_nothing_is_one_error_and_writes_nothing(tmp_path: Path):
    from typer.testing import CliRunner

    from flows.cli import app

    result = CliRunner().invoke(app, ["data", "sample", "--config", str(DEFAULT_CONFIG),
                                      "--output", str(tmp_path / "out"), "--users", "0"],
                                terminal_width=200)
    assert result.exit_code == 1, result.output
    assert result.output.startswith("error: --users 0, --popular-items 200: no interaction")
    assert not (tmp_path / "out").exists()
