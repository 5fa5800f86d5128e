import polars as pl
import pytest

from sracl_core.errors import SraclError
from sracl_core.ids import IdMap


def _items() -> IdMap:
    table = pl.DataFrame({"item": [1, 2, 3], "original_id": ["B07", "A01", "42"]})
    return IdMap.from_table("item", table)


def test_dataset_ids_map_to_internal_ids_and_back():
    items = _items()
    assert items.internal(["42", "B07"]) == [3, 1]
    assert [items.original(i) for i in items.internal(["A01", "42"])] == ["A01", "42"]
    assert items.internal(["2", "3"], internal_ids=True) == [2, 3]


def test_the_datasets_item_1_is_not_the_internal_item_1():
    with pytest.raises(SraclError, match=r"unknown item ids: 1; expected the dataset's own ids "
                                         r"\(e\.g\. B07, A01, 42\)"):
        _items().internal(["1"])


def test_unknown_internal_ids_name_the_valid_range_and_reject_non_numbers():
    with pytest.raises(SraclError, match=r"unknown internal item ids: 7; internal ids are 1\.\.3"):
        _items().internal(["7"], internal_ids=True)
    with pytest.raises(SraclError, match="'B07' is not a whole number"):
        _items().internal(["B07"], internal_ids=True)


def test_an_id_pasted_with_the_spaces_around_it_in_the_file_is_found():
    """The table reader strips ids, so ``"  B07 "`` in a CSV is item ``B07`` after ingest."""
    items = _items()
    assert items.internal(["  B07 ", "42\t"]) == items.internal(["B07", "42"])
    with pytest.raises(SraclError, match="unknown item ids: B 07"):
        items.internal([" B 07 "])
