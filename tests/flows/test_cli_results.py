"""`recommend` and `inspect` speak the dataset's ids and find the last run's artifacts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from sracl_core.config import load_config
from sracl_core.last_run import record
from tests.semantic.fakes import use_scripted_fake
from tests.stage_runs import run_pipeline

runner = CliRunner()
SEQUENCES = {701: [30, 20, 10, 40], 702: [20, 40, 50, 10], 703: [50, 40, 30, 20, 10]}
TITLES = {10: "Ten", 20: "Twenty", 30: "Thirty", 40: "Forty", 50: "Fifty"}
PLAIN = ["train.objective=next_item", "train.epochs=1",
         "train.progress=false", "train.backbone.hidden_size=8", "train.backbone.inner_size=8"]


def _invoke(*args: str):
    return runner.invoke(app, list(args), terminal_width=200)


@pytest.fixture
def trained(make_config) -> Path:
    path = make_config(SEQUENCES, TITLES)
    config = load_config(path, PLAIN)
    run_pipeline(config, ["ingest", "train"])
    record(path, PLAIN, finished=True)
    return path


def test_recommend_without_a_trained_model_says_what_to_run(make_config):
    path = make_config(SEQUENCES, TITLES)
    run_pipeline(load_config(path), ["ingest"])
    result = _invoke("recommend", "701", "-c", str(path))
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"error: no trained model for this config yet (train "
        f"{_train_fingerprint(path)}); run `sracl run` with this config (and the same --set "
        "overrides) first"]


def _train_fingerprint(path: Path) -> str:
    from sracl_core.stages.graph import stage_fingerprints

    return stage_fingerprints(load_config(path))["train"]


def test_recommend_takes_and_prints_dataset_ids_from_the_last_run(trained: Path):
    result = _invoke("recommend", "703", "701", "-c", str(trained), "-k", "2",
                     "--include-history")
    assert result.exit_code == 0, result.output
    assert "the last `sracl run`" in result.output
    rows = [line.split("│")[1:-1] for line in result.output.splitlines() if "│" in line]
    users = [cells[0].strip() for cells in rows]
    assert users == ["703", "703", "701", "701"]
    items = {cells[2].strip(): cells[3].strip() for cells in rows}
    assert set(items) <= {"10", "20", "30", "40", "50"}
    assert all(TITLES[int(item)] == title for item, title in items.items())


def test_internal_ids_are_behind_an_option_and_unknown_ids_are_named(trained: Path):
    unknown = _invoke("recommend", "1", "-c", str(trained))
    assert unknown.exit_code == 1
    assert "unknown user ids: 1; expected the dataset's own ids (e.g. 701, 702, 703)" in (
        " ".join(unknown.output.split()))
    internal = _invoke("recommend", "1", "-c", str(trained), "--internal-ids", "-k", "1",
                       "--include-history")
    assert internal.exit_code == 0, internal.output
    assert "│ 701 " in internal.output and "user 1, item" in internal.output


def test_inspect_takes_the_datasets_item_id(make_config):
    use_scripted_fake()
    path = make_config(SEQUENCES, TITLES)
    overrides = ["profiles.backend=scripted-fake", "neighbours.k=2"]
    run_pipeline(load_config(path, overrides),
                 ["ingest", "prompts", "profiles", "embeddings", "neighbours"])
    record(path, overrides, finished=True)
    result = _invoke("inspect", "neighbours", "-c", str(path), "--item", "40")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1].startswith("Forty (id 40)")
    internal = _invoke("inspect", "neighbours", "-c", str(path), "--item", "1",
                       "--internal-ids")
    assert internal.exit_code == 0, internal.output
    assert internal.output.splitlines()[1].startswith("Thirty (id 30 (internal 1))")
    beyond = _invoke("inspect", "neighbours", "-c", str(path), "--item", "40", "--internal-ids")
    assert beyond.exit_code == 1
    assert "unknown internal item ids: 40; internal ids are 1..5" in beyond.output


def test_recommend_json_is_one_object_per_line_on_stdout_alone(trained: Path):
    result = CliRunner().invoke(app, ["recommend", "701", "-c", str(trained), "-k", "2",
                                      "--include-history", "--json"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["user"], r["rank"]) for r in records] == [("701", 1), ("701", 2)]
    assert all(TITLES[int(r["item"])] == r["title"] for r in records)
    assert "the last `sracl run`" in result.stderr  # the note stays out of the data


def test_a_list_length_under_one_is_refused_naming_the_option(trained: Path):
    result = _invoke("recommend", "701", "-c", str(trained), "-k", "0")
    message = " ".join(result.output.replace("│", " ").split())
    assert result.exit_code == 2
    assert "Invalid value for '--top-k' / '-k': Input should be greater than or equal to 1" in (
        message), message


def test_a_remembered_override_the_edited_file_no_longer_takes_says_where_it_came_from(
        trained: Path):
    text = trained.read_text()
    assert "\ntrain:" not in text  # the file has no train section yet: add one
    trained.write_text(text + "train:\n  backbone: gru4rec\n")
    result = _invoke("recommend", "701", "-c", str(trained))
    assert result.exit_code == 1
    message = " ".join(result.output.split())
    assert ("train.backbone.inner_size: no such key" in message
            and "(from --set train.backbone.inner_size=8, remembered from the last `sracl run` "
                f"of {trained}; give --set to read other artifacts)" in message), message
