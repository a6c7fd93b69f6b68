"""The shared connection registry: ids unique across processes, the owner check, KILLs
handed to the process that serves the connection, what a restarted node forgets."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bastion.state.connections import ID_SPACE, NO_ANSWER, ConnectionRegistry, Outcome
from bastion.state.store import StateStore, kill_requests


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    s = StateStore(f"sqlite:///{tmp_path}/state.db")
    s.migrate()
    yield s
    s.dispose()


def test_ids_are_unique_across_processes_and_fit_32_bits(store: StateStore) -> None:
    a, b = ConnectionRegistry(store, "node-a", "a1"), ConnectionRegistry(store, "node-b", "b1")
    ids = [reg.allocate("127.0.0.1:1") for _ in range(20) for reg in (a, b)]
    assert len(set(ids)) == len(ids)
    assert all(1 <= i <= ID_SPACE for i in ids)


def test_after_a_wrap_ids_in_use_are_skipped(store: StateStore) -> None:
    reg = ConnectionRegistry(store, "n", "i", id_space=3)
    first = [reg.allocate("c") for _ in range(3)]
    assert sorted(first) == [1, 2, 3]
    reg.release(2)
    assert reg.allocate("c") == 2  # the counter wrapped: 1 and 3 are open, 2 is free again
    with pytest.raises(RuntimeError):
        reg.allocate("c")


@pytest.mark.parametrize(("claimed_by", "asking", "known"), [
    ("alice", "alice", True), ("alice", "bob", False), (None, "alice", False)])
def test_other_users_ids_look_unknown(store: StateStore, claimed_by: str | None, asking: str, known: bool) -> None:
    reg = ConnectionRegistry(store, "n", "i")
    conn_id = reg.allocate("c")
    if claimed_by:
        reg.claim(conn_id, user=claimed_by, target="db", db=None)
    owner = reg.owner(conn_id, asking)
    assert (owner is not None) is known
    if owner is not None:
        assert (owner.node, owner.instance) == ("n", "i")
    assert reg.owner(conn_id + 1000, asking) is None


def test_a_restarted_node_forgets_its_previous_run_only(store: StateStore) -> None:
    old, other = ConnectionRegistry(store, "n", "old"), ConnectionRegistry(store, "m", "other")
    stale, kept = old.allocate("c"), other.allocate("c")
    old.claim(stale, user="alice", target="db", db=None)
    other.claim(kept, user="alice", target="db", db=None)
    with store.engine.begin() as conn:
        conn.execute(kill_requests.insert().values(connection_id=stale, instance="old", requested_by="alice",
                                                   query_only=True, status="pending", created_at=time.time()))
    new = ConnectionRegistry(store, "n", "new")
    assert new.forget_node() == 1
    assert new.owner(stale, "alice") is None and new.owner(kept, "alice") is not None
    assert ConnectionRegistry(store, "n", "old").take_requests() == []


def test_activity_lists_the_users_connections_of_other_processes(store: StateStore) -> None:
    here, there = ConnectionRegistry(store, "n", "here"), ConnectionRegistry(store, "m", "there")
    mine, theirs, bobs = here.allocate("c"), there.allocate("10.0.0.9:5"), there.allocate("c")
    here.claim(mine, user="alice", target="db", db=None)
    there.claim(theirs, user="alice", target="db", db="shop")
    there.claim(bobs, user="bob", target="db", db=None)
    there.publish_many([(theirs, "Query", "SELECT SLEEP(?)", "shop", 100.0)])
    rows = here.activity("alice")
    assert [(r.id, r.command, r.info, r.db, r.client_addr) for r in rows] == [
        (theirs, "Query", "SELECT SLEEP(?)", "shop", "10.0.0.9:5")]


def _owner_answers(reg: ConnectionRegistry, outcome: Outcome, seen: list[tuple[int, bool, str]]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for request_id, conn_id, query_only, by in reg.take_requests():
            seen.append((conn_id, query_only, by))
            reg.answer(request_id, outcome)
            return
        time.sleep(0.02)


def test_a_kill_is_carried_out_by_the_owner(store: StateStore) -> None:
    owner_side = ConnectionRegistry(store, "a", "owner")
    asker = ConnectionRegistry(StateStore(store.url), "b", "asker")
    conn_id = owner_side.allocate("c")
    owner_side.claim(conn_id, user="alice", target="db", db=None)
    seen: list[tuple[int, bool, str]] = []
    worker = threading.Thread(target=_owner_answers, args=(owner_side, Outcome("killed", thread_id=42), seen))
    worker.start()
    owner = asker.owner(conn_id, "alice")
    assert owner is not None
    outcome = asker.request_kill(owner, True, "alice", claim_timeout=5, poll=0.02)
    worker.join()
    assert outcome == Outcome("killed", thread_id=42) and seen == [(conn_id, True, "alice")]
    with store.engine.begin() as conn:
        assert conn.execute(kill_requests.select()).first() is None  # answered requests are removed


def test_no_answer_means_nothing_was_killed_and_a_late_owner_does_nothing(store: StateStore) -> None:
    owner_side, asker = ConnectionRegistry(store, "a", "owner"), ConnectionRegistry(store, "b", "asker")
    conn_id = owner_side.allocate("c")
    owner_side.claim(conn_id, user="alice", target="db", db=None)
    owner = asker.owner(conn_id, "alice")
    assert owner is not None
    assert asker.request_kill(owner, False, "alice", claim_timeout=0.2, poll=0.05) == NO_ANSWER
    assert owner_side.take_requests() == []  # withdrawn: never acted on later


def test_an_unreadable_answer_is_an_error() -> None:
    assert Outcome.load("{not json").kind == "error"
    assert Outcome.load(Outcome("cancelled").dump()) == Outcome("cancelled")


def test_old_requests_are_purged(store: StateStore) -> None:
    reg = ConnectionRegistry(store, "n", "i")
    with store.engine.begin() as conn:
        for age in (7200, 10):
            conn.execute(kill_requests.insert().values(connection_id=1, instance="x", requested_by="a",
                                                       query_only=True, status="taken", created_at=time.time() - age))
    assert reg.purge(3600) == 1
