"""Every config key with its default and meaning, read from the config models themselves.

The models are the one source of truth (types, defaults, bounds, descriptions), so the
reference is generated from them rather than written beside them, where it would drift:
``sracl config reference`` prints it, ``docs/configuration.md`` holds a copy, and a test
fails when that copy is stale. A variant plugged into a registry (a backbone, an LLM
backend, a reader) gets its own table without anything else to write.
"""

from __future__ import annotations

import json
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


@dataclass
class _Section:
    """One table of the reference: a section, or one variant of a choice."""

    key: str
    title: str
    doc: str
    rows: list[tuple[str, str, str]] = field(default_factory=list)


def config_reference() -> str:
    """The reference as Markdown: one table per section and per variant of each choice."""
    from sracl_core.config import PipelineConfig

    sections: list[_Section] = []
    top = _Section("", "top level", _first_paragraph(PipelineConfig.__doc__))
    sections.append(top)
    _collect(PipelineConfig, "", top, sections)
    lines = ["# Configuration reference", "",
             "Generated from the config models by `sracl config reference`; do not edit by "
             "hand. Every key can be set in a config file or with `--set key=value` (values "
             "are YAML). Keys marked *runtime* tune how a stage runs, not what it produces: "
             "they are left out of the stage fingerprints, so changing them recomputes "
             "nothing. A *choice* takes a variant's name (`--set train.backbone=gru4rec`) "
             "and then that variant's own keys.", ""]
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


def _collect(model: type[BaseModel], prefix: str, section: _Section,
             sections: list[_Section], runtime: bool = False, skip: str = "") -> None:
    """``runtime``: the group is a runtime field, so every key under it is one too;
    ``skip``: the key that names a variant, shown as the choice rather than as a key."""
    for name, info in model.model_fields.items():
        if name == skip:
            continue
        key = f"{prefix}{name}"
        inner_runtime = runtime or is_runtime_field(info)
        registry = registry_of(info)
        if registry is not None:
            names = registry.names()
            default = registry.default or _default_name(info, registry.key)
            section.rows.append((key, _code(default) if default else "required",
                                 _cell(f"*choice*: one of {', '.join(names)}. "
                                       f"{info.description or ''}")))
            for variant in names:
                config = registry.config(variant)
                child = _Section(key, f"{key}: {variant}", _first_paragraph(config.__doc__))
                sections.append(child)
                _collect(config, key + ".", child, sections, inner_runtime, skip=registry.key)
            continue
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if prefix:  # a nested group (prompts.templates): its keys join this table
                _collect(annotation, key + ".", section, sections, inner_runtime)
            else:
                child = _Section(key, key, _first_paragraph(annotation.__doc__))
                sections.append(child)
                _collect(annotation, key + ".", child, sections, inner_runtime)
            continue
        section.rows.append((key, _default(info), _meaning(info, inner_runtime)))


def _default_name(info: FieldInfo, key: str) -> str | None:
    value = info.get_default(call_default_factory=True)
    return getattr(value, key, None) if isinstance(value, BaseModel) else None


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "required"
    value = info.get_default(call_default_factory=True)
    if value is PydanticUndefined:
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
    bounds = [f"{symbol} {getattr(rule, attr)}" for rule in info.metadata
              for attr, symbol in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"))
              if getattr(rule, attr, None) is not None]
    if bounds:
        parts.append(f"Must be {' and '.join(bounds)}.")
    if info.description:
        parts.append(info.description)
    return _cell(" ".join(parts))


def _literal_choices(annotation: Any) -> list[str]:
    if typing.get_origin(annotation) is typing.Literal:
        return [json.dumps(value) if not isinstance(value, str) else value
                for value in typing.get_args(annotation)]
    return []


def _first_paragraph(doc: str | None) -> str:
    return " ".join((doc or "").strip().split("\n\n")[0].split())


def _code(text: str) -> str:
    return f"`{text}`"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")
