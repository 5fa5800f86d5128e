"""`sracl config show` resolves a config as a run would; `reference` writes the doc."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from flows.cli import app
from sracl_core.config_reference import config_reference

runner = CliRunner()
DEFAULT = Path(__file__).resolve().parents[2] / "configs" / "default.yaml"


def test_show_prints_the_resolved_config_with_overrides_and_defaults() -> None:
    result = runner.invoke(app, ["config", "show", "-c", str(DEFAULT), "--set", "train.epochs=3",
                                 "--set", "train.backbone=gru4rec"])
    assert result.exit_code == 0, result.output
    resolved = yaml.safe_load(result.output)
    assert resolved["train"]["epochs"] == 3
    assert resolved["train"]["backbone"] == {"name": "gru4rec", "embedding_size": 64,
                                             "hidden_size": 128, "n_layers": 1, "dropout": 0.3}
    assert Path(resolved["cache_root"]).is_absolute()


def test_show_names_a_bad_override() -> None:
    result = runner.invoke(app, ["config", "show", "-c", str(DEFAULT), "--set", "train.lr=-1"])
    assert result.exit_code == 1
    assert "train.lr" in result.output and "--set train.lr=-1" in result.output


def test_reference_writes_the_markdown(tmp_path: Path) -> None:
    target = tmp_path / "configuration.md"
    result = runner.invoke(app, ["config", "reference", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_text(encoding="utf-8") == config_reference()
