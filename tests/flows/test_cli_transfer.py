"""``sracl cache export`` and ``import`` from the command line: a bundle made from one cache
root fills another, a grid selects each run's artifacts once, bad input fails clearly."""

from pathlib import Path

from typer.testing import CliRunner

from flows.cli import app
from sracl_core.cache_transfer import artifacts_under
from sracl_core.config import load_config
from sracl_core.semantic.cache import FOLDER as ANSWERS
from sracl_core.semantic.cache import OK, CachedResponse, ResponseCache
from sracl_core.stages.graph import STAGE_ORDER, plan, stage_fingerprints
from sracl_core.stages.runner import run_stage

runner = CliRunner()


def _invoke(*args: str):
    return runner.invoke(app, list(args), terminal_width=250)


def test_export_then_import_fills_another_cache_root(tiny_config: Path, tmp_path: Path):
    run_stage(load_config(tiny_config), "ingest")
    bundle, other = tmp_path / "bundle", tmp_path / "other-cache"
    exported = _invoke("cache", "export", str(bundle), "-c", str(tiny_config), "--stage", "ingest")
    assert exported.exit_code == 0, exported.output
    assert "1 artifacts copied, 0 already there" in exported.output

    imported = _invoke("cache", "import", str(bundle), "-c", str(tiny_config),
                       "--set", f"cache_root={other}")
    assert imported.exit_code == 0, imported.output
    assert f"{other}: 1 artifacts copied" in imported.output and "note:" not in imported.output
    states = {entry.stage: entry.state
              for entry in plan(load_config(tiny_config, [f"cache_root={other}"]))}
    assert states["ingest"] == "cached" and states["train"] == "missing"


def test_importing_a_bundle_of_another_dataset_copies_it_and_says_so(tiny_config: Path,
                                                                     tmp_path: Path):
    dataset = load_config(tiny_config).dataset
    run_stage(load_config(tiny_config), "ingest")
    bundle = tmp_path / "bundle"
    assert _invoke("cache", "export", str(bundle), "-c", str(tiny_config)).exit_code == 0
    imported = _invoke("cache", "import", str(bundle), "-c", str(tiny_config), "--set",
                       "dataset=another", "--set", f"cache_root={tmp_path / 'other-cache'}")
    assert imported.exit_code == 0, imported.output
    output = " ".join(imported.output.split())
    assert "none of the bundle's artifacts are for dataset 'another'" in output
    assert f"(they are for {dataset})" in output and "1 artifacts copied" in output


def test_a_grid_exports_shared_stages_once_and_names_what_is_not_computed(tiny_config: Path,
                                                                         tmp_path: Path):
    run_stage(load_config(tiny_config), "ingest")
    grid = tmp_path / "grid.yaml"
    grid.write_text("name: g\nbaseline: plain\nseeds: [1, 2]\nmetrics: [all/HR@10]\n"
                    "variants:\n  plain: [train.objective=next_item]\n")
    result = _invoke("cache", "export", str(tmp_path / "bundle"), "-c", str(tiny_config),
                     "--grid", str(grid), "--stage", "ingest", "--stage", "train")
    assert result.exit_code == 0, result.output
    assert "1 artifacts copied, 0 already there, 2 not computed at the source" in result.output
    for seed in (1, 2):
        resolved = load_config(tiny_config, ["train.objective=next_item", f"train.seed={seed}"])
        train = stage_fingerprints(resolved)["train"]
        assert f"not computed: {resolved.dataset}/train/{train}" in result.output


