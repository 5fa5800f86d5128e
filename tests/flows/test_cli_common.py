"""What every command shares: finding the default config, loading it, failing in one line."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from flows import cli_common
from flows.cli_common import PROJECT_CONFIGS, fail, load, project_config


def test_the_default_config_is_found_from_any_folder(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert project_config("default.yaml") == PROJECT_CONFIGS / "default.yaml"
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "default.yaml").write_text("dataset: mine\n")
    assert project_config("default.yaml") == Path("configs") / "default.yaml"  # a local one wins


def test_a_bad_config_is_one_error_line_and_exit_code_1(tiny_config: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    printed: list[str] = []
    monkeypatch.setattr(cli_common.console, "print", lambda text, **_: printed.append(text))
    assert load(tiny_config, ["seed=3"]).seed == 3
    with pytest.raises(typer.Exit) as stopped:
        load(tiny_config, ["train.objective=sasrec"])
    assert stopped.value.exit_code == 1
    assert printed[0].startswith("[bold red]error:[/] ")
    assert "train.objective: unknown name 'sasrec'" in printed[0]
    with pytest.raises(typer.Exit):
        fail(ValueError("x"), log_path=Path("/tmp/sracl.log"))
    assert printed[-1] == "log: /tmp/sracl.log"
