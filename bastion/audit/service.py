"""The audit runtime service of ``bastion serve``: the indexer greenlet and journal retention.

:func:`start` is called by :meth:`bastion.runtime.server.Bastion.start`; it returns None
when there is nothing to run (no index and no retention). :meth:`AuditService.stop` is
called after the sinks are closed, so the indexer gets a last chance (``drain`` seconds)
to index the final events before the process exits; whatever it misses is indexed at the
next start.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gevent

from bastion.audit.backends import BackendUnavailable, open_backend
from bastion.audit.indexer import Indexer
from bastion.audit.journal import prune
from bastion.core.contracts import redact

if TYPE_CHECKING:
    from bastion.context import PluginContext

log = logging.getLogger("bastion.audit")
PRUNE_EVERY = 3600.0


def storage_redactor(ctx: PluginContext) -> Callable[[str], str]:
    """Mask text bound for the index with every masker's storage masking (``mask_text``)."""
    from bastion.core.types import Identity, Session, Target

    stub = Session(id="indexer", identity=Identity(subject="indexer", email="", groups=frozenset(), idp="bastion"),
                   target=Target(name="indexer", protocol="", host="", port=0), account="",
                   client_addr="", started_at=0.0)

    def redact_text(text: str) -> str:
        return redact(ctx.maskers, stub, text)[0]
    return redact_text


def build_indexer(ctx: PluginContext, offload: bool = True) -> Indexer | None:
    audit = ctx.settings.config.audit
    backend = open_backend(audit.index, audit.journal_dir)
    if backend is None:
        return None
    cfg = audit.index
    return Indexer(audit.journal_dir, backend, batch_size=cfg.batch_size, poll_interval=cfg.poll_interval,
                   max_backoff=cfg.max_backoff, max_output_bytes=cfg.max_output_bytes,
                   redact=storage_redactor(ctx), offload=offload)


class AuditService:
    def __init__(self, ctx: PluginContext, indexer: Indexer | None) -> None:
        self.ctx = ctx
        self.indexer = indexer
        self.journal_dir = Path(ctx.settings.config.audit.journal_dir)
        self.retention_days = ctx.settings.config.audit.retention_days
        self._indexing: gevent.Greenlet | None = None
        self._retaining: gevent.Greenlet | None = None

    def start(self) -> None:
        if self.indexer is not None:
            self._indexing = gevent.spawn(self.indexer.run)
            log.info("audit indexer started", extra={"backend": self.indexer.backend.key})
        if self.retention_days > 0:
            self._retaining = gevent.spawn(self._retention)

    def _retention(self) -> None:
        while True:
            indexed = self.indexer.state.position.seq if self.indexer is not None else None
            try:
                prune(self.journal_dir, self.retention_days, indexed)
            except OSError:
                log.exception("journal retention failed")
            gevent.sleep(PRUNE_EVERY)

    def stop(self, drain: float = 2.0) -> None:
        """Stop the loops; index what is left for up to ``drain`` seconds."""
        if self._retaining is not None:
            self._retaining.kill(block=True, timeout=2)
        if self.indexer is None:
            return
        self.indexer.stop()
        if self._indexing is not None:
            # never kill it mid-step: a write may be running in the thread pool
            self._indexing.join(timeout=30)
        deadline = time.monotonic() + drain
        try:
            while time.monotonic() < deadline and self.indexer.step():
                pass
        except BackendUnavailable as exc:
            log.info("audit index unavailable at shutdown (%s); the next start catches up", exc)
        except Exception:  # noqa: BLE001 - shutting down: report and go on
            log.exception("final indexing pass failed")
        self.indexer.close()

    def status(self) -> dict[str, Any]:
        return self.indexer.status() if self.indexer is not None else {"backend": "none"}


def start(ctx: PluginContext) -> AuditService | None:
    """Start the audit service for ``bastion serve`` (also stored as ``ctx.services["audit"]``)."""
    indexer = build_indexer(ctx)
    if indexer is None and ctx.settings.config.audit.retention_days <= 0:
        return None
    service = AuditService(ctx, indexer)
    service.start()
    ctx.services["audit"] = service
    return service
