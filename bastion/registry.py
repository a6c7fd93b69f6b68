"""Plugin discovery through entry points, validated at start-up (pluggy-style).

``load(group, contract)`` imports every entry point of ``group`` and checks the loaded
object against its contract. Anything wrong — import error, missing attribute, wrong
type, duplicate name — raises :class:`PluginError` naming the plugin and the problem,
so the bastion refuses to start instead of failing mid-session.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from bastion.core.contracts import Masker, PolicyStage, ProtocolPlugin, Sink

GROUPS = {
    "bastion.protocols": ProtocolPlugin,
    "bastion.policies": PolicyStage,
    "bastion.maskers": Masker,
    "bastion.sinks": Sink,
}
"""Entry-point group -> the contract its plugins (or the objects their factories build) obey."""

FACTORY_GROUPS = {"bastion.policies", "bastion.maskers", "bastion.sinks"}
"""Groups whose entry points are factories called with the plugin context."""


class PluginError(Exception):
    """A plugin cannot be loaded or does not honour its contract."""


@dataclass(frozen=True)
class Loaded:
    name: str
    value: Any
    source: str


def missing_members(obj: Any, contract: type) -> list[str]:
    """Names the contract requires that ``obj`` lacks or has with the wrong shape."""
    problems = []
    members = getattr(contract, "__protocol_attrs__", None) or [
        n for n in dir(contract) if not n.startswith("_")]
    for name in sorted(members):
        if not hasattr(obj, name):
            problems.append(f"missing {name!r}")
            continue
        expected = getattr(contract, name, None)
        if callable(expected) and not callable(getattr(obj, name)):
            problems.append(f"{name!r} is not callable")
    return problems


def check(obj: Any, contract: type, label: str) -> None:
    problems = missing_members(obj, contract)
    if problems:
        raise PluginError(f"plugin {label} does not implement {contract.__name__}: {'; '.join(problems)}")


def load(group: str, eps: Iterable[EntryPoint] | None = None) -> dict[str, Loaded]:
    """Import and validate every entry point in ``group`` (factories are checked as callables)."""
    contract = GROUPS[group]
    found: dict[str, Loaded] = {}
    for ep in (entry_points(group=group) if eps is None else eps):
        label = f"{ep.name!r} ({ep.value}) in {group}"
        if ep.name in found:
            raise PluginError(f"duplicate plugin name {label}; also provided by {found[ep.name].source}")
        try:
            value = ep.load()
        except Exception as exc:  # noqa: BLE001 - any import failure must stop start-up clearly
            raise PluginError(f"plugin {label} failed to import: {type(exc).__name__}: {exc}") from exc
        if group in FACTORY_GROUPS:
            if not callable(value):
                raise PluginError(f"plugin {label} must be a factory callable taking the plugin context")
            if inspect.isclass(value):
                check(value, contract, label)
        else:
            check(value, contract, label)
        found[ep.name] = Loaded(ep.name, value, ep.value)
    return found


def build(group: str, factory: Callable[..., Any], name: str, *args: Any) -> Any:
    """Call a factory and validate what it built against the group's contract."""
    label = f"{name!r} in {group}"
    try:
        obj = factory(*args)
    except Exception as exc:  # noqa: BLE001
        raise PluginError(f"plugin {label} failed to initialise: {type(exc).__name__}: {exc}") from exc
    check(obj, GROUPS[group], label)
    return obj
