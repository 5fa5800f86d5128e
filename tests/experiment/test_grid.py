from pathlib import Path

import pytest

from sracl_core.errors import ConfigError
from sracl_core.experiment.grid import GridConfig, grid_runs, load_grid, select_variants


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "grid.yaml"
    path.write_text(text)
    return path


def test_runs_go_seed_by_seed_with_grid_then_variant_then_seed_overrides(tmp_path):
    grid = load_grid(_write(tmp_path, """
name: g1
baseline: a
seeds: [7, 8]
overrides: [train.epochs=2]
variants: {a: [], b: [train.lr=0.01]}
"""))
    runs = grid_runs(grid, ["cache_root=/x"])
    assert [run.label for run in runs] == ["a/seed-7", "b/seed-7", "a/seed-8", "b/seed-8"]
    assert runs[1].overrides == ("cache_root=/x", "train.epochs=2", "train.lr=0.01",
                                 "train.seed=7")


@pytest.mark.parametrize(("text", "message"), [
    ("name: g\nbaseline: z\nseeds: [1]\nvariants: {a: []}", "baseline 'z' is not a variant"),
    ("name: g\nbaseline: a\nseeds: [1, 1]\nvariants: {a: []}", "seeds must be distinct"),
    ("name: g\nbaseline: a\nseeds: [1]\nvariants: {a: []}\nseed: 3", "seed: Extra inputs"),
    ("name: a b\nbaseline: a\nseeds: [1]\nvariants: {a: []}", "name: String should match"),
    ("name: g\nbaseline: a\nseeds: [true]\nvariants: {a: []}", "seeds: expected a number, "
                                                                "not true/false"),
    ("name: g\nbaseline: a\nseeds: [99999999999999999999]\nvariants: {a: []}",
     "seeds.0: Input should be less than 9223372036854775808"),
    ("name: g\nbaseline: a\nseeds: [1]\nvariants: {a: []}\nreference: {a: {all/HR@5: 0.1}}",
     r"reference 'a' gives \['all/HR@5'\], which are not among the grid's metrics"),
    ("name: g\nbaseline: a\nseeds: [1]\nvariants:\n  a: []\n  a: [train.lr=0.1]",
     "the key 'a' is given twice \\(first on line 5\\); keep one"),
    ("name: g\nbaseline: a\nseeds: [1]\nvariants: {a: [], 'sra cl/v|x': []}",
     r"variant 'sra cl/v\|x': expected letters, digits"),
    ("name: g\nbaseline: a\nseeds: [1]\nvariants: {a: [train.seed=7]}",
     r"variant 'a': 'train.seed=7' sets the seed, which the grid's seeds set for every run"),
    ("name: g\nbaseline: a\nseeds: [1]\noverrides: [train.seed=7]\nvariants: {a: []}",
     r"overrides: 'train.seed=7' sets the seed"),
])
def test_bad_grids_name_the_field(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_grid(_write(tmp_path, text))


@pytest.mark.parametrize(("compare_to", "message"), [
    ("{b: z}", r"compare_to b: z: both must be variants; variants: a, b, c"),
    ("{b: b}", "compare_to b: compared with itself"),
])
def test_compare_to_names_variants_of_the_grid(tmp_path, compare_to, message):
    with pytest.raises(ConfigError, match=message):
        load_grid(_write(tmp_path, "name: g\nbaseline: a\nseeds: [1]\nvariants: {a: [], "
                                   f"b: [train.lr=0.01], c: []}}\ncompare_to: {compare_to}\n"))


def test_a_variant_selection_keeps_what_its_gains_are_measured_against(tmp_path):
    grid = load_grid(_write(tmp_path, """
name: g2
baseline: a
seeds: [7]
variants: {a: [], b: [train.lr=0.01], c: [train.lr=0.1], d: []}
compare_to: {c: b, d: a}
"""))
    cut = select_variants(grid, ["c"])
    assert list(cut.variants) == ["a", "b", "c"] and cut.compare_to == {"c": "b"}
    chained = grid.model_copy(update={"compare_to": {"c": "b", "b": "d"}})
    cut = select_variants(chained, ["c"])
    assert list(cut.variants) == ["a", "b", "c"] and cut.compare_to == {"c": "b"}
    assert GridConfig.model_validate(cut.model_dump()) == cut


def test_a_variant_selection_keeps_the_baseline_and_its_references(tmp_path):
    grid = load_grid(_write(tmp_path, """
name: g1
baseline: a
seeds: [7]
variants: {a: [], b: [train.lr=0.01], c: [train.lr=0.1]}
reference: {b: {all/HR@10: 0.5}, c: {all/HR@10: 0.6}}
"""))
    cut = select_variants(grid, ["c"])
    assert list(cut.variants) == ["a", "c"] and list(cut.reference) == ["c"]
    assert [run.label for run in grid_runs(cut)] == ["a/seed-7", "c/seed-7"]
    assert select_variants(grid, None) == grid
    with pytest.raises(ConfigError, match=r"--variant d: not in grid 'g1'; variants: a, b, c"):
        select_variants(grid, ["c", "d"])


def test_a_grid_override_that_fails_names_the_grid_and_variant(tmp_path, tiny_config):
    """Before, it was blamed on a ``--set`` the user never typed."""
    from sracl_core.config import load_config
    from sracl_core.experiment.grid import check_grid_metrics, grid_origins

    path = _write(tmp_path, "name: g\nbaseline: a\nseeds: [1]\nmetrics: [all/HR@10, all/HR@999]"
                            "\nvariants: {a: [train.nonexistent=3], b: [noequals]}\n")
    grid = load_grid(path)
    first, second = grid_runs(grid)
    with pytest.raises(ConfigError) as raised:
        load_config(tiny_config, first.overrides, origins=grid_origins(grid, path, first))
    assert str(raised.value).splitlines()[1].startswith("  train.nonexistent: no such key")
    assert str(raised.value).endswith(f"(from {path}, variant 'a')")
    with pytest.raises(ConfigError, match=rf"^{path}, variant 'b': override 'noequals': "):
        load_config(tiny_config, second.overrides, origins=grid_origins(grid, path, second))
    computed = load_config(tiny_config).evaluate.metric_names()
    with pytest.raises(ConfigError, match=rf"^{path}: metrics: all/HR@999 not computed by the "
                                          r"evaluate stage of a/seed-1; it computes all/HR@5, "):
        check_grid_metrics(grid, path, first, computed)


def test_a_folder_given_as_the_grid_is_named_as_a_folder(tmp_path):
    with pytest.raises(ConfigError, match=rf"^{tmp_path}: a folder; expected a grid YAML file$"):
        load_grid(tmp_path)
    with pytest.raises(ConfigError, match="grid file not found"):
        load_grid(tmp_path / "absent.yaml")
