"""YAML as configs are read: safe types only, and a key given twice is an error.

PyYAML keeps the last of two equal keys without a word, so a grid with two ``sasrec:``
variants, or a config with two ``train:`` sections, silently lost the first one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.error import MarkedYAMLError
from yaml.nodes import MappingNode, SequenceNode

from sracl_core.errors import ConfigError

MERGE_TAG = "tag:yaml.org,2002:merge"


class _UniqueKeyLoader(yaml.SafeLoader):
    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        """A key given twice is an error, in the mapping and in any mapping merged into it
        (``<<: &a {x: 1, x: 2}``); a key merged in may be given again, since overriding
        merged keys is what merging is for."""
        self._check_unique(node, deep)
        self.flatten_mapping(node)
        return super().construct_mapping(node, deep=deep)

    def _check_unique(self, node: MappingNode, deep: bool) -> None:
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                sources = (value_node.value if isinstance(value_node, SequenceNode)
                           else [value_node])
                for source in sources:
                    if isinstance(source, MappingNode):
                        self._check_unique(source, deep)
            key = (MERGE_TAG if key_node.tag == MERGE_TAG
                   else self.construct_object(key_node, deep=deep))
            if key in seen:
                shown = "<<" if key == MERGE_TAG else repr(key)
                raise ConstructorError(
                    None, None, f"the key {shown} is given twice (first on line {seen[key]}); "
                    "keep one", key_node.start_mark)
            seen[key] = key_node.start_mark.line + 1


def load_yaml(text: str) -> Any:
    """``yaml.safe_load`` that refuses a key given twice in one mapping."""
    return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader: safe types only


def load_yaml_file(path: Path, what: str) -> Any:
    """A YAML file's content, or a one-line :class:`ConfigError` naming the file, the line
    and what is wrong: a file saved in another encoding used to end the command with a
    ``UnicodeDecodeError`` traceback, and a YAML error spanned four lines naming
    ``<unicode string>`` instead of the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: byte 0x{error.object[error.start]:02x} at offset "
                          f"{error.start} is not UTF-8; expected a UTF-8 YAML {what}") from None
    try:
        return load_yaml(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {yaml_problem(error)}") from None


def yaml_problem(error: yaml.YAMLError) -> str:
    """One line: where the parser stopped (line and column, from 1) and why."""
    if not isinstance(error, MarkedYAMLError) or error.problem_mark is None:
        return " ".join(str(error).split())
    mark = error.problem_mark
    problem = ": ".join(part for part in (error.context, error.problem) if part)
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
