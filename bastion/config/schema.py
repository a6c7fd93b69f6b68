"""A small typed validator: YAML data -> frozen dataclasses, with precise error paths.

Every dataclass field's annotation is the schema. Supported annotations: ``str``, ``int``,
``float``, ``bool``, ``Literal[...]``, ``X | None``, ``list[X]``, ``tuple[X, ...]``,
``dict[str, X]`` and nested dataclasses. Unknown keys are errors (a typo must never be
silently ignored in a security product). Errors are collected, not raised one by one,
so ``bastion check-config`` can list all of them.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

T = TypeVar("T")


class ConfigError(Exception):
    """Configuration is invalid; ``errors`` lists every problem as ``file: path: message``."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclasses.dataclass
class Issues:
    """Collects validation errors for one file."""

    source: str
    errors: list[str] = dataclasses.field(default_factory=list)

    def add(self, path: str, message: str) -> None:
        self.errors.append(f"{self.source}: {path or '<top>'}: {message}")


def build(cls: type[T], data: Any, issues: Issues, path: str = "") -> T | None:
    """Build ``cls`` from ``data``; on error record it in ``issues`` and return None."""
    if not isinstance(data, Mapping):
        issues.add(path, f"expected a mapping, got {_kind(data)}")
        return None
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
    for key in data:
        if key not in fields:
            known = ", ".join(sorted(fields))
            issues.add(_join(path, str(key)), f"unknown key (expected one of: {known})")
    values: dict[str, Any] = {}
    ok = True
    for name, field in fields.items():
        sub = _join(path, name)
        if name not in data:
            if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
                issues.add(sub, "required key is missing")
                ok = False
            continue
        value, good = convert(hints[name], data[name], issues, sub)
        ok = ok and good
        values[name] = value
    if not ok:
        return None
    try:
        return cls(**values)
    except (ValueError, TypeError) as exc:
        issues.add(path, str(exc))
        return None


def convert(tp: Any, value: Any, issues: Issues, path: str) -> tuple[Any, bool]:
    """Convert one value to annotation ``tp``; returns (value, ok)."""
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if value is None:
            return None, True
        if len(args) == 1:
            return convert(args[0], value, issues, path)
        return _alternatives(args, value, issues, path)
    if origin is Literal:
        if value in get_args(tp):
            return value, True
        allowed = ", ".join(repr(a) for a in get_args(tp))
        issues.add(path, f"must be one of {allowed}, got {value!r}")
        return None, False
    if origin in (list, tuple, frozenset):
        return _sequence(tp, origin, value, issues, path)
    if origin is dict:
        return _mapping(tp, value, issues, path)
    if dataclasses.is_dataclass(tp):
        built = build(tp, value if value is not None else {}, issues, path)  # type: ignore[arg-type]
        return built, built is not None
    return _scalar(tp, value, issues, path)


def _alternatives(args: list[Any], value: Any, issues: Issues, path: str) -> tuple[Any, bool]:
    """``A | B``: the first alternative ``value`` converts to; else one error naming them all."""
    problems: list[str] = []
    for tp in args:
        scratch = Issues(issues.source)
        converted, ok = convert(tp, value, scratch, path)
        if ok:
            return converted, True
        problems += [e.removeprefix(f"{issues.source}: {path or '<top>'}: ") for e in scratch.errors]
    issues.add(path, " or ".join(problems))
    return None, False


def _sequence(tp: Any, origin: Any, value: Any, issues: Issues, path: str) -> tuple[Any, bool]:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        issues.add(path, f"expected a list, got {_kind(value)}")
        return None, False
    item_tp = get_args(tp)[0]
    items, ok = [], True
    for i, item in enumerate(value):
        converted, good = convert(item_tp, item, issues, f"{path}[{i}]")
        items.append(converted)
        ok = ok and good
    return origin(items), ok


def _mapping(tp: Any, value: Any, issues: Issues, path: str) -> tuple[Any, bool]:
    if not isinstance(value, Mapping):
        issues.add(path, f"expected a mapping, got {_kind(value)}")
        return None, False
    val_tp = get_args(tp)[1]
    out, ok = {}, True
    for key, item in value.items():
        converted, good = convert(val_tp, item, issues, _join(path, str(key)))
        out[str(key)] = converted
        ok = ok and good
    return out, ok


def _scalar(tp: Any, value: Any, issues: Issues, path: str) -> tuple[Any, bool]:
    if tp is Any:
        return value, True
    if tp is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value), True
    if tp is int and isinstance(value, bool):
        issues.add(path, f"expected an integer, got {_kind(value)}")
        return None, False
    if tp in (str, int, bool) and isinstance(value, tp):
        return value, True
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}
    issues.add(path, f"expected {names.get(tp, getattr(tp, '__name__', str(tp)))}, got {_kind(value)}")
    return None, False


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    return {dict: "a mapping", list: "a list", str: f"the string {value!r}", bool: f"{value}"}.get(
        type(value), f"{type(value).__name__} {value!r}")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
