"""Stop OpenSearch mid-run, keep working, restart it: every event arrives exactly once."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from bastion.audit.backends import open_backend
from bastion.audit.indexer import Indexer
from bastion.audit.journal import Journal, verify
from bastion.audit.query import Search
from bastion.audit.search import AuditSearch
from bastion.config.model import AuditIndexConfig
from tests.integration.conftest import service_failed, wait_for
from tests.search.opensearch import EngineError, OpenSearchNode, build


@pytest.fixture
def own_node(tmp_path):
    """A node of this test's own: it is stopped and restarted, which other tests must not see."""
    try:
        node = OpenSearchNode(tmp_path / "node", build(), heap="512m")
        node.start()
    except (EngineError, OSError) as exc:
        service_failed("OpenSearch", exc)
    yield node
    node.stop()


def emit(journal: Journal, sid: str, n: int, start: int) -> float:
    """Append n queries; returns the slowest append in seconds."""
    slowest = 0.0
    for i in range(start, start + n):
        began = time.monotonic()
        journal.append({"type": "query", "session_id": sid, "at": time.time(), "id": "", "schema": 1,
                        "data": {"statement": f"SELECT {i} FROM outage_table", "verdict": "allow", "rule": "r"}})
        slowest = max(slowest, time.monotonic() - began)
    return slowest


def test_engine_outage_loses_and_duplicates_nothing(own_node, tmp_path):
    directory = tmp_path / "audit"
    journal = Journal(directory, fsync=True, rotate_bytes=16 * 1024)
    cfg = AuditIndexConfig(backend="opensearch", url=own_node.url, index_prefix="outage", timeout=2.0)
    backend = open_backend(cfg, directory)
    assert backend is not None
    indexer = Indexer(directory, backend, batch_size=100, poll_interval=0.05, max_backoff=0.5)
    search = AuditSearch(backend)
    worker = threading.Thread(target=indexer.run, daemon=True)
    worker.start()
    sid = uuid.uuid4().hex
    try:
        emit(journal, sid, 200, 0)
        assert wait_for(lambda: indexer.state.position.seq == 200, timeout=30)

        own_node.stop()
        slowest = emit(journal, sid, 300, 200)  # sessions go on while the engine is away
        assert slowest < 0.5, f"an audit append waited {slowest:.3f}s for the index"
        assert wait_for(lambda: indexer.failures >= 2, timeout=30), "the indexer never noticed the outage"
        assert indexer.state.position.seq == 200

        own_node.start()
        emit(journal, sid, 100, 500)
        assert wait_for(lambda: indexer.state.position.seq == 600 and indexer.failures == 0, timeout=60), \
            indexer.status()
    finally:
        indexer.stop()
        worker.join(timeout=30)
    backend.refresh()
    hits = list(search.scan(Search(session=(sid,), order="oldest")))
    statements = [h.doc["statement"] for h in hits]
    assert statements == [f"SELECT {i} FROM outage_table" for i in range(600)]
    assert len({h.id for h in hits}) == 600
    count = own_node.request("GET", "/outage-*/_count")["count"]
    assert count == 600
    journal.close()
    assert verify(directory).ok and verify(directory).segments > 1
    indexer.close()
