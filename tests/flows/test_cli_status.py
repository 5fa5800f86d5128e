from pathlib import Path

from typer.testing import CliRunner

from flows.cli import app

runner = CliRunner()


def test_status_lists_every_stage_then_shows_ingest_cached(tiny_config: Path):
    result = runner.invoke(app, ["status", "--config", str(tiny_config)], terminal_width=200)
    assert result.exit_code == 0, result.output
    for stage in ("ingest", "prompts", "profiles", "embeddings", "neighbours", "train",
                  "evaluate"):
        assert stage in result.output
    assert result.output.count("missing") == 7
    from sracl_core.config import load_config
    from sracl_core.stages.runner import run_stage

    run_stage(load_config(tiny_config), "ingest")
    result = runner.invoke(app, ["status", "--config", str(tiny_config)], terminal_width=200)
    assert result.output.count("missing") == 6 and result.output.count("cached") == 1


def test_config_errors_are_printed_without_a_traceback(tiny_config: Path):
    result = runner.invoke(app, ["status", "--config", str(tiny_config), "--set", "data.kcore=3"],
                           terminal_width=200)
    assert result.exit_code == 1
    assert "data.kcore: no such key" in result.output
    assert "Traceback" not in result.output


def test_help_explains_each_command():
    result = runner.invoke(app, ["--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "cached or missing" in result.output


def test_status_without_set_shows_the_last_runs_overrides(tiny_config: Path):
    """Like ``recommend`` and ``inspect``: after ``sracl run --set ...`` a plain ``status``
    describes that run's artifacts, and says so; an explicit ``--set`` wins."""
    from sracl_core.config import load_config
    from sracl_core.last_run import record
    from sracl_core.stages.graph import plan

    override = "train.epochs=3"
    record(tiny_config, [override], finished=True)
    train_of = {entry.stage: entry.fingerprint
                for entry in plan(load_config(tiny_config, [override]))}["train"]
    plain_train = {entry.stage: entry.fingerprint for entry in plan(load_config(tiny_config))}[
        "train"]
    assert train_of != plain_train
    result = runner.invoke(app, ["status", "--config", str(tiny_config)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert f"the last `sracl run` of {tiny_config}: --set {override}" in result.output
    assert train_of in result.output and plain_train not in result.output
    explicit = runner.invoke(app, ["status", "--config", str(tiny_config), "--set",
                                   "train.epochs=1"], terminal_width=200)
    assert "the last `sracl run`" not in explicit.output
    record(tiny_config, [], finished=False)  # a later run, interrupted
    interrupted = runner.invoke(app, ["status", "--config", str(tiny_config)],
                                terminal_width=200)
    assert f"the last `sracl run` of {tiny_config}, which did not finish)" in interrupted.output
    assert plain_train in interrupted.output and train_of not in interrupted.output
