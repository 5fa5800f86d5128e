from pathlib import Path

from sracl_core.config import load_config
from sracl_core.last_run import LastRun, last_run, record


def test_a_run_is_found_again_even_when_its_overrides_moved_the_cache(tiny_config: Path,
                                                                      tmp_path: Path):
    assert last_run(tiny_config) is None
    overrides = [f"cache_root={tmp_path / 'elsewhere'}", "train.epochs=3"]
    path = record(tiny_config, overrides, finished=True)
    assert path.is_relative_to(load_config(tiny_config).cache_root)
    assert last_run(tiny_config) == LastRun(overrides, finished=True)
    record(tiny_config, [], finished=True)
    assert last_run(tiny_config) == LastRun([], finished=True)


def test_a_started_run_replaces_a_finished_one_until_it_finishes(tiny_config: Path):
    """After an interrupted run, status and inspect describe that run, not an older one."""
    record(tiny_config, ["train.epochs=3"], finished=True)
    record(tiny_config, [], finished=False)
    assert last_run(tiny_config) == LastRun([], finished=False)
    record(tiny_config, [], finished=True)
    assert last_run(tiny_config) == LastRun([], finished=True)


def test_a_damaged_record_counts_as_no_record(tiny_config: Path):
    path = record(tiny_config, ["train.epochs=3"], finished=True)
    path.write_text("{not json")
    assert last_run(tiny_config) is None
    path.write_text("[1, 2]")
    assert last_run(tiny_config) is None
