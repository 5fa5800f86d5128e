import random
from pathlib import Path

import polars as pl

from sracl_core.data.config import SasrecSource
from sracl_core.data.preprocess import k_core
from sracl_core.data.raw import RAW_INTERACTION_SCHEMA, RawDataset, items_frame
from sracl_core.data.readers.sasrec import read_sasrec
from sracl_core.data.sample import SampleSpec, dense_sample, write_sasrec


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
