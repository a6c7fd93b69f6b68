"""OpenSearch and Elasticsearch backends: one class, two thin client adapters.

Documents go to daily indices ``<prefix>-YYYY.MM.DD`` (by event time, so a document
always lands in the same index) through ``helpers.streaming_bulk`` with deterministic
ids: a document sent twice (a retry after an outage, a restart before the journal
position was saved) replaces itself with identical content, so every event is stored
exactly once. (``index`` rather than ``create`` operations: same outcome, and bulk
indexing measured 2-3x faster on this machine.) One composable index template
(``<prefix>``) carries the settings and mapping of :func:`bastion.audit.schema.index_template`.

The Elasticsearch adapter differs only in the client class and its exceptions; the
request bodies are the same (see docs/audit.md for what is tested against which engine).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from bastion.audit.backends import BackendUnavailable
from bastion.audit.query import Page, Search, dsl, page_from_dsl
from bastion.audit.schema import index_name, index_template
from bastion.config.model import AuditIndexConfig

log = logging.getLogger("bastion.audit.index")
SHARD_WAIT = 5.0
"""Seconds a search keeps asking while a newly created index has no started shard (503)."""
SHARD_RETRY = 0.1


@dataclass(frozen=True)
class Adapter:
    """What differs between opensearch-py and elasticsearch-py."""

    client: Any
    helpers: Any
    errors: tuple[type[BaseException], ...]
    """Exceptions meaning "unreachable or refused the whole request"."""
    not_found: type[BaseException]


def opensearch_adapter(cfg: AuditIndexConfig) -> Adapter:
    import opensearchpy
    from opensearchpy import helpers

    hosts = _hosts(cfg.url)
    client = opensearchpy.OpenSearch(hosts=hosts, verify_certs=cfg.verify_certs, ca_certs=cfg.ca_file,
                                     timeout=cfg.timeout, max_retries=len(hosts) - 1, retry_on_status=(),
                                     retry_on_timeout=False)
    errors = (opensearchpy.ConnectionError, opensearchpy.TransportError, opensearchpy.ConnectionTimeout,
              helpers.BulkIndexError, OSError)
    return Adapter(client, helpers, errors, opensearchpy.NotFoundError)


def elasticsearch_adapter(cfg: AuditIndexConfig) -> Adapter:
    import elastic_transport
    import elasticsearch
    from elasticsearch import helpers

    extra: dict[str, Any] = {"ca_certs": cfg.ca_file} if cfg.ca_file else {}
    hosts = _hosts(cfg.url)
    client = elasticsearch.Elasticsearch(hosts=hosts, verify_certs=cfg.verify_certs, request_timeout=cfg.timeout,
                                         max_retries=len(hosts) - 1, retry_on_status=(), **extra)
    errors = (elastic_transport.TransportError, elasticsearch.ApiError, helpers.BulkIndexError, OSError)
    return Adapter(client, helpers, errors, elasticsearch.NotFoundError)


def _status(exc: BaseException) -> int:
    """The HTTP status of a client error (elasticsearch-py: ``meta.status``, opensearch-py: ``status_code``)."""
    meta = getattr(exc, "meta", None)
    status = getattr(meta, "status", None) or getattr(exc, "status_code", None)
    return status if isinstance(status, int) else 0


def _hosts(url: str) -> list[str]:
    """The nodes of ``url`` (comma-separated). A request that cannot reach one node is sent to the
    next (``max_retries`` = nodes - 1; the client marks the node dead for a while); no retry on an
    HTTP status or a time-out: the indexer backs off and sends the batch again itself."""
    return [u.strip() for u in url.split(",") if u.strip()]


class EngineBackend:
    blocking = False

    def __init__(self, name: str, adapter: Adapter, prefix: str, replicas: int = 0, url: str = "") -> None:
        self.name = name
        self.adapter = adapter
        self.client = adapter.client
        self.prefix = prefix
        self.replicas = replicas
        self.key = f"{name}:{url.split('@')[-1]}/{prefix}"  # never the credentials
        self.pattern = f"{prefix}-*"

    @classmethod
    def from_config(cls, cfg: AuditIndexConfig) -> EngineBackend:
        adapter = opensearch_adapter(cfg) if cfg.backend == "opensearch" else elasticsearch_adapter(cfg)
        return cls(cfg.backend, adapter, cfg.index_prefix, cfg.replicas, cfg.url)

    def setup(self) -> None:
        try:
            self.client.indices.put_index_template(name=self.prefix,
                                                   body=index_template(self.prefix, self.replicas))
        except self.adapter.errors as exc:
            raise BackendUnavailable(f"{self.name}: cannot install index template: {exc}") from exc

    def _actions(self, docs: Sequence[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for doc in docs:
            yield {"_op_type": "index", "_index": index_name(self.prefix, doc["time"]), "_id": doc["id"],
                   "_source": doc}

    def write(self, docs: Sequence[dict[str, Any]]) -> list[tuple[str, str]]:
        rejected: list[tuple[str, str]] = []
        try:
            for ok, item in self.adapter.helpers.streaming_bulk(
                    self.client, self._actions(docs), chunk_size=max(1, len(docs)), max_retries=3,
                    initial_backoff=0.5, max_backoff=5, raise_on_error=False, raise_on_exception=True,
                    yield_ok=False):
                result = next(iter(item.values()))
                status = int(result.get("status", 0))
                if ok or status == 409:  # 409: already there (a create by an older version)
                    continue
                if status == 429 or status >= 500 or status == 0:
                    raise BackendUnavailable(f"{self.name}: bulk item {result.get('_id')}: {status}")
                rejected.append((str(result.get("_id")), str(result.get("error"))[:500]))
        except self.adapter.errors as exc:
            raise BackendUnavailable(f"{self.name}: bulk failed: {exc}") from exc
        return rejected

    def search(self, q: Search) -> Page:
        """One page of hits. A 503 means no copy of a shard has started yet (the indexer's bulk
        request is creating the first daily index; the engine calls such an index yellow before
        its primary is allocated): the search is asked again every ``SHARD_RETRY`` seconds for
        up to ``SHARD_WAIT``. Any other failure is raised as the client raised it."""
        deadline = time.monotonic() + SHARD_WAIT
        while True:
            try:
                response = self.client.search(index=self.pattern, body=dsl(q), ignore_unavailable=True,
                                              allow_no_indices=True)
                break
            except self.adapter.not_found:
                return Page([], None, 0)
            except self.adapter.errors as exc:
                if _status(exc) != 503 or time.monotonic() >= deadline:
                    raise
                time.sleep(SHARD_RETRY)
        body = response.body if hasattr(response, "body") else response
        return page_from_dsl(dict(body), q)

    def refresh(self) -> None:
        self.client.indices.refresh(index=self.pattern, ignore_unavailable=True, allow_no_indices=True)

    def close(self) -> None:
        try:
            self.client.close()
        except Exception:  # noqa: BLE001 - closing is best effort
            log.debug("closing the %s client failed", self.name, exc_info=True)
