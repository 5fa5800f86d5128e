"""Every config key with its default and meaning, read from the config models themselves.

The models are the one source of truth (types, defaults, bounds, descriptions), so the
reference is generated from them rather than written beside them, where it would drift:
``sracl config reference`` prints it, ``docs/configuration.md`` holds a copy, and a test
fails when that copy is stale. A variant plugged into a registry (a backbone, an LLM
backend, a reader) gets its own table without anything else to write.
"""

from __future__ import annotations

import json
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from sracl_core.config_base import is_runtime_field
from sracl_core.registry import registry_of

LONG_DEFAULT = 48
"""Defaults longer than this (the prompt templates) are summarised, not printed."""

_BOUNDS = (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"))
_LENGTHS = (("min_length", ">="), ("max_length", "<="))

INTRODUCTION = (
    "Generated from the config models by `sracl config reference`; do not edit by hand. "
    "Every key can be set in a config file or with `--set key=value` (values are YAML). "
    "Keys marked *runtime* tune how a stage runs, not what it produces: they are left out "
    "of the stage fingerprints, so changing them recomputes nothing. A *choice* is named "
    "by one key (`--set train.backbone=gru4rec` sets `train.backbone.name`) and then takes "
    "that variant's own keys. A key whose meaning starts with a variant's name (`ivf:`, "
    "`collaborative:`) only matters, and only enters a fingerprint, with that variant.")


@dataclass
class _Section:
    """One table of the reference: a section, or one variant of a choice."""

    title: str
    doc: str
    rows: list[tuple[str, str, str]] = field(default_factory=list)


def config_reference() -> str:
    """The reference as Markdown: one table per section and per variant of each choice."""
    from sracl_core.config import PipelineConfig

    top = _Section("top level", _first_paragraph(PipelineConfig.__doc__))
    sections = [top]
    _collect(PipelineConfig, None, "", top, sections)
    lines = ["# Configuration reference", "", INTRODUCTION, ""]
    for section in sections:
        lines += [f"## {section.title}", ""]
        if section.doc:
            lines += [section.doc, ""]
        if not section.rows:
            lines += ["No keys of its own.", ""]
            continue
        lines += ["| key | default | meaning |", "|---|---|---|"]
        lines += [f"| `{key}` | {default} | {meaning} |" for key, default, meaning in section.rows]
        lines.append("")
    return "\n".join(lines)


def _collect(model: type[BaseModel], defaults: BaseModel | None, prefix: str,
             section: _Section, sections: list[_Section], runtime: bool = False,
             skip: str = "") -> None:
    """The keys of ``model``, with ``defaults`` (the parent's default instance of it, whose
    values may differ from the class's); ``runtime``: the group is a runtime field, so every
    key under it is one too; ``skip``: the key that names a variant (shown on the choice)."""
    for name, info in model.model_fields.items():
        if name == skip:
            continue
        key = f"{prefix}{name}"
        inner_runtime = runtime or is_runtime_field(info)
        default = _default_value(info, defaults, name)
        registry = registry_of(info)
        if registry is not None:
            chosen = getattr(default, registry.key, None) if isinstance(default, BaseModel) \
                else None
            section.rows.append((key, _code(chosen) if chosen else "required", _cell(
                f"*choice*, named by `{key}.{registry.key}`: one of "
                f"{', '.join(registry.names())}. {info.description or ''}")))
            for variant in registry.names():
                config = registry.config(variant)
                child = _Section(f"{key}: {variant}", _first_paragraph(config.__doc__))
                sections.append(child)
                _collect(config, default if chosen == variant else None, key + ".", child,
                         sections, inner_runtime, skip=registry.key)
            continue
        group = _group(info.annotation)
        if group is not None:
            inner = default if isinstance(default, BaseModel) else None
            if prefix:  # a nested group (prompts.templates): its keys join this table
                _collect(group, inner, key + ".", section, sections, inner_runtime)
            else:
                child = _Section(key, _first_paragraph(group.__doc__))
                sections.append(child)
                _collect(group, inner, key + ".", child, sections, inner_runtime)
            continue
        section.rows.append((key, _default_cell(info, default),
                             _meaning(info, inner_runtime)))


def _default_value(info: FieldInfo, defaults: BaseModel | None, name: str) -> Any:
    if defaults is not None:
        return getattr(defaults, name)
    if info.is_required():
        return PydanticUndefined
    return info.get_default(call_default_factory=True)


def _group(annotation: Any) -> type[BaseModel] | None:
    """The section model a field holds (also when it may be None), else None."""
    candidates = [annotation, *(typing.get_args(annotation)
                                if isinstance(annotation, types.UnionType)
                                or typing.get_origin(annotation) is typing.Union else ())]
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _default_cell(info: FieldInfo, value: Any) -> str:
    if value is PydanticUndefined or (info.is_required() and value is None):
        return "required"
    if isinstance(value, Path):
        value = str(value)
    text = json.dumps(value, default=str)
    if len(text) > LONG_DEFAULT:
        return f"({len(value) if isinstance(value, str) else len(text)} characters, built in)"
    return _code(text)


def _meaning(info: FieldInfo, runtime: bool) -> str:
    parts = []
    if runtime:
        parts.append("*runtime*.")
    choices = _literal_choices(info.annotation)
    if choices:
        parts.append(f"One of {', '.join(choices)}.")
    for bounds, phrase in ((_BOUNDS, "Must be"), (_LENGTHS, "Length")):
        found = [f"{symbol} {getattr(rule, attr)}" for rule in info.metadata
                 for attr, symbol in bounds if getattr(rule, attr, None) is not None]
        if found:
            parts.append(f"{phrase} {' and '.join(found)}.")
    if info.description:
        parts.append(info.description)
    return _cell(" ".join(parts))


def _literal_choices(annotation: Any) -> list[str]:
    """The values of a Literal, also inside ``Literal[...] | None``."""
    if typing.get_origin(annotation) is typing.Literal:
        return [value if isinstance(value, str) else json.dumps(value)
                for value in typing.get_args(annotation)]
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = typing.get_args(annotation)
        choices = [choice for arg in args for choice in _literal_choices(arg)]
        return [*choices, "null"] if choices and type(None) in args else choices
    return []


def _first_paragraph(doc: str | None) -> str:
    return " ".join((doc or "").strip().split("\n\n")[0].split())


def _code(text: str) -> str:
    """A Markdown code span that survives backticks and table pipes in ``text``."""
    fence = "``" if "`" in text else "`"
    return _cell(f"{fence}{' ' if fence == '``' else ''}{text}"
                 f"{' ' if fence == '``' else ''}{fence}")


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")
