"""Line-oriented reading: gzip by content, blank lines skipped, each bad record named by line."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from sracl_core.data.readers.lines import (
    numbered_lines,
    optional_str_list,
    parse_json_object,
    parse_price,
    parse_python_literal,
    required_id,
    required_int,
)
from sracl_core.errors import DataFormatError


def test_gzip_is_recognised_by_its_bytes_and_blank_lines_keep_their_numbers(tmp_path) -> None:
    plain, packed = tmp_path / "a.json", tmp_path / "b.txt"  # names say nothing
    plain.write_text('{"x": 1}\n\n{"x": 2}\r\n')
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    expected = [(1, '{"x": 1}'), (3, '{"x": 2}')]
    assert list(numbered_lines(plain, "reviews")) == expected
    assert list(numbered_lines(packed, "reviews")) == expected


def test_an_undecodable_byte_and_a_cut_gzip_are_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"fine\n\xff\xfe oops\n")
    with pytest.raises(DataFormatError, match=r"bad.txt:2: expected utf-8 text"):
        list(numbered_lines(bad, "reviews"))
    cut = tmp_path / "cut.gz"
    cut.write_bytes(gzip.compress(b"line\n" * 1000)[:40])
    with pytest.raises(DataFormatError, match=r"cut.gz: expected a complete gzip file"):
        list(numbered_lines(cut, "reviews"))


def test_records_and_fields_fail_with_the_line_and_what_was_expected() -> None:
    path = Path("meta.json")
    assert parse_python_literal(path, 3, "{'asin': 'B1', 'ok': True}") == {"asin": "B1",
                                                                          "ok": True}
    with pytest.raises(DataFormatError, match=r"meta.json:4: expected one Python dict literal"):
        parse_python_literal(path, 4, "__import__('os').system('x')")  # never evaluated
    with pytest.raises(DataFormatError, match=r"meta.json:5: expected one JSON object a line"):
        parse_json_object(path, 5, "[1, 2]")
    assert required_id({"user": 17}, "user", path, 1) == "17"
    with pytest.raises(DataFormatError, match=r"expected a non-empty string field 'user'"):
        required_id({"user": ""}, "user", path, 6)
    assert required_int({"t": " 1700 "}, "t", path, 1) == 1700
    with pytest.raises(DataFormatError, match=r"expected an integer field 't'"):
        required_int({"t": 1.5}, "t", path, 7)
    assert required_int({"t": -(2**63)}, "t", path, 1) == -(2**63)
    for too_big in (2**63, str(10**20)):
        with pytest.raises(DataFormatError, match=r":8: expected an integer field 't' that fits"):
            required_int({"t": too_big}, "t", path, 8)
    assert optional_str_list({"c": [" a ", "", "b"]}, "c", path, 1) == ["a", "b"]


@pytest.mark.parametrize("value, price", [(12.5, 12.5), ("$1,299.00", 1299.0), ("", None),
                                          (None, None)])
def test_prices_as_published(value, price) -> None:
    assert parse_price(value) == price
