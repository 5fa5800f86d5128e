"""``sracl status`` and ``sracl verify`` on a damaged cache: the file named, no traceback."""

from pathlib import Path

from typer.testing import CliRunner

from flows.cli import app
from sracl_core.config import load_config
from sracl_core.semantic.cache import FOLDER as LLM_CACHE
from sracl_core.semantic.cache import OK, CachedResponse, ResponseCache
from sracl_core.stages.runner import run_stage

runner = CliRunner()


def _damage_ingest(tiny_config: Path) -> Path:
    outcome = run_stage(load_config(tiny_config), "ingest")
    table = Path(outcome.path) / "train_samples.parquet"
    table.write_bytes(table.read_bytes()[:100])
    return table


def test_status_names_a_corrupt_artifacts_file(tiny_config: Path):
    table = _damage_ingest(tiny_config)
    result = runner.invoke(app, ["status", "--config", str(tiny_config)], terminal_width=200)
    assert result.exit_code == 1, result.output
    assert result.output.count("corrupt") >= 2 and "cached" not in result.output
    assert f"ingest: {table}: 100 bytes where the manifest recorded" in result.output
    assert "moves a corrupt artifact to <stage>/.corrupt/" in result.output


def test_verify_checks_the_whole_cache_and_fails_on_a_damaged_file(tiny_config: Path):
    clean = runner.invoke(app, ["verify", "--config", str(tiny_config)], terminal_width=200)
    assert clean.exit_code == 0 and "nothing cached yet" in clean.output
    table = _damage_ingest(tiny_config)
    stray = table.parent.parent / ".tmp-9aa46ea4380c12b4-4242-0badcafe"
    stray.mkdir()
    result = runner.invoke(app, ["verify", "--config", str(tiny_config)], terminal_width=200)
    assert result.exit_code == 1, result.output
    assert f"corrupt: {table}: 100 bytes" in result.output
    assert ("1 artifacts, 0 sound, 0 without checksums (written by an older sracl), 1 corrupt; "
            "0 damaged LLM answer files") in result.output
    assert f"left alone: {stray} has no owner record" in result.output
    assert "Traceback" not in result.output
    run_stage(load_config(tiny_config), "ingest")
    repaired = runner.invoke(app, ["verify", "--config", str(tiny_config)], terminal_width=200)
    assert repaired.exit_code == 0, repaired.output
    assert "1 artifacts, 1 sound" in repaired.output


def test_verify_names_a_damaged_llm_answer_file_and_a_run_sets_it_aside(tiny_config: Path):
    root = load_config(tiny_config).cache_root / LLM_CACHE
    ResponseCache(root).put([CachedResponse("good", OK, "kept")])
    ResponseCache(root).put([CachedResponse("lost", OK, "damaged")])
    damaged = sorted(root.glob("part-*.parquet"))[-1]
    damaged.write_bytes(damaged.read_bytes()[:100])
    result = runner.invoke(app, ["verify", "--config", str(tiny_config)], terminal_width=300)
    assert result.exit_code == 1, result.output
    assert f"corrupt: {damaged}: ComputeError" in result.output
    assert "1 damaged LLM answer files" in result.output and "Traceback" not in result.output
    reopened = ResponseCache(root)  # what a profiles run does first
    assert (reopened.get("good"), reopened.get("lost")) == ("kept", None)
    assert not damaged.exists() and (root / ".corrupt" / damaged.name).exists()
    again = runner.invoke(app, ["verify", "--config", str(tiny_config)], terminal_width=300)
    assert again.exit_code == 0 and "0 damaged LLM answer files" in again.output
