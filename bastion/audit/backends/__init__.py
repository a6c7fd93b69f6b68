"""Index backends behind one small interface (:class:`IndexBackend`), built by :func:`open_backend`.

``sqlite`` (FTS5, embedded default), ``opensearch`` (opensearch-py) and ``elasticsearch``
(elasticsearch-py) share the document schema (:mod:`bastion.audit.schema`) and the query
builder (:mod:`bastion.audit.query`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from bastion.audit.query import Page, Search
from bastion.config.model import AuditIndexConfig


class BackendUnavailable(Exception):
    """The engine cannot be reached or refused the whole request: retry later with back-off."""


@runtime_checkable
class IndexBackend(Protocol):
    name: str
    key: str
    """Identifies the destination (backend + where), so each keeps its own journal position."""
    blocking: bool
    """True when calls block the OS thread (sqlite): the indexer runs them in a thread pool."""

    def setup(self) -> None:
        """Create tables / the index template; idempotent. Raises BackendUnavailable."""
        ...

    def write(self, docs: Sequence[dict[str, Any]]) -> list[tuple[str, str]]:
        """Store documents, idempotently: a document whose id exists is left as it is.

        Returns ``(id, reason)`` for documents the engine rejected for good (mapping errors);
        raises BackendUnavailable when the batch must be retried as a whole.
        """
        ...

    def search(self, q: Search) -> Page: ...

    def refresh(self) -> None:
        """Make everything written so far searchable (tests)."""
        ...

    def close(self) -> None: ...


def open_backend(cfg: AuditIndexConfig, journal_dir: str | Path) -> IndexBackend | None:
    """The configured backend (None for ``backend: none``)."""
    if cfg.backend == "none":
        return None
    if cfg.backend == "sqlite":
        from bastion.audit.backends.sqlite import SQLiteBackend

        path = Path(cfg.database)
        return SQLiteBackend(path if path.is_absolute() else Path(journal_dir) / path)
    from bastion.audit.backends.engine import EngineBackend

    return EngineBackend.from_config(cfg)
