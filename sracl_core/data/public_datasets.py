"""The public datasets ``sracl data download`` knows: where each file is, what it hashes to,
and the ``data.source`` section that reads it. A new dataset is one entry here.

Published checksums are recorded where they exist (MovieLens' md5s); Amazon's
files have none, so :mod:`sracl_core.data.download` pins them on first use.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RemoteFile:
    """One published file: where it is and what it must hash to (when known)."""

    name: str
    urls: tuple[str, ...]
    md5: str | None = None
    sha256: str | None = None
    size: int | None = None
    unpack: bool = False


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    description: str
    files: tuple[RemoteFile, ...]
    source_hint: str = field(default="")
    """The ``data.source`` YAML to read the downloaded files, with ``{dest}`` for the folder."""


_GROUPLENS = "https://files.grouplens.org/datasets/movielens"
_AMAZON_2014 = "https://snap.stanford.edu/data/amazon/productGraph/categoryFiles"
_AMAZON_2023 = (
    "https://datarepo.eng.ucsd.edu/mcauley_group/data/amazon_2023/raw",
    "https://mcauleylab.ucsd.edu/public_datasets/data/amazon_2023/raw",
)
AMAZON_2023_CATEGORIES: tuple[str, ...] = (
    "All_Beauty", "Amazon_Fashion", "Appliances", "Arts_Crafts_and_Sewing", "Automotive",
    "Baby_Products", "Beauty_and_Personal_Care", "Books", "CDs_and_Vinyl",
    "Cell_Phones_and_Accessories", "Clothing_Shoes_and_Jewelry", "Digital_Music", "Electronics",
    "Gift_Cards", "Grocery_and_Gourmet_Food", "Handmade_Products", "Health_and_Household",
    "Health_and_Personal_Care", "Home_and_Kitchen", "Industrial_and_Scientific", "Kindle_Store",
    "Magazine_Subscriptions", "Movies_and_TV", "Musical_Instruments", "Office_Products",
    "Patio_Lawn_and_Garden", "Pet_Supplies", "Software", "Sports_and_Outdoors",
    "Subscription_Boxes", "Tools_and_Home_Improvement", "Toys_and_Games", "Video_Games",
)


def _movielens(name: str, archive: str, md5: str, what: str) -> DatasetSpec:
    folder = archive.removesuffix(".zip")
    return DatasetSpec(
        name, f"MovieLens {what} ratings (GroupLens)",
        (RemoteFile(archive, (f"{_GROUPLENS}/{archive}",), md5=md5, unpack=True),),
        f"format: movielens\nroot: {{dest}}/{folder}",
    )


def _amazon_2014(name: str, category: str) -> DatasetSpec:
    reviews, meta = f"reviews_{category}_5.json.gz", f"meta_{category}.json.gz"
    return DatasetSpec(
        name, f"Amazon Reviews 2014, {category.replace('_', ' ')} 5-core reviews and metadata",
        (RemoteFile(reviews, (f"{_AMAZON_2014}/{reviews}",)),
         RemoteFile(meta, (f"{_AMAZON_2014}/{meta}",))),
        f"format: amazon2014\nreviews: {{dest}}/{reviews}\nmeta: {{dest}}/{meta}",
    )


def _amazon_2023(category: str) -> DatasetSpec:
    reviews, meta = f"{category}.jsonl.gz", f"meta_{category}.jsonl.gz"
    return DatasetSpec(
        f"amazon2023-{category.lower().replace('_', '-')}",
        f"Amazon Reviews 2023, {category.replace('_', ' ')} reviews and metadata (all, not "
        "5-core)",
        (RemoteFile(reviews, tuple(f"{base}/review_categories/{reviews}"
                                   for base in _AMAZON_2023)),
         RemoteFile(meta, tuple(f"{base}/meta_categories/{meta}" for base in _AMAZON_2023))),
        f"format: amazon2023\nreviews: {{dest}}/{reviews}\nmeta: {{dest}}/{meta}",
    )


REGISTRY: dict[str, DatasetSpec] = {
    spec.name: spec for spec in (
        _movielens("movielens-100k", "ml-100k.zip", "0e33842e24a9c977be4e0107933c0723", "100K"),
        _movielens("movielens-1m", "ml-1m.zip", "c4d9eecfca2ab87c1945afe126590906", "1M"),
        _amazon_2014("amazon2014-beauty", "Beauty"),
        _amazon_2014("amazon2014-sports", "Sports_and_Outdoors"),
        _amazon_2014("amazon2014-toys", "Toys_and_Games"),
        *(_amazon_2023(category) for category in AMAZON_2023_CATEGORIES),
    )
}
