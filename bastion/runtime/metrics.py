"""Prometheus metrics of the data path (exposed by the web app at /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

CONNECTIONS = Counter("bastion_connections_total", "Client connections accepted", ["protocol"])
ACTIVE = Gauge("bastion_active_connections", "Client connections open now", ["protocol"])
REFUSED = Counter("bastion_connections_refused_total", "Connections refused before a session", ["reason"])
SESSION_SECONDS = Histogram("bastion_connection_seconds", "Connection lifetime", ["protocol"],
                            buckets=(0.1, 1, 10, 60, 600, 3600, 28800))
DECISIONS = Counter("bastion_decisions_total", "Pipeline decisions", ["protocol", "event", "verdict"])
AUTH = Counter("bastion_auth_total", "Authentication attempts", ["protocol", "result"])
AUDIT_INDEX_LAG = Gauge("bastion_audit_index_lag_events",
                        "Journal records not yet in the audit search index (updated by the indexer)")
AUDIT_INDEX_FAILURES = Gauge("bastion_audit_index_failures",
                             "Consecutive failed indexing attempts (0 while the index is reachable)")
AUDIT_RECORDS = Counter("bastion_audit_journal_records_total", "Records appended to the audit journal")
AUDIT_FSYNCS = Counter("bastion_audit_journal_fsyncs_total",
                       "fsyncs of the audit journal (one covers every record written before it: group commit)")
