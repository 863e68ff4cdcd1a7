"""The settings dataclasses are the schema: reading a TOML table into one of them.

Each setting is declared once, as a dataclass field with its default; a bound or a
set of allowed values rides along in the field's metadata (:func:`bounded`,
:func:`one_of`). :class:`TableReader` reads a table by walking those fields, so the
loader never repeats a default, and every mistake is one ``ConfigError`` line naming
the dotted key and the file.
"""

from __future__ import annotations

import builtins
import functools
import math
import typing
from collections.abc import Collection, Mapping
from dataclasses import MISSING, Field, field, fields
from pathlib import Path
from typing import Any, TypeVar

from chat_tui.domain.text import clean_line
from chat_tui.domain.toml_files import reject_unknown
from chat_tui.errors import ConfigError

T = TypeVar("T")
N = TypeVar("N", int, float, None)


def bounded(default: N, minimum: builtins.float, maximum: builtins.float | None = None) -> N:
    """A numeric setting's field: ``default`` and the range a file may set."""
    return field(default=default, metadata={"minimum": minimum, "maximum": maximum})


def one_of(default: str, *others: str) -> str:
    """A setting's field that takes one of a few words, ``default`` first."""
    return field(default=default, metadata={"choices": (default, *others)})


def field_names(cls: type, *, skip: Collection[str] = ()) -> list[str]:
    """The TOML keys of a settings table: its dataclass fields (the field is the schema)."""
    return [f.name for f in fields(cls) if f.name not in skip]


@functools.cache
def _schema(cls: type) -> dict[str, tuple[Field[Any], Any]]:
    hints = typing.get_type_hints(cls)
    return {f.name: (f, hints[f.name]) for f in fields(cls)}


def _either(choices: Collection[str]) -> str:
    quoted = [f'"{choice}"' for choice in choices]
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]


class TableReader:
    """Typed access to one TOML table, so errors name the dotted key and the file."""

    def __init__(self, data: Mapping[builtins.str, Any], prefix: builtins.str, path: Path) -> None:
        self.data = data
        self.prefix = prefix
        self.path = path

    def fail(self, key: builtins.str, expected: builtins.str, value: Any) -> ConfigError:
        """The error for ``key`` holding ``value`` instead of ``expected`` (to raise)."""
        shown = clean_line(repr(value))
        if len(shown) > 80:
            shown = shown[:77] + "..."
        return ConfigError(f"{self.path}: {self.prefix}{key} must be {expected}, got {shown}")

    def table(self, key: builtins.str) -> TableReader:
        value = self.data.get(key, {})
        if not isinstance(value, Mapping):
            raise self.fail(key, "a table", value)
        return TableReader(value, f"{self.prefix}{key}.", self.path)

    def only(self, known: Collection[builtins.str], tables: Collection[builtins.str] = ()) -> None:
        """Reject keys (and sub-tables) this table does not have, with a "did you mean"."""
        reject_unknown(self.data, [*known, *tables], path=self.path, prefix=self.prefix)

    # ------------------------------------------------------------------ by dataclass field

    def field(self, cls: type, name: builtins.str, default: Any = MISSING) -> Any:
        """The value of ``cls``'s field ``name``: checked by its type and metadata.

        Args:
            cls: the settings dataclass.
            name: the field, which is also the TOML key.
            default: instead of the field's own default (a built-in provider's URL).
        """
        spec, hint = _schema(cls)[name]
        if default is MISSING:
            default = spec.default
        if default is MISSING:
            raise TypeError(f"{cls.__name__}.{name} has no default: the loader must give one")
        minimum = spec.metadata.get("minimum")
        maximum = spec.metadata.get("maximum")
        if hint is bool:
            return self.bool(name, default)
        if hint is int:
            return self.int(name, default, minimum or 0, maximum)
        if hint is float:
            return self.float(name, default, minimum or 0.0, maximum)
        if hint == float | None:
            found = self.opt_float(name, minimum or 0.0, maximum)
            return default if found is None else found
        if hint is str:
            value = self.str(name, default)
            choices = spec.metadata.get("choices")
            if choices and value not in choices:
                raise self.fail(name, _either(choices), value)
            return value
        if hint == str | None:
            found_str = self.opt_str(name)
            return default if found_str is None else found_str
        if hint == tuple[str, ...]:
            return self.str_list(name, default)
        raise TypeError(f"{cls.__name__}.{name}: no TOML reader for {hint!r}")

    def fields(
        self,
        cls: type,
        *,
        defaults: Mapping[builtins.str, Any] | None = None,
        skip: Collection[builtins.str] = (),
        only: Collection[builtins.str] | None = None,
    ) -> dict[builtins.str, Any]:
        """``cls``'s fields read from this table, by name, ready for ``cls(**values)``.

        Args:
            cls: the settings dataclass.
            defaults: per-field defaults replacing the dataclass's own.
            skip: fields not read here (set by the loader).
            only: read just these fields.
        """
        defaults = defaults or {}
        return {
            name: self.field(cls, name, defaults.get(name, MISSING))
            for name in field_names(cls, skip=skip)
            if only is None or name in only
        }

    # ------------------------------------------------------------------ by type

    def str(self, key: builtins.str, default: builtins.str) -> builtins.str:
        value = self.data.get(key, default)
        if not isinstance(value, str):
            raise self.fail(key, "a string", value)
        return value

    def opt_str(self, key: builtins.str) -> builtins.str | None:
        value = self.data.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise self.fail(key, "a string", value)
        return value

    def int(
        self,
        key: builtins.str,
        default: builtins.int,
        minimum: builtins.int = 0,
        maximum: builtins.int | None = None,
    ) -> builtins.int:
        value = self.data.get(key, default)
        expected = f"a whole number >= {minimum}" + (
            f" and <= {maximum}" if maximum is not None else ""
        )
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, expected, value)
        if value < minimum or (maximum is not None and value > maximum):
            raise self.fail(key, expected, value)
        return value

    def float(
        self,
        key: builtins.str,
        default: builtins.float,
        minimum: builtins.float = 0.0,
        maximum: builtins.float | None = None,
    ) -> builtins.float:
        value = self.data.get(key, default)
        expected = f"a number >= {minimum:g}" + (
            f" and <= {maximum:g}" if maximum is not None else ""
        )
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, expected, value)
        # nan compares false with everything and inf passes any minimum: both would be
        # accepted, then make every request fail (a timeout of nan or inf seconds).
        if not math.isfinite(value):
            raise self.fail(key, f"a finite number ({expected})", value)
        if value < minimum or (maximum is not None and value > maximum):
            raise self.fail(key, expected, value)
        return float(value)

    def opt_float(
        self,
        key: builtins.str,
        minimum: builtins.float = 0.0,
        maximum: builtins.float | None = None,
    ) -> builtins.float | None:
        if self.data.get(key) is None:
            return None
        return self.float(key, 0.0, minimum, maximum)

    def str_list(
        self, key: builtins.str, default: tuple[builtins.str, ...]
    ) -> tuple[builtins.str, ...]:
        value = self.data.get(key, default)
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, "a list of strings", value)
        return tuple(value)

    def bool(self, key: builtins.str, default: builtins.bool) -> builtins.bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, "true or false", value)
        return value
