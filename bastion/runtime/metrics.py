"""Prometheus metrics of the data path (exposed by the web app at /metrics).

With several workers (``bastion serve --workers N``) the supervisor starts each worker
with ``PROMETHEUS_MULTIPROC_DIR`` (:data:`MULTIPROC_ENV`) in its environment: every
worker then keeps its values in files there, and the default registry
exposes the sum over all workers (:class:`MultiProcessCollector`) instead of the
serving worker's own values, so ``/metrics`` answers the same whichever worker serves
it. Gauges say how they combine: open connections add up over the live workers; the
audit index gauges (set by the supervisor alone) take the largest live value.
"""

from __future__ import annotations

import os

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
MULTIPROCESS = bool(os.environ.get(MULTIPROC_ENV))
"""Fixed at import, like prometheus-client's own choice of value storage."""

_OWN: CollectorRegistry | None = None if MULTIPROCESS else REGISTRY
"""Where the metric objects register: nowhere in multiprocess mode (the collector below
reads their files; registering them too would expose this process's values twice)."""
if MULTIPROCESS:
    MultiProcessCollector(REGISTRY)

CONNECTIONS = Counter("bastion_connections_total", "Client connections accepted", ["protocol"], registry=_OWN)
ACTIVE = Gauge("bastion_active_connections", "Client connections open now", ["protocol"], registry=_OWN,
               multiprocess_mode="livesum")
REFUSED = Counter("bastion_connections_refused_total", "Connections refused before a session", ["reason"],
                  registry=_OWN)
SESSION_SECONDS = Histogram("bastion_connection_seconds", "Connection lifetime", ["protocol"],
                            buckets=(0.1, 1, 10, 60, 600, 3600, 28800), registry=_OWN)
DECISIONS = Counter("bastion_decisions_total", "Pipeline decisions", ["protocol", "event", "verdict"],
                    registry=_OWN)
AUTH = Counter("bastion_auth_total", "Authentication attempts", ["protocol", "result"], registry=_OWN)
AUDIT_INDEX_LAG = Gauge("bastion_audit_index_lag_events",
                        "Journal records not yet in the audit search index (updated by the indexer)",
                        registry=_OWN, multiprocess_mode="livemax")
AUDIT_INDEX_FAILURES = Gauge("bastion_audit_index_failures",
                             "Consecutive failed indexing attempts (0 while the index is reachable)",
                             registry=_OWN, multiprocess_mode="livemax")
AUDIT_RECORDS = Counter("bastion_audit_journal_records_total", "Records appended to the audit journal",
                        registry=_OWN)
AUDIT_FSYNCS = Counter("bastion_audit_journal_fsyncs_total",
                       "fsyncs of the audit journal (one covers every record written before it: group commit)",
                       registry=_OWN)
