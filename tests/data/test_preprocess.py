"""The shared cleaning steps: metadata check, de-duplication, k-core, order, re-indexing.

The last tests ingest the real Beauty and Sports data and compare with the
statistics the SRA-CL paper reports.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from sracl_core.data.config import DataConfig, SasrecSource, TableSource
from sracl_core.data.preprocess import CleanDataset, clean, k_core
from sracl_core.data.raw import RAW_INTERACTION_SCHEMA, RawDataset, items_frame
from sracl_core.data.readers import read_source
from sracl_core.errors import DataFormatError, EmptyDatasetError

INTERACTIONS_PATH = Path("log.csv")


def raw_dataset(records: list[tuple[str, str, int]],
                titled: list[str] | None = None) -> RawDataset:
    """``(user, item, timestamp)`` records in file order; items with titles if given."""
    users, items, times = zip(*records, strict=True) if records else ((), (), ())
    frame = pl.DataFrame(
        {"user_id": list(users), "item_id": list(items), "timestamp": list(times),
         "source_order": list(range(len(records)))},
        schema=RAW_INTERACTION_SCHEMA,
    )
    text = None
    if titled is not None:
        text = items_frame({"item_id": titled, "title": [f"title of {i}" for i in titled]})
    return RawDataset(frame, text, INTERACTIONS_PATH, Path("items.csv") if titled else None)


def config(**fields: object) -> DataConfig:
    return DataConfig.model_validate(
        {"source": {"format": "sasrec", "interactions": "unused.txt"}, "k_core": 1, **fields})


def sequences(dataset: CleanDataset) -> dict[str, list[str]]:
    """Original user id -> original item ids in the cleaned chronological order."""
    frame = dataset.interactions.sort("user", "position")
    result: dict[str, list[str]] = {}
    for user, item in frame.select("original_user", "original_item").iter_rows():
        result.setdefault(user, []).append(item)
    return result


def cascade() -> list[tuple[str, str, int]]:
    """A 3-core case that takes four filtering rounds to settle.

    Round 1 drops item x (2 users); u4 and u5 fall to 2 interactions. Round 2
    drops u4 and u5, leaving w and y with one user each. Round 3 drops w and y,
    leaving u1 and u6 with 2. Round 4 drops u1 and u6. u2, u3, u7 x {a, b, c}
    remain. One pass of items-then-users would wrongly keep u1 (a, b, w).
    """
    baskets = {"u1": "abw", "u2": "abc", "u3": "abc", "u4": "xwy", "u5": "xwy", "u6": "yca",
               "u7": "abc"}
    return [(user, item, t) for user, basket in baskets.items()
            for t, item in enumerate(basket)]


def test_k_core_iterates_to_a_fixed_point():
    raw = raw_dataset(cascade()).interactions
    kept = k_core(raw, user_k=3, item_k=3)
    assert sorted(set(kept["user_id"])) == ["u2", "u3", "u7"]
    assert sorted(set(kept["item_id"])) == ["a", "b", "c"]
    assert kept.height == 9


def test_one_round_would_not_be_enough():
    raw = raw_dataset(cascade()).interactions
    one_round = raw.filter((pl.len().over("user_id") >= 3) & (pl.len().over("item_id") >= 3))
    assert one_round.height > k_core(raw, user_k=3, item_k=3).height


def test_clean_reports_what_k_core_dropped():
    dataset = clean(raw_dataset(cascade()), config(k_core=3))
    assert dataset.stats["dropped_by_k_core"] == 21 - 9
    assert dataset.stats["n_users"] == 3 and dataset.stats["n_items"] == 3


def test_users_need_three_interactions_even_at_k_1():
    raw = raw_dataset([("a", "x", 1), ("a", "y", 2), ("b", "x", 1), ("b", "y", 2),
                       ("b", "z", 3)])
    assert sequences(clean(raw, config(k_core=1))) == {"b": ["x", "y", "z"]}


# One user: the (i1, 10) record repeats exactly; i1 comes back at 40; i2's line 5 is
# earlier in time (5) than its line 1 (20).
DUPLICATES = [("u", "i1", 10), ("u", "i2", 20), ("u", "i1", 10), ("u", "i3", 30),
              ("u", "i1", 40), ("u", "i2", 5)]


@pytest.mark.parametrize(
    ("mode", "expected", "dropped"),
    [
        ("none", ["i2", "i1", "i1", "i2", "i3", "i1"], 0),
        ("exact", ["i2", "i1", "i2", "i3", "i1"], 1),
        ("user_item", ["i2", "i1", "i3"], 3),
    ],
)
def test_dedupe_modes(mode: str, expected: list[str], dropped: int, caplog):
    with caplog.at_level("INFO", logger="sracl_core"):
        dataset = clean(raw_dataset(DUPLICATES), config(dedupe=mode))
    assert sequences(dataset) == {"u": expected}
    assert dataset.stats["dropped_duplicates"] == dropped
    said = f"ingest: dropped {dropped} repeated interactions (data.dedupe={mode})"
    assert (said in caplog.text) == bool(dropped)


def test_timestamp_ties_keep_file_order():
    records = [("u", "c", 7), ("v", "p", 1), ("u", "a", 7), ("v", "q", 1), ("u", "b", 7),
               ("v", "r", 0), ("u", "z", 3)]
    dataset = clean(raw_dataset(records), config())
    assert sequences(dataset) == {"u": ["z", "c", "a", "b"], "v": ["r", "p", "q"]}
    assert dataset.interactions.filter(pl.col("original_user") == "u")["position"].to_list() \
        == [0, 1, 2, 3]


def test_reindexing_counts_from_one_in_order_of_first_appearance():
    # "short" has two interactions and is dropped, so "zed" and item "m" come first.
    records = [("short", "gone", 1), ("short", "gone2", 2), ("zed", "m", 5), ("amy", "k", 1),
               ("zed", "k", 6), ("amy", "m", 2), ("zed", "a", 7), ("amy", "a", 3)]
    dataset = clean(raw_dataset(records), config())
    assert dataset.users.select("user", "original_id", "n_interactions").rows() == [
        (1, "zed", 3), (2, "amy", 3)]
    assert dataset.items.select("item", "original_id").rows() == [(1, "m"), (2, "k"), (3, "a")]
    assert dataset.interactions.filter(pl.col("user") == 2)["item"].to_list() == [2, 1, 3]
    assert dataset.interactions["item"].min() == 1


def test_item_text_follows_the_new_ids_and_no_text_source_gives_nulls():
    records = [("u", "b", 1), ("u", "a", 2), ("u", "c", 3)]
    dataset = clean(raw_dataset(records, titled=["a", "b", "c"]), config())
    assert dataset.items.select("item", "title").rows() == [
        (1, "title of b"), (2, "title of a"), (3, "title of c")]
    bare = clean(raw_dataset(records), config())
    assert bare.items["title"].null_count() == 3
    assert bare.stats["items_without_text"] == 3


def test_missing_metadata_is_dropped_counted_and_its_share_logged(caplog):
    records = [("u", "a", 1), ("u", "ghost", 2), ("u", "b", 3), ("u", "c", 4),
               ("v", "ghost", 1)]
    dataset = clean(raw_dataset(records, titled=["a", "b", "c"]), config())
    assert dataset.stats["dropped_missing_metadata"] == 2
    assert sequences(dataset) == {"u": ["a", "b", "c"]}
    assert "dropping 2 of 5 interactions (40%) whose items are not in items.csv, such as " \
           "item 'ghost'" in caplog.text


def test_missing_metadata_fails_naming_the_interactions_file_and_row(tmp_path: Path):
    interactions = tmp_path / "interactions.txt"
    interactions.write_text("1 1\n1 2\n1 3\n2 1\n")
    items = tmp_path / "items.tsv"
    items.write_text("item_id\ttitle\n1\tA\n2\tB\n")
    source = SasrecSource(interactions=interactions, items=items)
    with pytest.raises(DataFormatError) as caught:
        clean(read_source(source), config(missing_metadata="fail"))
    message = str(caught.value)
    assert f"{interactions}:3:" in message
    assert f"every item to have a row in {items}" in message
    assert "got 'item 3'" in message


def test_missing_metadata_names_the_line_past_blank_lines(tmp_path: Path):
    interactions = tmp_path / "interactions.txt"
    interactions.write_text("1 1\n\n1 2\n\n1 3\n")
    items = tmp_path / "items.tsv"
    items.write_text("item_id\ttitle\n1\tA\n2\tB\n")
    source = SasrecSource(interactions=interactions, items=items)
    with pytest.raises(DataFormatError) as caught:
        clean(read_source(source), config(missing_metadata="fail"))
    assert str(caught.value).startswith(f"{interactions}:5: expected every item")


def test_missing_metadata_in_a_table_names_the_csv_line(tmp_path: Path):
    interactions = tmp_path / "log.csv"
    interactions.write_text('user_id,item_id,timestamp\nu,a,1\n"u\n2",ghost,2\n')
    items = tmp_path / "items.csv"
    items.write_text("item_id,title\na,A\n")
    source = TableSource(interactions=interactions, items=items)
    with pytest.raises(DataFormatError) as caught:
        clean(read_source(source), config(missing_metadata="fail"))
    assert str(caught.value).startswith(f"{interactions}:3: expected every item")


def test_nothing_left_after_filtering_is_an_error():
    records = [("u", "a", 1), ("u", "b", 2), ("u", "c", 3)]
    with pytest.raises(EmptyDatasetError) as caught:
        clean(raw_dataset(records), config(k_core=2))
    assert str(INTERACTIONS_PATH) in str(caught.value)
    assert "2-core" in str(caught.value)


def test_only_missing_metadata_leaves_nothing():
    records = [("u", "a", 1), ("u", "b", 2), ("u", "c", 3)]
    with pytest.raises(EmptyDatasetError):
        clean(raw_dataset(records, titled=["z"]), config())


@pytest.mark.parametrize(
    ("name", "users", "items", "actions", "avg_length"),
    [("beauty", 22_363, 12_101, 198_502, 8.88), ("sports", 35_598, 18_357, 296_337, 8.32)],
)
def test_paper_statistics(shared_datasets: Path, name: str, users: int, items: int,
                          actions: int, avg_length: float):
    folder = shared_datasets / name
    data = DataConfig(source=SasrecSource(interactions=folder / "interactions.txt",
                                          items=folder / "items.tsv"))
    assert data.k_core == 5
    stats = clean(read_source(data.source), data).stats
    assert (stats["n_users"], stats["n_items"], stats["n_interactions"]) == (users, items,
                                                                             actions)
    assert round(stats["n_interactions"] / stats["n_users"], 2) == avg_length
    assert stats["dropped_by_k_core"] == 0 and stats["dropped_duplicates"] == 0
