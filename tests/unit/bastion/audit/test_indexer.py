"""The indexer with a scripted backend: order, session context, outages, rejections."""

from __future__ import annotations

from dataclasses import asdict

import pytest

from bastion.audit.backends import BackendUnavailable
from bastion.audit.indexer import REJECTED, Indexer
from bastion.audit.journal import Journal
from bastion.audit.query import Page, Search
from bastion.core.contracts import AuditEvent


class FakeBackend:
    name = "fake"
    key = "fake:1"
    blocking = False

    def __init__(self) -> None:
        self.docs: dict[str, dict] = {}
        self.writes = 0
        self.down = False
        self.reject: set[str] = set()

    def setup(self) -> None:
        if self.down:
            raise BackendUnavailable("down")

    def write(self, docs):
        if self.down:
            raise BackendUnavailable("down")
        self.writes += 1
        for d in docs:
            if d["id"] not in self.reject:
                self.docs.setdefault(d["id"], d)
        return [(d["id"], "mapping error") for d in docs if d["id"] in self.reject]

    def search(self, q: Search) -> Page:
        return Page([], None, 0)

    def refresh(self) -> None:
        return None

    def close(self) -> None:
        return None


def emit(journal: Journal, type_: str, session: str, **data) -> int:
    return journal.append(asdict(AuditEvent(type=type_, session_id=session, at=1700000000.0, data=data)))


@pytest.fixture
def setup(tmp_path):
    journal = Journal(tmp_path, fsync=False)
    backend = FakeBackend()
    return journal, backend, Indexer(tmp_path, backend, batch_size=2)


def test_batches_session_context_and_position(setup, tmp_path):
    journal, backend, indexer = setup
    emit(journal, "session.start", "s1", user="alice", target="db", protocol="mysql")
    for i in range(4):
        emit(journal, "query", "s1", statement=f"SELECT {i}")
    assert indexer.catch_up() == 5
    assert backend.writes == 3
    assert {d["user"] for d in backend.docs.values()} == {"alice"}
    assert indexer.state.position.seq == 5 and indexer.status()["lag"] == 0
    # a new indexer (after a restart) resumes and still knows the session from its table
    emit(journal, "query", "s1", statement="SELECT late")
    again = Indexer(tmp_path, backend, batch_size=2)
    assert again.catch_up() == 1
    late = [d for d in backend.docs.values() if d["statement"] == "SELECT late"]
    assert late[0]["user"] == "alice" and late[0]["target"] == "db"


def test_outage_keeps_the_position_and_backs_off(setup):
    journal, backend, indexer = setup
    emit(journal, "query", "s", statement="a")
    backend.down = True
    with pytest.raises(BackendUnavailable):
        indexer.step()
    assert indexer.state.position.seq == 0
    indexer.failures = 1
    first = indexer.backoff()
    indexer.failures = 30
    assert 0.4 <= first <= 0.5 and indexer.backoff() <= indexer.max_backoff
    backend.down = False
    assert indexer.catch_up() == 1 and len(backend.docs) == 1


def test_run_loop_survives_errors_and_stops(setup):
    import threading

    journal, backend, indexer = setup
    indexer.poll_interval = 0.01
    indexer.max_backoff = 0.02
    backend.down = True
    emit(journal, "query", "s", statement="a")
    worker = threading.Thread(target=indexer.run)
    worker.start()
    try:
        import time

        deadline = time.monotonic() + 5
        while indexer.failures < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert indexer.failures >= 2 and indexer.last_error
        backend.down = False
        while indexer.state.position.seq < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert indexer.state.position.seq == 1
    finally:
        indexer.stop()
        worker.join(timeout=5)
    assert not worker.is_alive() and indexer.failures == 0


def test_rejected_documents_are_logged_and_skipped(setup, tmp_path):
    journal, backend, indexer = setup
    emit(journal, "query", "s", statement="a")
    emit(journal, "query", "s", statement="b")
    backend.reject = {f"{indexer.node}:000000000001"}
    assert indexer.catch_up() == 2
    assert len(backend.docs) == 1 and indexer.state.position.seq == 2
    assert "mapping error" in (tmp_path / REJECTED).read_text()
