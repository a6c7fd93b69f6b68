"""This process's part in the shared registry: KILLs other processes received for its
connections (cancel a hold, refuse another user's, never report a failure as success),
and what it publishes for their process lists."""

from __future__ import annotations

import threading
import time
from typing import Any

import gevent

from bastion.state.connections import ConnectionRegistry, Outcome
from plugins.mysql.cluster import PUBLISH_AFTER, Participant
from plugins.mysql.codec import COM_QUERY
from plugins.mysql.connections import REGISTRY, Registered
from tests.unit.plugins.mysql.fakes import ListSink, session


def _registered(shared: ConnectionRegistry, user: str = "alice") -> tuple[int, Any]:
    s, _client, _up = session([], ListSink(), user=user)
    conn_id = shared.allocate("127.0.0.1:9")
    s.connection_id = conn_id
    REGISTRY.add(conn_id, Registered(user, "db", "admin", 42), s)
    return conn_id, s


def _kill_from_elsewhere(shared: ConnectionRegistry, conn_id: int, user: str) -> Outcome:
    """Another process (its own registry on the same store) sends the KILL; this one serves it."""
    asker = ConnectionRegistry(shared.store, "other-node", "asker")
    owner = asker.owner(conn_id, user)
    assert owner is not None
    out: dict[str, Outcome] = {}
    thread = threading.Thread(target=lambda: out.setdefault("o", asker.request_kill(owner, True, user, poll=0.02)))
    thread.start()
    participant = Participant(shared)
    deadline = time.monotonic() + 10
    while thread.is_alive() and time.monotonic() < deadline:
        participant.step()
        gevent.sleep(0.02)
        thread.join(0.01)
    return out["o"]


def test_a_kill_from_elsewhere_cancels_a_held_statement(shared_registry: ConnectionRegistry) -> None:
    conn_id, _s = _registered(shared_registry)
    try:
        REGISTRY.holding(conn_id, True)
        assert _kill_from_elsewhere(shared_registry, conn_id, "alice") == Outcome("cancelled")
        assert REGISTRY.cancelled(conn_id)  # the hold loop sees it at its next poll
    finally:
        REGISTRY.remove(conn_id)
        shared_registry.release(conn_id)


def test_a_request_naming_another_user_is_refused_by_the_owner(shared_registry: ConnectionRegistry) -> None:
    conn_id, _s = _registered(shared_registry)
    try:
        REGISTRY.holding(conn_id, True)
        shared_registry.claim(conn_id, user="mallory", target="db", db=None)  # a forged row in the store
        outcome = _kill_from_elsewhere(shared_registry, conn_id, "mallory")
        assert outcome.kind == "error" and outcome.code == 1094
        assert not REGISTRY.cancelled(conn_id)
    finally:
        REGISTRY.remove(conn_id)
        shared_registry.release(conn_id)


def test_a_kill_that_fails_is_reported_as_failed(shared_registry: ConnectionRegistry) -> None:
    conn_id, _s = _registered(shared_registry)  # not held: the owner must reach the target, and cannot
    try:
        outcome = _kill_from_elsewhere(shared_registry, conn_id, "alice")
        assert outcome.kind == "error"
    finally:
        REGISTRY.remove(conn_id)
        shared_registry.release(conn_id)


def test_only_long_statements_are_published(shared_registry: ConnectionRegistry) -> None:
    conn_id, s = _registered(shared_registry, user="carol")
    viewer = ConnectionRegistry(shared_registry.store, "other-node", "viewer")
    participant = Participant(shared_registry)
    try:
        s.busy_payload = bytes([COM_QUERY]) + b"SELECT SLEEP(60)"
        s.busy_since = time.time()
        participant.publish()
        assert [(r.command, r.info) for r in viewer.activity("carol")] == [("Sleep", None)]
        s.busy_since = time.time() - PUBLISH_AFTER - 1
        participant.publish()
        assert [(r.command, r.info) for r in viewer.activity("carol")] == [("Query", "SELECT SLEEP(60)")]
        s.busy_payload = None
        participant.publish()
        assert [r.command for r in viewer.activity("carol")] == ["Sleep"]
    finally:
        REGISTRY.remove(conn_id)
        shared_registry.release(conn_id)
