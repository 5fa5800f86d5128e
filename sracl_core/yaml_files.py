"""YAML as configs are read: safe types only, and a key given twice is an error.

PyYAML keeps the last of two equal keys without a word, so a grid with two ``sasrec:``
variants, or a config with two ``train:`` sections, silently lost the first one.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode


class _UniqueKeyLoader(yaml.SafeLoader):
    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise ConstructorError(
                    None, None, f"the key {key!r} is given twice (first on line {seen[key]}); "
                    "keep one", key_node.start_mark)
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str) -> Any:
    """``yaml.safe_load`` that refuses a key given twice in one mapping."""
    return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader: safe types only
