"""The audit section of the configuration: the journal and the searchable index built from it.

Part of the configuration schema (:mod:`bastion.config.model` re-exports these classes);
attribute docstrings are the reference documentation (docs/configuration.md, docs/audit.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class AuditIndexConfig:
    """The searchable index derived from the journal (see docs/audit.md)."""

    backend: Literal["sqlite", "opensearch", "elasticsearch", "none"] = "sqlite"
    """``sqlite`` (FTS5 in ``database``), ``opensearch``, ``elasticsearch``, or ``none`` (no indexer)."""
    url: str = ""
    """OpenSearch/Elasticsearch URL(s), comma separated (``https://user:pass@host:9200``)."""
    index_prefix: str = "bastion-audit"
    """Daily indices are ``<prefix>-YYYY.MM.DD``; one index template covers ``<prefix>-*``."""
    database: str = "audit.db"
    """The sqlite backend's file; a relative path is relative to ``audit.journal_dir``."""
    verify_certs: bool = True
    ca_file: str | None = None
    timeout: float = 10.0
    """Seconds per request to the search engine."""
    replicas: int = 0
    """``number_of_replicas`` in the index template."""
    batch_size: int = 2000
    """Journal records per step: one bulk request (sqlite: one transaction). Each step has a
    fixed cost (reading the segment list, committing and syncing the index and the position),
    so larger batches cost less CPU per document (bench/indexer.py); a step still takes well
    under a second."""
    poll_interval: float = 0.5
    """Seconds between looks at the journal when the indexer has caught up."""
    max_backoff: float = 30.0
    """Upper bound of the exponential back-off while the engine is unreachable."""
    max_output_bytes: int = 1 << 20
    """Terminal output text indexed per recording (the recording itself keeps everything)."""

    def __post_init__(self) -> None:
        if self.backend in ("opensearch", "elasticsearch") and not self.url:
            raise ValueError(f"backend {self.backend} needs url")
        if not self.index_prefix or self.index_prefix != self.index_prefix.lower() or "*" in self.index_prefix:
            raise ValueError("index_prefix must be non-empty, lower case, without '*'")
        if self.batch_size < 1 or self.poll_interval <= 0 or self.max_backoff <= 0:
            raise ValueError("batch_size, poll_interval and max_backoff must be positive")


@dataclass(frozen=True)
class AuditConfig:
    journal_dir: str = "{state_dir}/audit"
    sinks: list[str] = field(default_factory=lambda: ["journal"])
    index: AuditIndexConfig = field(default_factory=AuditIndexConfig)
    fsync: bool = True
    """fsync the journal after every record (an event is on disk before the session moves on)."""
    rotate_bytes: int = 64 << 20
    """Start a new journal segment once the active one reaches this size (0: never by size)."""
    rotate_daily: bool = False
    """Also start a new segment at the first record of each UTC day."""
    retention_days: int = 0
    """Delete journal segments whose last record is older than this (0: keep forever).
    A segment is deleted only once the indexer has indexed it."""

    def __post_init__(self) -> None:
        if self.rotate_bytes < 0 or self.retention_days < 0:
            raise ValueError("rotate_bytes and retention_days must not be negative")
