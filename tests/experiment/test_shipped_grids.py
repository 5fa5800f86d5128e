"""Every shipped grid validates against its dataset's config, run by run, before hours of work."""

from pathlib import Path

import pytest

from sracl_core.config import load_config
from sracl_core.experiment.grid import grid_runs, load_grid
from sracl_core.semantic.model_checks import model_folder_problems, model_name_problems

ROOT = Path(__file__).resolve().parents[2]
GRIDS = sorted((ROOT / "experiments").glob("*.yaml"))


@pytest.mark.parametrize("grid_path", GRIDS, ids=[path.stem for path in GRIDS])
def test_every_run_of_a_shipped_grid_is_a_valid_config(grid_path: Path):
    dataset = grid_path.stem.split("-")[0]
    config_path = ROOT / "configs" / f"{dataset}.yaml"
    grid = load_grid(grid_path)
    for run in grid_runs(grid):
        config = load_config(config_path, list(run.overrides))
        assert model_name_problems(config) + model_folder_problems(
            config, ("profiles", "embeddings")) == [], run.label
        assert config.train.seed == run.seed


@pytest.mark.parametrize(("grid_name", "variant", "seeds"), [
    ("beauty-protocol.yaml", "sracl-text", {2024, 2025, 2026}),
    ("beauty-sensitivity.yaml", "sracl-llm", {2024}),
])
def test_a_grid_shares_its_baseline_runs_with_the_headline_grid(grid_name: str, variant: str,
                                                                 seeds: set[int]):
    """Its baseline seeds are the headline grid's runs, so they are trained once for both."""
    from sracl_core.stages.graph import stage_fingerprints

    config_path = ROOT / "configs" / "beauty.yaml"

    def trains(name: str) -> dict[int, str]:
        return {run.seed: stage_fingerprints(load_config(config_path, list(run.overrides)))
                ["train"] for run in grid_runs(load_grid(ROOT / "experiments" / name))
                if run.variant == variant}

    shared = trains(grid_name)
    headline = trains("beauty-headline.yaml")
    assert set(shared) == seeds
    assert shared == {seed: headline[seed] for seed in seeds}
