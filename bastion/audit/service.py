"""The audit runtime service of ``bastion serve``: the indexer greenlet and journal retention.

:func:`start` is called by :meth:`bastion.runtime.server.Bastion.start`; it returns None
when there is nothing to run (no index and no retention). :meth:`AuditService.stop` is
called after the sinks are closed, so the indexer gets a last chance (``drain`` seconds)
to index the final events before the process exits; whatever it misses is indexed at the
next start.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gevent

from bastion.audit.backends import BackendUnavailable, IndexBackend, open_backend
from bastion.audit.indexer import Indexer
from bastion.audit.journal import prune
from bastion.audit.segments import side_journals
from bastion.core.masks import Masks

if TYPE_CHECKING:
    from bastion.context import PluginContext

log = logging.getLogger("bastion.audit")
PRUNE_EVERY = 3600.0
SCAN_SIDES_EVERY = 5.0
"""Seconds between looks for new side journals (a web process started since)."""


def storage_redactor(ctx: PluginContext) -> Callable[[str], str]:
    """Mask text bound for the index with every masker's storage masking (``mask_text``)."""
    from bastion.core.types import Identity, Session, Target

    stub = Session(id="indexer", identity=Identity(subject="indexer", email="", groups=frozenset(), idp="bastion"),
                   target=Target(name="indexer", protocol="", host="", port=0), account="",
                   client_addr="", started_at=0.0)

    masks = Masks(ctx.maskers, stub)

    def redact_text(text: str) -> str:
        return masks.redact(text)[0]
    return redact_text


def build_indexer(ctx: PluginContext, offload: bool = True, journal_dir: Path | None = None,
                  backend: IndexBackend | None = None) -> Indexer | None:
    """The indexer of the node's journal, or of ``journal_dir`` into an open ``backend``."""
    audit = ctx.settings.config.audit
    backend = backend or open_backend(audit.index, audit.journal_dir)
    if backend is None:
        return None
    cfg = audit.index
    return Indexer(journal_dir or audit.journal_dir, backend, batch_size=cfg.batch_size,
                   poll_interval=cfg.poll_interval, max_backoff=cfg.max_backoff,
                   max_output_bytes=cfg.max_output_bytes, redact=storage_redactor(ctx), offload=offload)


class AuditService:
    def __init__(self, ctx: PluginContext, indexer: Indexer | None) -> None:
        self.ctx = ctx
        self.indexer = indexer
        self.journal_dir = Path(ctx.settings.config.audit.journal_dir)
        self.retention_days = ctx.settings.config.audit.retention_days
        self._indexing: gevent.Greenlet | None = None
        self._retaining: gevent.Greenlet | None = None
        self._scanning: gevent.Greenlet | None = None
        self.sides: dict[Path, tuple[Indexer, gevent.Greenlet | None]] = {}
        """Indexers of the side journals (web processes of their own), into the same index."""

    def start(self) -> None:
        if self.indexer is not None:
            self._indexing = gevent.spawn(self.indexer.run)
            self._scanning = gevent.spawn(self._scan_sides)
            log.info("audit indexer started", extra={"backend": self.indexer.backend.key})
        if self.retention_days > 0:
            self._retaining = gevent.spawn(self._retention)

    def _scan_sides(self) -> None:
        assert self.indexer is not None
        while True:
            for directory in side_journals(self.journal_dir):
                if directory not in self.sides:
                    side = build_indexer(self.ctx, journal_dir=directory, backend=self.indexer.backend)
                    assert side is not None
                    self.sides[directory] = (side, gevent.spawn(side.run))
                    log.info("indexing side journal", extra={"journal": str(directory)})
                else:
                    self._park_or_resume(directory)
            gevent.sleep(SCAN_SIDES_EVERY)

    def _park_or_resume(self, directory: Path) -> None:
        """Stop polling a side journal whose writer is gone once it is all indexed (web
        processes come and go; their journals stay); resume if it grows again (a new
        process with the same pid)."""
        side, running = self.sides[directory]
        status = side.status()
        if running is not None and status["lag"] == 0 and not side.failures and _writer_gone(directory):
            side.stop()
            running.join(timeout=30)
            self.sides[directory] = (side, None)
            log.info("side journal indexed and its writer gone: parked", extra={"journal": str(directory)})
        elif running is None and status["lag"] > 0:
            self.sides[directory] = (side, gevent.spawn(side.run))
            log.info("side journal grew again: indexing", extra={"journal": str(directory)})

    def _retention(self) -> None:
        while True:
            journals = [(self.journal_dir, self.indexer)] + [(d, ix) for d, (ix, _) in self.sides.items()]
            for directory, indexer in journals:
                try:
                    prune(directory, self.retention_days, indexer.state.position.seq if indexer else None)
                except OSError:
                    log.exception("journal retention failed")
            gevent.sleep(PRUNE_EVERY)

    def stop(self, drain: float = 2.0) -> None:
        """Stop the loops; index what is left for up to ``drain`` seconds."""
        for loop in (self._retaining, self._scanning):
            if loop is not None:
                loop.kill(block=True, timeout=2)
        if self.indexer is None:
            return
        deadline = time.monotonic() + drain
        for indexer, running in [(self.indexer, self._indexing), *self.sides.values()]:
            indexer.stop()
            if running is not None:
                # never kill it mid-step: a write may be running in the thread pool
                running.join(timeout=30)
            _drain(indexer, deadline)
        for indexer, _ in self.sides.values():
            indexer.state.close()  # the backend is the main indexer's, closed with it
        self.indexer.close()

    def status(self) -> dict[str, Any]:
        return self.indexer.status() if self.indexer is not None else {"backend": "none"}


def _writer_gone(directory: Path) -> bool:
    """The process a side journal is named after (``web-<pid>``) no longer exists."""
    try:
        os.kill(int(directory.name.rsplit("-", 1)[1]), 0)
    except (ValueError, IndexError):
        return False  # not named after a pid: keep polling
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, someone else's
    return False


def _drain(indexer: Indexer, deadline: float) -> None:
    try:
        while time.monotonic() < deadline and indexer.step():
            pass
    except BackendUnavailable as exc:
        log.info("audit index unavailable at shutdown (%s); the next start catches up", exc)
    except Exception:  # noqa: BLE001 - shutting down: report and go on
        log.exception("final indexing pass failed")


def start(ctx: PluginContext) -> AuditService | None:
    """Start the audit service for ``bastion serve`` (also kept as ``ctx.audit_service``)."""
    indexer = build_indexer(ctx)
    if indexer is None and ctx.settings.config.audit.retention_days <= 0:
        return None
    service = AuditService(ctx, indexer)
    service.start()
    ctx.audit_service = service
    return service
