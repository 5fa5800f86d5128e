"""The ingest section: a source is one of the registered formats, named by ``format``."""

from __future__ import annotations

from pathlib import Path

import pytest

from sracl_core.config import validate_config
from sracl_core.data.config import SOURCES, MovieLensSource, SasrecSource, TableSource
from sracl_core.errors import ConfigError


def load(source: dict, tmp_path: Path):
    return validate_config({"dataset": "d", "data": {"source": source}}, source="test.yaml",
                           base_dir=tmp_path)


def test_every_built_in_format_is_registered_with_its_section() -> None:
    assert SOURCES.names() == ["amazon2014", "amazon2023", "movielens", "sasrec", "table"]
    assert SOURCES.config("sasrec") is SasrecSource and SOURCES.config("table") is TableSource


def test_paths_are_read_from_the_config_files_folder(tmp_path: Path) -> None:
    config = load({"format": "movielens", "root": "ml-100k"}, tmp_path)
    assert isinstance(config.data.source, MovieLensSource)
    assert config.data.source.root == tmp_path / "ml-100k"


def test_a_missing_or_unknown_format_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"data\.source\.format: required key 'format' is "
                                          r"missing; expected one of: amazon2014, amazon2023, "
                                          r"movielens, sasrec, table"):
        load({"interactions": "x.txt"}, tmp_path)
    with pytest.raises(ConfigError, match=r"data\.source\.format: unknown name 'csv'"):
        load({"format": "csv", "interactions": "x.txt"}, tmp_path)
    with pytest.raises(ConfigError, match=r"data\.source\.reviews: no such key \(allowed: "
                                          r"format, id_column, interactions, items\)"):
        load({"format": "sasrec", "interactions": "x.txt", "reviews": "y"}, tmp_path)
