from pathlib import Path

from sracl_core.config import load_config
from sracl_core.last_run import last_overrides, record


def test_a_run_is_found_again_even_when_its_overrides_moved_the_cache(tiny_config: Path,
                                                                      tmp_path: Path):
    assert last_overrides(tiny_config) is None
    overrides = [f"cache_root={tmp_path / 'elsewhere'}", "train.epochs=3"]
    path = record(tiny_config, overrides)
    assert path.is_relative_to(load_config(tiny_config).cache_root)
    assert last_overrides(tiny_config) == overrides
    record(tiny_config, [])
    assert last_overrides(tiny_config) == []


def test_a_damaged_record_counts_as_no_record(tiny_config: Path):
    path = record(tiny_config, ["train.epochs=3"])
    path.write_text("{not json")
    assert last_overrides(tiny_config) is None
