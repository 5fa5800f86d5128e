"""Neighbour lists for people, from artifacts made with the scripted fake backend."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.neighbour_lists import item_neighbours, user_neighbours
from sracl_core.config import load_config
from sracl_core.errors import SraclError
from sracl_core.stages.runner import run_stage
from tests.semantic.fakes import use_scripted_fake


@pytest.fixture
def computed(tiny_config: Path):
    use_scripted_fake()
    overrides = ["profiles.backend=scripted-fake", "neighbours.k=2"]
    config = load_config(tiny_config, overrides)
    for stage in ("ingest", "prompts", "profiles", "embeddings", "neighbours"):
        run_stage(config, stage)
    return tiny_config, overrides


def test_item_and_user_views_name_the_anchor_and_k_scored_neighbours(computed):
    path, overrides = computed
    config = load_config(path, overrides)
    view = item_neighbours(config, 3)
    assert view.anchor.id == 3 and view.anchor.label == "Item number 3"
    assert len(view.neighbours) == 2 and 3 not in {entry.id for entry in view.neighbours}
    assert all(entry.label.startswith("Item number") and -1 <= entry.score <= 1
               for entry in view.neighbours)
    users = user_neighbours(config, 2)
    assert users.anchor.id == 2 and {entry.id for entry in users.neighbours} == {1, 3}
    with pytest.raises(SraclError, match="internal item id 99"):
        item_neighbours(config, 99)


def test_cli_prints_the_neighbours_and_explains_when_nothing_is_computed(computed, tmp_path):
    from flows.cli import app

    path, overrides = computed
    sets = [arg for override in overrides for arg in ("--set", override)]
    result = CliRunner().invoke(app, ["inspect", "neighbours", "-c", str(path), *sets,
                                      "--item", "1"])
    assert result.exit_code == 0, result.output
    assert "Item number 1" in result.output and "top-2 semantic neighbours" in result.output
    empty = CliRunner().invoke(app, ["inspect", "neighbours", "-c", str(path), *sets,
                                     "--set", f"cache_root={tmp_path / 'empty'}", "--user", "1"])
    assert empty.exit_code == 1 and "has not been ingested yet" in " ".join(empty.output.split())


def test_cli_prints_the_pool_summary_of_the_computed_neighbours(computed, tmp_path):
    from flows.cli import app
    from flows.neighbour_lists import pool_summary

    path, overrides = computed
    sets = [arg for override in overrides for arg in ("--set", override)]
    pool = pool_summary(load_config(path, overrides))
    assert pool.k == 2 and pool.own_user == 0  # user granularity: a user is never its own neighbour
    result = CliRunner().invoke(app, ["inspect", "pool", "-c", str(path), *sets])
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert f"{pool.samples} training samples, top-2 profile neighbours" in output
    assert f"{pool.other_user_target:.2%} neighbour slots of other users holding" in output
    empty = CliRunner().invoke(app, ["inspect", "pool", "-c", str(path), *sets,
                                     "--set", f"cache_root={tmp_path / 'empty'}"])
    assert empty.exit_code == 1
    assert "run `sracl run --until neighbours`" in " ".join(empty.output.split())
