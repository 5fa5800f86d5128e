"""Scripts take their data from a config's data.source, never from one machine's paths."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from sracl_core.errors import ConfigError
from sracl_core.script_data import (
    PROJECT_ROOT,
    add_data_arguments,
    resolve_data_arguments,
    sasrec_files,
)

MACHINE_PATHS = re.compile(r"""["'](/work/|/home/|/Users/|/mnt/|[^"']*shared/datasets)""")


def write_config(path: Path, source: str) -> Path:
    path.write_text(f"dataset: t\ndata:\n  source:\n{source}")
    return path


def parser_for(items: bool = False) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    add_data_arguments(parser, items=items)
    return parser


def test_files_come_from_the_config_relative_to_its_folder(tmp_path: Path):
    config = write_config(tmp_path / "c.yaml", "    format: sasrec\n"
                          "    interactions: d/interactions.txt\n    items: d/items.tsv\n")
    assert sasrec_files(config) == (tmp_path / "d" / "interactions.txt",
                                    tmp_path / "d" / "items.tsv")
    parser = parser_for(items=True)
    args = parser.parse_args(["--config", str(config),
                              "--set", "data.source.interactions=/elsewhere/log.txt"])
    resolve_data_arguments(parser, args)
    assert (args.data, args.items) == (Path("/elsewhere/log.txt"), tmp_path / "d" / "items.tsv")


def test_explicit_files_need_no_config(tmp_path: Path):
    parser = parser_for()
    args = parser.parse_args(["--config", str(tmp_path / "absent.yaml"), "--data", "x.txt"])
    resolve_data_arguments(parser, args)
    assert args.data == Path("x.txt")


def test_a_source_of_another_format_is_refused_with_the_way_out(tmp_path: Path):
    config = write_config(tmp_path / "c.yaml", "    format: movielens\n    root: ml\n")
    with pytest.raises(ConfigError) as caught:
        sasrec_files(config)
    assert "data.source.format is 'movielens'" in str(caught.value)
    assert "sracl data sample" in str(caught.value) and "--data" in str(caught.value)


def test_config_problems_end_the_script_with_a_usage_error(tmp_path: Path, capsys):
    parser = parser_for()
    args = parser.parse_args(["--config", str(tmp_path / "absent.yaml")])
    with pytest.raises(SystemExit):
        resolve_data_arguments(parser, args)
    assert "config file not found" in capsys.readouterr().err


def test_missing_items_file_is_asked_for(tmp_path: Path, capsys):
    config = write_config(tmp_path / "c.yaml", "    format: sasrec\n    interactions: i.txt\n")
    parser = parser_for(items=True)
    with pytest.raises(SystemExit):
        resolve_data_arguments(parser, parser.parse_args(["--config", str(config)]))
    assert "pass --items" in capsys.readouterr().err


@pytest.mark.parametrize("script", sorted((PROJECT_ROOT / "benchmarks").glob("*.py")),
                         ids=lambda path: path.name)
def test_benchmarks_have_no_machine_specific_data_paths(script: Path):
    found = [line.strip() for line in script.read_text().splitlines()
             if MACHINE_PATHS.search(line)]
    assert not found, f"{script.name} defaults to a path of one machine: {found}"
