from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from bastion import registry
from bastion.registry import PluginError


class GoodProtocol:
    name = "good"
    default_port = 1

    def validate_target(self, options):
        return []

    def validate_listener(self, options):
        return []

    def prepare(self, ctx):
        return None

    def serve(self, sock, address, ctx):
        return None


class NoServe:
    name = "noserve"
    default_port = 1

    def validate_target(self, options):
        return []


good_protocol = GoodProtocol()
no_serve = NoServe()
not_callable_factory = 42


class GoodStage:
    name = "good"

    def __init__(self, ctx):
        pass

    def decide(self, event):
        return None


class StageWithoutDecide:
    name = "nodecide"

    def __init__(self, ctx):
        pass


def ep(name: str, attr: str, group: str) -> EntryPoint:
    return EntryPoint(name=name, value=f"{__name__}:{attr}", group=group)


def test_valid_protocol_loads():
    loaded = registry.load("bastion.protocols", [ep("good", "good_protocol", "bastion.protocols")])
    assert loaded["good"].value is good_protocol


@pytest.mark.parametrize(
    ("group", "entry", "message"),
    [
        ("bastion.protocols", ep("bad", "no_serve", "bastion.protocols"), "missing 'serve'"),
        ("bastion.protocols", EntryPoint("gone", "nowhere.module:plugin", "bastion.protocols"), "failed to import"),
        ("bastion.protocols", ep("x", "does_not_exist", "bastion.protocols"), "failed to import"),
        ("bastion.policies", ep("n", "not_callable_factory", "bastion.policies"), "factory callable"),
        ("bastion.policies", ep("n", "StageWithoutDecide", "bastion.policies"), "missing 'decide'"),
    ],
    ids=["incomplete", "missing-module", "missing-attr", "not-callable", "class-incomplete"],
)
def test_invalid_plugins_stop_startup(group, entry, message):
    with pytest.raises(PluginError, match=message):
        registry.load(group, [entry])


def test_duplicate_names_rejected():
    entries = [ep("good", "good_protocol", "bastion.protocols")] * 2
    with pytest.raises(PluginError, match="duplicate"):
        registry.load("bastion.protocols", entries)


def test_factory_result_is_validated():
    stage = registry.build("bastion.policies", GoodStage, "good", None)
    assert stage.name == "good"

    def broken(ctx):
        raise ValueError("no config")

    with pytest.raises(PluginError, match="failed to initialise"):
        registry.build("bastion.policies", broken, "broken", None)
    with pytest.raises(PluginError, match="missing 'decide'"):
        registry.build("bastion.policies", StageWithoutDecide, "nd", None)


def test_installed_entry_points_are_valid():
    for group in registry.GROUPS:
        registry.load(group)