def test_not_in_leaves_out_what_another_bundle_holds(tiny_config: Path, tmp_path: Path):
    """Two grids that share runs (the paper grid holds the headline grid's): each run is
    bundled once."""
    resolved = load_config(tiny_config)
    run_stage(resolved, "ingest")
    run_stage(resolved, "prompts")
    first, second = tmp_path / "first", tmp_path / "second"
    assert _invoke("cache", "export", str(first), "-c", str(tiny_config), "--stage", "ingest",
                   "--no-answers").exit_code == 0
    result = _invoke("cache", "export", str(second), "-c", str(tiny_config), "--stage", "ingest",
                     "--stage", "prompts", "--no-answers", "--not-in", str(first))
    assert result.exit_code == 0, result.output
    assert "1 artifacts copied, 0 already there" in result.output
    assert [ref.stage for ref in artifacts_under(second, STAGE_ORDER)] == ["prompts"]

    typo = _invoke("cache", "export", str(second), "-c", str(tiny_config), "--no-answers",
                   "--not-in", str(tmp_path / "frist"))
    assert typo.exit_code == 1
    assert f"--not-in {tmp_path / 'frist'}: not a bundle" in typo.output


def test_no_artifacts_exports_only_the_llm_answers(tiny_config: Path, tmp_path: Path):
    resolved = load_config(tiny_config)
    run_stage(resolved, "ingest")
    ResponseCache(resolved.cache_root / ANSWERS).put([CachedResponse(
        key="k1", status=OK, text="a profile")])
    bundle = tmp_path / "bundle"
    result = _invoke("cache", "export", str(bundle), "-c", str(tiny_config), "--no-artifacts")
    assert result.exit_code == 0, result.output
    assert "0 artifacts copied, 0 already there, 0 not computed at the source; 1 LLM answers " \
           "added" in result.output
    assert artifacts_under(bundle, STAGE_ORDER) == []
    assert ResponseCache(bundle / ANSWERS).get("k1") == "a profile"


def test_bad_input_fails_with_what_was_expected(tiny_config: Path, tmp_path: Path):
    unknown = _invoke("cache", "export", str(tmp_path / "b"), "-c", str(tiny_config),
                      "--stage", "trian")
    assert unknown.exit_code == 1
    assert "--stage trian: no such stage; stages: ingest, prompts" in unknown.output
    missing = _invoke("cache", "import", str(tmp_path / "nowhere"), "-c", str(tiny_config))
    assert missing.exit_code == 1
    assert f"{tmp_path / 'nowhere'}: no such folder" in missing.output


def test_what_cannot_be_a_bundle_or_has_nothing_to_export_is_refused(tiny_config: Path,
                                                                      tmp_path: Path):
    """Before: a raw NotADirectoryError, or exit code 0 with nothing done."""
    absent = tmp_path / "no-such-cache"
    nothing = _invoke("cache", "export", str(tmp_path / "b"), "-c", str(tiny_config),
                      "--set", f"cache_root={absent}")
    assert nothing.exit_code == 1 and f"no cache at {absent} to export from" in nothing.output
    empty = _invoke("cache", "export", str(tmp_path / "b"), "-c", str(tiny_config),
                    "--no-artifacts", "--no-answers")
    assert empty.exit_code == 1 and "nothing to export" in empty.output
    assert not (tmp_path / "b").exists()

    resolved = load_config(tiny_config)
    run_stage(resolved, "ingest")
    a_file = tmp_path / "a-file"
    a_file.write_text("kept")
    into_a_file = _invoke("cache", "export", str(a_file), "-c", str(tiny_config))
    assert into_a_file.exit_code == 1 and "Traceback" not in into_a_file.output
    assert f"for {a_file}, but it is a file" in into_a_file.output and a_file.read_text() == "kept"
    bundle = tmp_path / "bundle"
    assert _invoke("cache", "export", str(bundle), "-c", str(tiny_config)).exit_code == 0
    too_deep = _invoke("cache", "import", str(bundle / resolved.dataset), "-c",
                       str(tiny_config), "--set", f"cache_root={tmp_path / 'other'}")
    assert too_deep.exit_code == 1 and "not a bundle or cache root" in too_deep.output
    a_file_import = _invoke("cache", "import", str(a_file), "-c", str(tiny_config))
    assert a_file_import.exit_code == 1 and f"{a_file}: a file; expected a bundle folder" \
        in a_file_import.output
