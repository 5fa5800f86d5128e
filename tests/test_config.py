import re
from pathlib import Path

import pytest
import yaml

from sracl_core.config import apply_override, dump_config, load_config
from sracl_core.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def test_every_shipped_config_validates():
    for path in sorted((PROJECT_ROOT / "configs").glob("*.yaml")):
        config = load_config(path)
        assert config.data.source.format == "sasrec", path


def test_relative_paths_are_read_from_the_config_folder(tiny_config: Path, tmp_path: Path):
    raw = yaml.safe_load(tiny_config.read_text())
    raw["data"]["source"]["interactions"] = "data/interactions.txt"
    raw["cache_root"] = "cache-here"
    nested = tmp_path / "elsewhere" / "config.yaml"
    nested.parent.mkdir()
    nested.write_text(yaml.safe_dump(raw))
    config = load_config(nested)
    assert config.data.source.interactions == nested.parent / "data" / "interactions.txt"
    assert config.cache_root == nested.parent / "cache-here"


def test_default_config_points_at_the_embedded_sample():
    config = load_config(PROJECT_ROOT / "configs" / "default.yaml")
    assert config.data.source.interactions.is_file()
    assert config.data.source.items.is_file()
    assert config.cache_root == PROJECT_ROOT / ".sracl_cache"


def test_overrides_set_nested_values_with_yaml_types(tiny_config: Path):
    config = load_config(tiny_config, ["train.objective.alpha=0.05", "data.k_core=3", "seed=7"])
    assert config.train.objective.alpha == 0.05
    assert config.data.k_core == 3
    assert config.seed == 7


def test_unknown_key_names_the_key_and_lists_the_allowed_ones(tiny_config: Path):
    with pytest.raises(ConfigError) as error:
        load_config(tiny_config, ["train.objective.alphaa=0.05"])
    message = str(error.value)
    assert str(tiny_config) in message
    assert "train.objective.alphaa: no such key" in message
    assert "alpha" in message.split("allowed:")[1]


def test_unknown_top_level_section(tiny_config: Path):
    with pytest.raises(ConfigError, match=r"trian: no such key \(allowed: .*train"):
        load_config(tiny_config, ["trian.alpha=1"])


def test_wrong_type_names_key_and_value(tiny_config: Path):
    with pytest.raises(ConfigError, match=r"data\.k_core: .*'many'"):
        load_config(tiny_config, ["data.k_core=many"])


def test_true_or_false_for_a_number_names_the_key_and_a_switch_still_takes_them(
        tiny_config: Path):
    for override, key in (("train.epochs=true", "train.epochs"),
                          ("evaluate.ks=[5,false]", "evaluate.ks"),
                          ("train.objective.alpha=true", "train.objective.alpha")):
        with pytest.raises(ConfigError, match=rf"{re.escape(key)}: expected a number, not "
                                              "true/false"):
            load_config(tiny_config, [override])
    config = load_config(tiny_config, ["train.objective.use_cs=false",
                                       "evaluate.exclude_history=[false]"])
    assert config.train.objective.use_cs is False and config.evaluate.exclude_history == [False]


def test_yes_or_no_for_a_text_key_says_to_quote_it(tiny_config: Path):
    with pytest.raises(ConfigError, match=r"dataset: expected text, not true/false \(YAML reads "
                                          r"yes, no, on and off as true/false: quote the value"):
        load_config(tiny_config, ["dataset=yes"])
    assert load_config(tiny_config, ["dataset='yes'"]).dataset == "yes"
    with pytest.raises(ConfigError, match=r"profiles\.prefill: expected text, not true/false"):
        load_config(tiny_config, ["profiles.prefill=off"])  # a Literal of words takes text too
    assert load_config(tiny_config, ["profiles.prefill='off'"]).profiles.prefill == "off"


def test_a_folder_given_as_the_config_is_named_as_a_folder(tmp_path: Path):
    (tmp_path / "beauty.yaml").write_text("dataset: x\n")
    with pytest.raises(ConfigError, match=rf"^{re.escape(str(tmp_path))}: is a folder; expected "
                                          r"a YAML config file \(YAML files there: beauty.yaml\)$"):
        load_config(tmp_path)


def test_missing_required_key(tmp_path: Path):
    path = tmp_path / "c.yaml"
    path.write_text("dataset: x\n")
    with pytest.raises(ConfigError, match="data: required key is missing"):
        load_config(path)


def test_bad_dataset_name_is_rejected(tiny_config: Path):
    with pytest.raises(ConfigError, match=r"dataset: .*names a cache folder"):
        load_config(tiny_config, ["dataset=../escape"])


