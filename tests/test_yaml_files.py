"""YAML files as configs and grids are read: every problem is one line naming the file."""

from pathlib import Path

import pytest
import yaml

from sracl_core.errors import ConfigError
from sracl_core.yaml_files import load_yaml, load_yaml_file


def test_a_file_in_another_encoding_names_the_byte_not_a_traceback(tmp_path: Path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("dataset: café\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=r"latin1\.yaml: byte 0xe9 at offset 12 is not "
                                          r"UTF-8; expected a UTF-8 YAML config$"):
        load_yaml_file(path, "config")


@pytest.mark.parametrize(("text", "where"), [
    ("a: [1,\n", "line 2, column 1: while parsing a flow node: expected the node content"),
    ("a: b: c\n", "line 1, column 5: mapping values are not allowed here"),
])
def test_a_yaml_error_is_one_line_with_the_file_and_its_position(tmp_path: Path, text: str,
                                                                 where: str):
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_yaml_file(path, "grid")
    assert str(error.value).startswith(f"{path}: not valid YAML: {where}")
    assert "\n" not in str(error.value) and "<unicode string>" not in str(error.value)


def test_merge_keys_work_and_may_be_overridden_but_a_key_given_twice_is_still_an_error():
    text = "base: &b {lr: 0.1, epochs: 2}\ntrain:\n  <<: *b\n  epochs: 5\n"
    assert load_yaml(text)["train"] == {"lr": 0.1, "epochs": 5}
    with pytest.raises(yaml.constructor.ConstructorError, match="'epochs' is given twice"):
        load_yaml("base: &b {lr: 0.1}\ntrain:\n  <<: *b\n  epochs: 5\n  epochs: 6\n")
    with pytest.raises(yaml.constructor.ConstructorError, match="'x' is given twice"):
        load_yaml("c: {<<: &a {x: 1, x: 2}}\n")  # inside a mapping defined where it is merged
    with pytest.raises(yaml.constructor.ConstructorError, match="<< is given twice"):
        load_yaml("a: &a {x: 1}\nb: &b {y: 2}\nc:\n  <<: *a\n  <<: *b\n")
    merged = load_yaml("a: &a {x: 1}\nb: &b {x: 2, y: 2}\nc:\n  <<: [*a, *b]\n  z: 3\n")
    assert merged["c"] == {"x": 1, "y": 2, "z": 3}  # the first source wins, as YAML says
