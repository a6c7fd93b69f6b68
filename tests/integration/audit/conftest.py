"""The audit contract tests run against every backend: sqlite (embedded) and a real OpenSearch node."""

from __future__ import annotations

import uuid

import pytest

from bastion.audit.backends import open_backend
from bastion.audit.indexer import Indexer
from bastion.audit.journal import Journal
from bastion.audit.search import AuditSearch
from bastion.config.model import AuditIndexConfig
from tests.integration.audit.scenario import CARD, AuditEnv


def index_config(request: pytest.FixtureRequest, backend: str) -> AuditIndexConfig:
    if backend == "opensearch":
        node = request.getfixturevalue("opensearch_node")
        return AuditIndexConfig(backend="opensearch", url=node.url, index_prefix=f"t-{uuid.uuid4().hex[:10]}")
    return AuditIndexConfig(backend="sqlite")


@pytest.fixture(params=["sqlite", "opensearch"])
def audit_env(request, tmp_path):
    directory = tmp_path / "audit"
    journal = Journal(directory, fsync=False)
    backend = open_backend(index_config(request, request.param), directory)
    assert backend is not None
    indexer = Indexer(directory, backend, batch_size=50,
                      redact=lambda text: text.replace(CARD, "**** **** **** 1111"))
    env = AuditEnv(tmp_path, journal, backend, indexer, AuditSearch(backend))
    yield env
    journal.close()
    indexer.close()
