"""The one registry mechanism: names to config sections and what they build."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal

import pytest
import yaml
from pydantic import ValidationError

from sracl_core import registry as registry_module
from sracl_core.config import dump_config, load_config, validate_config
from sracl_core.config_base import StrictModel
from sracl_core.registry import Registry


class ShapeConfig(StrictModel):
    kind: str


class Square(ShapeConfig):
    kind: Literal["square"] = "square"
    side: float = 1.0


class Circle(ShapeConfig):
    kind: Literal["circle"] = "circle"
    radius: float = 1.0


def shapes() -> Registry:
    made = Registry("shape", key="kind", default="square")
    made.add("square", Square, lambda section, scale=1: section.side ** 2 * scale)
    made.add("circle", Circle, "math:pi")  # imported when first used
    return made


def test_a_choice_validates_against_the_named_variant_only() -> None:
    registry = shapes()

    class Drawing(StrictModel):
        shape: registry.choice(ShapeConfig) = Square()  # type: ignore[valid-type]

    assert Drawing(shape="circle").shape == Circle()
    assert Drawing.model_validate({"shape": {"side": 3}}).shape == Square(side=3)  # default
    assert Drawing.model_validate({"shape": {"kind": "circle"}}).model_dump() == {
        "shape": {"kind": "circle", "radius": 1.0}}
    with pytest.raises(ValidationError, match="unknown name 'hexagon'; expected one of: "
                                              "circle, square"):
        Drawing(shape="hexagon")
    with pytest.raises(ValidationError) as raised:
        Drawing.model_validate({"shape": {"kind": "circle", "side": 2}})
    assert raised.value.errors()[0]["loc"] == ("shape", "side")
    drawing = Drawing()
    drawing.shape = "circle"  # assignment is validated too
    assert drawing.shape == Circle()


def test_targets_are_built_with_their_section_and_imported_late() -> None:
    registry = shapes()
    assert registry.build(Square(side=3), scale=2) == 18
    import math

    assert registry.target("circle") is math.pi
    with pytest.raises(ValueError, match="registered twice"):
        registry.add("square", Square)
    with pytest.raises(ValueError, match="has no 'kind' field"):
        registry.add("blob", StrictModel)
    registry.add("point", type("Point", (ShapeConfig,), {"__annotations__": {}}))
    with pytest.raises(ValueError, match="shape 'point' builds nothing"):
        registry.target("point")


def test_an_installed_plugin_registers_through_its_entry_point(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A package's ``sracl.plugins`` entry point is imported on the first lookup."""
    (tmp_path / "sracl_test_plugin.py").write_text(
        "from typing import Literal\n"
        "from sracl_core.data.config import SOURCES, SourceConfig\n"
        "class LinesSource(SourceConfig):\n"
        "    format: Literal['plugin-lines'] = 'plugin-lines'\n"
        "    path: str\n"
        "@SOURCES.register('plugin-lines', LinesSource)\n"
        "def read_lines(source):\n"
        "    return source.path\n")
    info = tmp_path / "sracl_test_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: sracl-test-plugin\n"
                                   "Version: 1.0\n")
    (info / "entry_points.txt").write_text("[sracl.plugins]\nlines = sracl_test_plugin\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry_module, "_plugins_loaded", False)
    from sracl_core.data.config import SOURCES

    monkeypatch.setattr(SOURCES, "_variants", dict(SOURCES._variants))
    monkeypatch.delitem(sys.modules, "sracl_test_plugin", raising=False)
    config = validate_config({"dataset": "d", "data": {"source": {
        "format": "plugin-lines", "path": "x.txt"}}}, source="test", base_dir=tmp_path)
    from sracl_core.data.readers import read_source

    assert read_source(config.data.source) == "x.txt"


def test_the_resolved_config_reloads_to_the_same_config(tiny_config: Path) -> None:
    for overrides in ([], ["train.backbone=gru4rec", "train.objective=duorec",
                           "profiles.backend=text", "embeddings.encoder=hf-pooler"]):
        config = load_config(tiny_config, overrides)
        again = validate_config(yaml.safe_load(dump_config(config)), source="dump",
                                base_dir=tiny_config.parent)
        assert again == config


def test_a_name_written_over_a_section_replaces_it_and_its_settings_follow(
        tiny_config: Path) -> None:
    config = load_config(tiny_config, ["train.backbone=gru4rec",
                                       "train.backbone.hidden_size=12"])
    assert (config.train.backbone.name, config.train.backbone.hidden_size) == ("gru4rec", 12)
    with pytest.raises(Exception, match=r"train\.backbone\.n_heads: no such key \(allowed: "
                                        r"dropout, embedding_size, hidden_size, n_layers, name\)"):
        load_config(tiny_config, ["train.backbone=gru4rec", "train.backbone.n_heads=2"])
    with pytest.raises(Exception, match=r"prompts\.domain is a value, not a section"):
        load_config(tiny_config, ["prompts.domain=toys", "prompts.domain.x=1"])