def test_malformed_override_and_yaml(tiny_config: Path, tmp_path: Path):
    with pytest.raises(ConfigError, match="expected key=value"):
        load_config(tiny_config, ["train.alpha"])
    broken = tmp_path / "broken.yaml"
    broken.write_text("dataset: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(broken)
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "absent.yaml")


def test_override_cannot_descend_into_a_value():
    raw = {"seed": 3}
    with pytest.raises(ConfigError, match="seed is a value, not a section"):
        apply_override(raw, "seed.x=1")


def test_dump_round_trips(tiny_config: Path, tmp_path: Path):
    config = load_config(tiny_config, ["train.objective.beta=0.2"])
    again = tmp_path / "again.yaml"
    again.write_text(dump_config(config))
    assert load_config(again) == config


def test_a_choice_is_switched_by_name_then_tuned_and_errors_name_the_written_key(
        tiny_config: Path):
    config = load_config(tiny_config, ["train.backbone=gru4rec",
                                       "train.backbone.hidden_size=32"])
    assert (config.train.backbone.name, config.train.backbone.hidden_size) == ("gru4rec", 32)
    tuned = load_config(tiny_config, ["train.backbone.n_layers=3"])  # the default: sasrec
    assert (tuned.train.backbone.name, tuned.train.backbone.n_layers) == ("sasrec", 3)
    switched_back = load_config(tiny_config, ["train.backbone.n_layers=3",
                                              "train.backbone=sasrec"])
    assert switched_back.train.backbone.n_layers == 2  # a name alone: that one's defaults
    with pytest.raises(ConfigError) as raised:
        load_config(tiny_config, ["train.backbone=gru4rec", "train.backbone.n_heads=2"])
    assert "  train.backbone.n_heads: no such key (allowed: dropout, embedding_size, " \
           "hidden_size, n_layers, name)" in str(raised.value)
    assert "n_heads" not in dump_config(config)  # no trace of the unchosen backbone


def test_settings_of_a_choice_that_do_not_fit_together_fail_on_load_at_the_section(
        tiny_config: Path):
    """Caught on load, not by the train stage after hours of LLM profiles; the section, not
    its name key, is blamed, with the --set that broke it."""
    with pytest.raises(ConfigError) as raised:
        load_config(tiny_config, ["train.backbone.n_heads=3"])
    assert "  train.backbone: n_heads=3 does not divide hidden_size=64: each head takes " \
           "hidden_size / n_heads dimensions (from --set train.backbone.n_heads=3)" \
           in str(raised.value)
    with pytest.raises(ConfigError) as raised:
        load_config(tiny_config, ["train.backbone.name=transformer"])
    assert "  train.backbone.name: unknown name 'transformer'; expected one of: gru4rec, " \
           "sasrec" in str(raised.value)


def test_a_problem_set_on_the_command_line_says_so(tiny_config: Path, tmp_path: Path):
    """The error is reported against the config file, which does not hold the bad value."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(tiny_config.read_text() + "seed: many\n")
    with pytest.raises(ConfigError) as caught:
        load_config(bad, ["train={'lr': 0.1, 'batch': 2}", "train.epochs=-1", "nosuch=1"])
    lines = str(caught.value).splitlines()[1:]
    assert "  train.epochs: Input should be greater than or equal to 1 (got -1) " \
        "(from --set train.epochs=-1)" in lines
    assert any(line.startswith("  nosuch: no such key") and line.endswith("(from --set nosuch=1)")
               for line in lines)
    assert any(line.startswith("  train.batch: no such key") and
               line.endswith("(from --set train={'lr': 0.1, 'batch': 2})") for line in lines)
    assert any(line.startswith("  seed: ") and "(from --set" not in line for line in lines)


def test_a_section_given_twice_is_an_error_naming_both_lines(tmp_path: Path):
    """YAML keeps the last of two equal keys, so the first ``train:`` was silently lost."""
    path = tmp_path / "twice.yaml"
    path.write_text("dataset: d\ntrain:\n  lr: 0.1\ndata:\n  k_core: 1\ntrain:\n  epochs: 2\n")
    with pytest.raises(ConfigError, match=r"twice.yaml: not valid YAML: line 6, column 1: the key "
                                          r"'train' is given twice \(first on line 2\); keep one$"):
        load_config(path)


@pytest.mark.parametrize("name", ["logs", "prefect", "llm_cache", "mlartifacts", "last_runs",
                                  "mlflow.db"])
def test_a_dataset_may_not_take_the_name_of_what_the_cache_root_keeps(tiny_config: Path,
                                                                       name: str):
    with pytest.raises(ConfigError, match=rf"dataset: '{name}' is taken: the "
                                          r"cache root keeps its last_runs, llm_cache, logs, "):
        load_config(tiny_config, [f"dataset={name}"])
