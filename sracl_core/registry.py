"""One way to plug in a variant: a backbone, an objective, an LLM backend, an encoder, a reader.

A :class:`Registry` maps each name of one kind to its config section (a
:class:`~sracl_core.config_base.StrictModel` holding that variant's settings and
nothing else) and to what the name builds (a class or function, or
``"module:attr"`` so that torch or vLLM are imported only when it is used). A
config field declared with :meth:`Registry.choice` reads the variant's name from
its key (``name``, ``backend``, ``format``, ...), validates the rest against that
variant's section, and fails at load with the valid names when the name is
unknown. So only the chosen variant's settings exist in the resolved config and
in its fingerprint.

A variant outside this package plugs in from one file::

    @BACKBONES.register("mynet", MyNetConfig)
    class MyNet(Backbone): ...

imported before the config is loaded, or named in an installed package's
``sracl.plugins`` entry point group, which every registry loads on first use.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BeforeValidator, SerializeAsAny, ValidationInfo
from pydantic.fields import FieldInfo

from sracl_core.config_base import StrictModel

T = TypeVar("T")
PLUGIN_GROUP = "sracl.plugins"
_plugins_loaded = False


def load_plugins() -> None:
    """Import every installed ``sracl.plugins`` entry point once (each registers variants)."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for point in entry_points(group=PLUGIN_GROUP):
        point.load()


class ChoiceNameError(ValueError):
    """A choice's name is missing or unknown: config errors report it at the name's key,
    where any other error of a choice's section stays at the section."""


@dataclass(frozen=True)
class Variant(Generic[T]):
    config: type[StrictModel]
    target: T | str | None


class Registry(Generic[T]):
    """The variants of one kind, by name; ``key`` is the config field that names one."""

    def __init__(self, kind: str, key: str = "name", default: str | None = None) -> None:
        self.kind, self.key, self.default = kind, key, default
        self._variants: dict[str, Variant[T]] = {}

    def add(self, name: str, config: type[StrictModel], target: T | str | None = None) -> None:
        """Register ``name``: its settings ``config`` and what it builds (late: "module:attr")."""
        if name in self._variants:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        if self.key not in config.model_fields:
            raise ValueError(f"{self.kind} {name!r}: {config.__name__} has no {self.key!r} field")
        self._variants[name] = Variant(config, target)

    def register(self, name: str, config: type[StrictModel]) -> Callable[[T], T]:
        """Decorator form of :meth:`add` for the class or function that ``name`` builds."""

        def decorate(target: T) -> T:
            self.add(name, config, target)
            return target

        return decorate

    def names(self) -> list[str]:
        load_plugins()
        return sorted(self._variants)

    def config(self, name: str) -> type[StrictModel]:
        """The settings section of ``name``; an unknown name lists the valid ones."""
        load_plugins()
        if name not in self._variants:
            raise ChoiceNameError(f"unknown name {name!r}; expected one of: "
                                  f"{', '.join(self.names())}")
        return self._variants[name].config

    def target(self, name: str) -> T:
        """What ``name`` builds, imported on first use."""
        self.config(name)
        variant = self._variants[name]
        if variant.target is None:
            raise ValueError(f"{self.kind} {name!r} builds nothing; it is a setting only")
        if isinstance(variant.target, str):
            module, _, attr = variant.target.partition(":")
            resolved = getattr(importlib.import_module(module), attr)
            self._variants[name] = variant = Variant(variant.config, resolved)
        return variant.target  # type: ignore[return-value]

    def build(self, section: StrictModel, *args: Any, **kwargs: Any) -> Any:
        """Call the target of the variant ``section`` configures with it (and ``args``)."""
        return self.target(getattr(section, self.key))(section, *args, **kwargs)

    def choice(self, base: type[StrictModel]) -> Any:
        """The type of a config field holding one variant (every variant subclasses ``base``).

        Written as a name alone (``backbone: gru4rec``) a choice takes that variant's
        defaults; a section without the key is the default variant.
        """

        def pick(value: Any, info: ValidationInfo) -> Any:
            if isinstance(value, str):
                value = {self.key: value}
            if not isinstance(value, dict):
                return value
            name = value.get(self.key, self.default)
            if name is None:
                raise ChoiceNameError(f"required key {self.key!r} is missing; expected one "
                                      f"of: {', '.join(self.names())}")
            if not isinstance(name, str):
                raise ChoiceNameError(f"{self.key}: expected a name, one of: "
                                      f"{', '.join(self.names())}")
            return self.config(name).model_validate({**value, self.key: name},
                                                    context=info.context)

        return Annotated[SerializeAsAny[base], BeforeValidator(pick), self]


def registry_of(field: FieldInfo) -> Registry[Any] | None:
    """The registry behind a config field declared with :meth:`Registry.choice`, else None."""
    for extra in field.metadata:
        if isinstance(extra, Registry):
            return extra
    return None
