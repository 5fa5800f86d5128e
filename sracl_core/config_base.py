"""Shared pieces of every config section.

Every section forbids unknown keys, so a typo fails loudly instead of silently
falling back to a default. Fields that do not change a stage's output (batch
sizes, concurrency, progress bars) are marked with :func:`runtime_field` and are
left out of the stage fingerprint, so tuning them never invalidates a cache.
"""

from __future__ import annotations

import hashlib
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)
from pydantic.fields import FieldInfo

from sracl_core.atomic import file_digest

_RUNTIME_KEY = "sracl_runtime_only"


class StrictModel(BaseModel):
    """A config section: unknown keys are errors, values are validated on assignment, and a
    number field refuses true/false (pydantic reads them as 1 and 0, so a slip like
    ``--set train.epochs=true`` would train one epoch without a word)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans_for_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        if field is not None and _holds_bool(value) and not _admits_bool(field.annotation):
            if _admits(field.annotation, str):  # YAML reads yes/no/on/off as booleans
                raise ValueError("expected text, not true/false (YAML reads yes, no, on and "
                                 "off as true/false: quote the value, as in 'off')")
            raise ValueError("expected a number, not true/false")
        return value


def _holds_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, list | tuple):
        return any(_holds_bool(item) for item in value)
    if isinstance(value, dict):
        return any(_holds_bool(item) for item in value.values())
    return False


def _admits(annotation: Any, kind: type) -> bool:
    """Whether a field's type takes values of ``kind`` anywhere in it (a ``Literal``'s
    values count: ``prefill: Literal["auto", "on", "off"]`` takes text)."""
    if annotation is kind:
        return True
    if get_origin(annotation) is Literal:
        return any(isinstance(value, kind) for value in get_args(annotation))
    return any(_admits(arg, kind) for arg in get_args(annotation))


def _admits_bool(annotation: Any) -> bool:
    """Whether a field's type takes a boolean anywhere (a nested section checks its own)."""
    if annotation is bool or annotation is Any:
        return True
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return any(_admits_bool(arg) for arg in get_args(annotation))


DEVICE_NAMES = re.compile(r"auto|cpu|cuda(:\d+)?")


def _device_name(value: str) -> str:
    if not DEVICE_NAMES.fullmatch(value):
        raise ValueError(f"expected auto, cpu, cuda or cuda:N, got {value!r}")
    return value


Device = Annotated[str, AfterValidator(_device_name)]
"""A torch device name: its form is checked on load, whether this machine has it by
:func:`sracl_core.preflight.check_devices` before the stages that use it run."""


def runtime_field(default: Any, description: str = "", **kwargs: Any) -> Any:
    """A field that tunes how a stage runs, not what it produces."""
    return Field(default, description=description, json_schema_extra={_RUNTIME_KEY: True},
                 **kwargs)


def is_runtime_field(field: FieldInfo) -> bool:
    """Whether a field was declared with :func:`runtime_field` (kept out of fingerprints)."""
    extra = field.json_schema_extra
    return isinstance(extra, dict) and bool(extra.get(_RUNTIME_KEY))


def fingerprint_payload(section: BaseModel) -> dict[str, Any]:
    """The JSON-able content of a section that defines its output (runtime fields dropped)."""
    payload: dict[str, Any] = {}
    for name, field in type(section).model_fields.items():
        if is_runtime_field(field):
            continue
        value = getattr(section, name)
        if isinstance(value, BaseModel):
            payload[name] = fingerprint_payload(value)
        else:
            payload[name] = _jsonable(value)
    return payload


def _jsonable(value: Any) -> Any:
    if isinstance(value, Path):
        return path_signature(value)
    if isinstance(value, BaseModel):
        return fingerprint_payload(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _resolve_against_config_dir(value: Path, info: ValidationInfo) -> Path:
    base = (info.context or {}).get("base_dir")
    value = value.expanduser()
    if base is not None and not value.is_absolute():
        value = Path(base) / value
    return Path(os.path.normpath(value))


ConfigPath = Annotated[Path, AfterValidator(_resolve_against_config_dir)]
"""A path in a config file; relative paths are taken from the config file's folder."""


_HASH_LIMIT_BYTES = 256 * 2**20


def path_signature(path: Path) -> str:
    """Identify a file by content, so a cache survives moving or re-cloning the project.

    Files above 256 MiB are identified by size and modification time instead of
    hashing gigabytes on every ``sracl status``. A folder is the signature of its
    files; a missing path is recorded as missing (the stage fails later with a
    clear error when it tries to read it).
    """
    if not path.exists():
        return f"missing:{path.name}"
    if path.is_dir():
        parts = [f"{p.relative_to(path)}={path_signature(p)}" for p in sorted(path.rglob("*"))
                 if p.is_file()]
        return "dir:" + hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]
    stat = path.stat()
    return _file_signature(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=256)
def _file_signature(resolved: str, size: int, mtime_ns: int) -> str:
    if size > _HASH_LIMIT_BYTES:
        return f"size:{size}:mtime:{mtime_ns}"
    return "sha256:" + file_digest(Path(resolved))[:16]
