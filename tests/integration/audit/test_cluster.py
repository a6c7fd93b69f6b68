"""A two-node Elasticsearch cluster loses a node mid-indexing and gets it back.

Node ``a`` (master and data) and node ``b`` (data only; with two master-eligible nodes the
loss of either would stop the cluster) hold every daily index with one replica. A writer
appends events to the journal the whole time; the bastion's indexer sends them to both
nodes' HTTP endpoints (``url: a,b``). ``b`` is killed with SIGKILL: the indexer keeps
indexing and searches keep answering through ``a``; ``b`` is started again and the cluster
turns green. In the end the index holds each journaled event exactly once: the count and
the set of ids equal the journal's.
"""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import pytest

from bastion.audit.backends import open_backend
from bastion.audit.indexer import Indexer
from bastion.audit.journal import Journal
from bastion.audit.query import Search
from bastion.audit.schema import doc_id
from bastion.config.model import AuditIndexConfig
from tests.integration.conftest import service_failed, wait_for
from tests.search.elasticsearch import ElasticsearchNode, EngineError, build
from tests.search.opensearch import free_port

MAX_EVENTS = 9500
"""The writer (at most 50 events/s) stops by itself after this many (under the 10,000-hit window)."""


def node_settings(cluster: str, name: str, transport: int, seeds: str, roles: str) -> dict[str, str]:
    settings = {"cluster.name": cluster, "node.name": name, "transport.port": str(transport),
                "discovery.seed_hosts": seeds, "node.roles": roles}
    if "master" in roles:
        settings["cluster.initial_master_nodes"] = name  # the one master-eligible node bootstraps
    return settings


@pytest.fixture
def cluster(tmp_path: Path):
    """Nodes ``a`` and ``b`` of one cluster, both started, the cluster green."""
    nodes: list[ElasticsearchNode] = []
    try:
        built = build()
        ports = [free_port(), free_port()]
        seeds = ",".join(f"127.0.0.1:{p}" for p in ports)
        name = f"bastion-pair-{uuid.uuid4().hex[:6]}"
        for node_name, port, roles in (("a", ports[0], "master,data"), ("b", ports[1], "data")):
            settings = node_settings(name, node_name, port, seeds, roles)
            nodes.append(ElasticsearchNode(tmp_path / node_name, built, heap="512m", settings=settings))
        began = time.monotonic()
        for node in nodes:
            node.launch()
        for node in nodes:
            node.wait_healthy(began)
        nodes[0].request("GET", "/_cluster/health?wait_for_nodes=2&wait_for_status=green&timeout=60s", timeout=70)
    except (EngineError, OSError) as exc:
        for node in nodes:
            node.stop()
        service_failed("Elasticsearch cluster", exc)
    yield nodes
    for node in nodes:
        node.stop()


def health(node: ElasticsearchNode, query: str = "") -> dict[str, object]:
    return node.request("GET", f"/_cluster/health?{query}", timeout=70)


def test_node_killed_and_restarted_mid_indexing(cluster, tmp_path: Path) -> None:
    a, b = cluster
    directory = tmp_path / "audit"
    journal = Journal(directory, fsync=False, rotate_bytes=64 * 1024)
    cfg = AuditIndexConfig(backend="elasticsearch", url=f"{a.url},{b.url}", index_prefix="pair", replicas=1,
                           timeout=5.0)
    backend = open_backend(cfg, directory)
    assert backend is not None
    indexer = Indexer(directory, backend, batch_size=100, poll_interval=0.05, max_backoff=0.5)
    sid = uuid.uuid4().hex
    written = [0]
    stop_writing = threading.Event()

    def writer() -> None:
        while not stop_writing.is_set() and written[0] < MAX_EVENTS:
            journal.append({"type": "query", "session_id": sid, "at": time.time(), "id": "", "schema": 1,
                            "data": {"statement": f"SELECT {written[0]} FROM pair_table", "verdict": "allow"}})
            written[0] += 1
            time.sleep(0.02)

    def searchable() -> int:
        return backend.search(Search(session=(sid,), size=1)).total

    workers = [threading.Thread(target=indexer.run, daemon=True), threading.Thread(target=writer, daemon=True)]
    for w in workers:
        w.start()
    try:
        assert wait_for(lambda: indexer.state.position.seq >= 300, timeout=60), indexer.status()
        assert health(a, "wait_for_status=green&timeout=30s")["status"] == "green"

        b.kill()
        killed_at = indexer.state.position.seq
        answers = [searchable() for _ in range(5)]  # answered by a, no error
        assert wait_for(lambda: indexer.state.position.seq >= killed_at + 500, timeout=60), indexer.status()
        answers += [searchable() for _ in range(5)]
        assert answers == sorted(answers) and answers[-1] > 0
        assert health(a)["number_of_nodes"] == 1

        b.start()
        assert health(a, "wait_for_nodes=2&wait_for_status=green&timeout=60s")["status"] == "green"
        restarted_at = indexer.state.position.seq
        assert wait_for(lambda: indexer.state.position.seq >= restarted_at + 300, timeout=60), indexer.status()
        assert written[0] < MAX_EVENTS, "the writer ran out before the node came back"
        print(f"killed at {killed_at}, restarted at {restarted_at}, {written[0]} events")
    finally:
        stop_writing.set()
        workers[1].join(timeout=10)
    total = written[0]
    assert wait_for(lambda: indexer.state.position.seq == total, timeout=60), indexer.status()
    indexer.stop()
    workers[0].join(timeout=30)
    backend.refresh()

    expected = {doc_id(indexer.node, seq) for seq in range(1, total + 1)}
    assert a.request("GET", "/pair-*/_count")["count"] == total == len(expected)
    body = {"size": MAX_EVENTS, "_source": False, "query": {"match_all": {}}}
    hits = a.request("POST", "/pair-*/_search", body)["hits"]["hits"]  # type: ignore[index]
    ids = [h["_id"] for h in hits]
    assert len(ids) == len(set(ids)) and set(ids) == expected
    journal.close()
    indexer.close()
