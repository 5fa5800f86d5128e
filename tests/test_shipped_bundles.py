"""The bundles in ``bundles/`` still belong to the shipped configs and grids.

``benchmarks/RESULTS.md`` quotes the runs kept in ``bundles/beauty-headline`` and
``bundles/beauty-paper``; the grids find them by fingerprint. A change that moves a
fingerprint (a default, a grid's overrides, the split) would orphan them silently, and
the grid would train them again: this test fails instead, naming the runs it no longer
finds.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sracl_core.cache_transfer import artifacts_under, resume_states_under, transfer
from sracl_core.experiment.grid import load_grid
from sracl_core.experiment.progress import grid_progress
from sracl_core.stages.graph import STAGE_ORDER
from tests.conftest import PROJECT_ROOT

BUNDLES = PROJECT_ROOT / "bundles"
BEAUTY = PROJECT_ROOT / "configs" / "beauty.yaml"


def _evaluate_fingerprints(bundle: Path) -> set[str]:
    return {path.name for path in (bundle / "beauty" / "evaluate").iterdir() if path.is_dir()}


@pytest.mark.parametrize(("grid_name", "bundles"), [
    ("beauty-headline", ["beauty-headline"]),
    # the paper grid shares the headline grid's nine runs, which are kept there only
    ("beauty-paper", ["beauty-headline", "beauty-paper"]),
])
def test_every_bundled_run_is_a_finished_or_resumable_run_of_its_grid(
        shared_datasets: Path, tmp_path: Path, grid_name: str, bundles: list[str]):
    root = tmp_path / "cache"
    bundled, resume_states = set(), []
    for name in bundles:
        bundle = BUNDLES / name
        report = transfer(bundle, root, artifacts_under(bundle, STAGE_ORDER),
                          resume=resume_states_under(bundle))
        assert report.copied or report.resume_states, f"{name} holds nothing"
        bundled |= _evaluate_fingerprints(bundle)
        resume_states += resume_states_under(bundle)
    grid = load_grid(PROJECT_ROOT / "experiments" / f"{grid_name}.yaml")
    runs = grid_progress(BEAUTY, grid, [f"cache_root={root}"])
    finished = [run for run in runs if run.state == "finished"]
    assert len(finished) == len(bundled), (
        f"{len(bundled)} runs are bundled, the grid finds {len(finished)} of them finished; "
        f"not finished: {[run.label for run in runs if run.state != 'finished']}")
    for run in finished:
        assert run.metric is not None and 0.0 < run.metric < 1.0, run
        assert run.epochs_done == run.epochs and run.best_epoch is not None, run
    # each bundled resume state continues a run of the grid, from a real checkpoint
    resumed = [run for run in runs if run.state == "part-trained"]
    assert len(resumed) == len(resume_states), [run.label for run in runs]
    for run in resumed:  # a checkpoint inside the first epoch has no best epoch yet
        assert run.epochs_done < run.epochs and (run.epochs_done > 0 or run.step > 0), run
        assert (run.best_epoch is not None) == (run.epochs_done > 0), run


def test_the_llm_bundle_answers_every_beauty_profile_prompt(shared_datasets: Path,
                                                             tmp_path: Path):
    """Imported, the LLM answers leave nothing to generate for Beauty's profiles: the
    README's promise that the profile stage takes seconds, not two hours."""
    from sracl_core.config import load_config
    from sracl_core.stages.graph import outputs_of, select_stages
    from tests.stage_runs import run_pipeline

    root = tmp_path / "cache"
    bundle = BUNDLES / "beauty-llm"
    report = transfer(bundle, root, artifacts_under(bundle, STAGE_ORDER), answers=True)
    assert report.answers > 30_000
    config = load_config(BEAUTY, [f"cache_root={root}"])
    run_pipeline(config, select_stages(config, until="profiles"))
    stats = outputs_of(config).manifest("profiles")["stats"]
    # prompts counts the 44 user prompts that repeat another; each unique one is cached
    assert stats["llm_generated"] == 0 and stats["llm_cached"] == report.answers, stats
