"""The MySQL plugin's connection registry, bound to a state store of the test session's own (SQLite)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bastion.state.connections import ConnectionRegistry
from bastion.state.store import StateStore
from plugins.mysql.connections import REGISTRY, instance


@pytest.fixture(autouse=True, scope="session")
def shared_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConnectionRegistry]:
    store = StateStore(f"sqlite:///{tmp_path_factory.mktemp('registry')}/state.db")
    store.migrate()
    before = REGISTRY.shared
    REGISTRY.shared = ConnectionRegistry(store, "test-node", instance())
    yield REGISTRY.shared
    REGISTRY.shared = before
    store.dispose()
