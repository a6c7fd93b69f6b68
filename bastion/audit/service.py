"""The audit runtime of ``bastion serve``: indexing in a process of its own, and journal retention.

The listeners' process never indexes: the indexer (reading journals, masking output,
writing the index) would compete with the sessions for the GIL. :func:`start`, called by
:meth:`bastion.runtime.server.Bastion.start`, starts an :class:`IndexerSupervisor` that
runs ``bastion indexer --config <file>`` (:func:`run_indexer`) as a child process,
restarts it with back-off if it dies, and stops it on shutdown (SIGTERM: the child gets
``drain`` seconds to index the final events; whatever it misses is indexed at the next
start). The child dies with its parent (``PR_SET_PDEATHSIG``, and a parent-pid watch),
and holds ``indexer.lock`` in the journal directory, so two indexers never share a
position even across a ``kill -9``.

Inside the child, :class:`AuditService` runs one indexer greenlet per journal (the
node's, and the side journals of web processes of their own and of ``bastion serve
--workers N``'s workers, ``worker-<i>``) and retention, which needs
the indexed position. Without an index, retention alone runs in the listeners' process.
The child reports lag and failures in ``indexer.status`` (JSON), which the supervisor
copies into the ``/metrics`` gauges of the listeners' process.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gevent
import gevent.event
import gevent.subprocess

from bastion.audit.backends import BackendUnavailable, IndexBackend, open_backend
from bastion.audit.indexer import Indexer
from bastion.audit.journal import prune
from bastion.audit.segments import SIDE_PREFIX, side_journals
from bastion.core.masks import Masks
from bastion.runtime.metrics import AUDIT_INDEX_FAILURES, AUDIT_INDEX_LAG

if TYPE_CHECKING:
    from bastion.context import PluginContext

log = logging.getLogger("bastion.audit")
PRUNE_EVERY = 3600.0
SCAN_SIDES_EVERY = 5.0
"""Seconds between looks for new side journals (a web process started since)."""
STATUS = "indexer.status"
"""The child's lag and failures, for the supervisor's gauges."""
STATUS_EVERY = 2.0
LOCK = "indexer.lock"
RESTART_MAX = 30.0
"""Longest wait before restarting an indexer process that died (back-off doubles from 0.5 s)."""
STOP_TIMEOUT = 30.0
"""How long the supervisor waits, past the drain, for the child to finish its step at shutdown."""


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
            for directory, indexer in self._retained():
                try:
                    prune(directory, self.retention_days, indexer.state.position.seq if indexer else None)
                except OSError:
                    log.exception("journal retention failed")
            gevent.sleep(PRUNE_EVERY)

    def _retained(self) -> Sequence[tuple[Path, Indexer | None]]:
        """Every journal retention looks after, with its indexer (None: no index, age alone
        decides). With an index, a side journal not yet being indexed is left alone."""
        if self.indexer is not None:
            return [(self.journal_dir, self.indexer)] + [(d, ix) for d, (ix, _) in self.sides.items()]
        return [(d, None) for d in [self.journal_dir, *side_journals(self.journal_dir)]]

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
    """The process a side journal is named after (``web-<pid>``) no longer exists. A
    worker's journal (``worker-<i>``) is never parked: its supervisor restarts its writer."""
    if not directory.name.startswith(SIDE_PREFIX):
        return False
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


class IndexerSupervisor:
    """Runs ``bastion indexer`` as a child process of ``bastion serve``; see the module doc."""

    def __init__(self, ctx: PluginContext, drain: float = 2.0) -> None:
        self.ctx = ctx
        self.journal_dir = Path(ctx.settings.config.audit.journal_dir)
        self.argv = [sys.executable, "-m", "bastion.cli", "indexer", "--config", str(ctx.settings.path),
                     "--drain", str(drain), "--parent", str(os.getpid())]
        self.proc: gevent.subprocess.Popen | None = None
        self.restarts = 0
        self._stopping = False
        self._loop: gevent.Greenlet | None = None
        self._status: gevent.Greenlet | None = None

    def start(self) -> None:
        self._loop = gevent.spawn(self._supervise)
        self._status = gevent.spawn(self._gauges)
        log.info("audit indexer process supervised", extra={"journal": str(self.journal_dir)})

    def _supervise(self) -> None:
        delay = 0.5
        while not self._stopping:
            started = time.monotonic()
            # gevent's Popen: waiting for the child never blocks the hub, patched or not
            self.proc = gevent.subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, close_fds=True)
            code = self.proc.wait()
            if self._stopping:
                return
            if time.monotonic() - started > 60:
                delay = 0.5  # it ran a good while: this is a new failure, not a crash loop
            self.restarts += 1
            log.error("audit indexer process exited (status %s); restarting in %.1f s", code, delay)
            gevent.sleep(delay)
            delay = min(RESTART_MAX, delay * 2)

    def _gauges(self) -> None:
        copy_status(self.journal_dir)

    def stop(self, drain: float = 2.0) -> None:
        """SIGTERM the child and wait for its last pass (``drain`` seconds, plus the step it
        is in); SIGKILL it if it does not go."""
        self._stopping = True
        if self._status is not None:
            self._status.kill(block=False)
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=drain + STOP_TIMEOUT)
            except gevent.subprocess.TimeoutExpired:
                log.error("audit indexer process did not stop; killing it")
                proc.kill()
                proc.wait()
        if self._loop is not None:
            self._loop.join(timeout=5)

    def status(self) -> dict[str, Any]:
        return read_status(self.journal_dir) or {"backend": self.ctx.settings.config.audit.index.backend}


def copy_status(journal_dir: Path) -> None:
    """Forever: copy the indexer's lag and failures (``journal_dir/indexer.status``) into
    this process's ``/metrics`` gauges (the workers of ``serve --workers N`` run it too)."""
    while True:
        status = read_status(journal_dir)
        if status is not None:
            AUDIT_INDEX_LAG.set(status.get("lag", 0))
            AUDIT_INDEX_FAILURES.set(status.get("failures", 0))
        gevent.sleep(STATUS_EVERY)


def read_status(journal_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((journal_dir / STATUS).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def start(ctx: PluginContext) -> AuditService | IndexerSupervisor | None:
    """Start the audit runtime for ``bastion serve`` (also kept as ``ctx.audit_service``):
    the indexer process when an index is configured (it runs retention too), otherwise
    retention alone in this process, otherwise nothing."""
    audit = ctx.settings.config.audit
    service: AuditService | IndexerSupervisor
    if audit.index.backend != "none":
        service = IndexerSupervisor(ctx)
    elif audit.retention_days > 0:
        service = AuditService(ctx, None)
    else:
        return None
    service.start()
    ctx.audit_service = service
    return service
