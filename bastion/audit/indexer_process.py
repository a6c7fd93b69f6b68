"""``bastion indexer``: the child process that indexes this node's journals.

Started and supervised by ``bastion serve`` (:class:`bastion.audit.service.IndexerSupervisor`);
see that module for the theory of operation. The child dies with its parent, holds
``indexer.lock`` in the journal directory (one indexer per journal, even across a
``kill -9``), and reports its lag and failures in ``indexer.status``.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import gevent
import gevent.event

from bastion.audit.service import LOCK, STATUS, STATUS_EVERY, AuditService, build_indexer
from bastion.runtime.worker import die_with_parent

if TYPE_CHECKING:
    from bastion.context import PluginContext

log = logging.getLogger("bastion.audit")


def _write_status(journal_dir: Path, status: dict[str, Any]) -> None:
    tmp = journal_dir / (STATUS + ".tmp")
    tmp.write_text(json.dumps(status))
    os.replace(tmp, journal_dir / STATUS)


def _lock(journal_dir: Path, stop: gevent.event.Event) -> TextIO | None:
    """Hold ``indexer.lock`` (one indexer per journal); None if asked to stop while waiting."""
    journal_dir.mkdir(parents=True, exist_ok=True)
    fh = open(journal_dir / LOCK, "a")  # noqa: SIM115 - held for the process lifetime
    while True:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fh
        except BlockingIOError:
            if stop.wait(0.5):
                fh.close()
                return None


def indexer_context(config: str) -> PluginContext:
    """What the indexer needs from a bastion: settings and the maskers (for storage
    masking of output documents); no listeners, no sinks (it never writes a journal)."""
    from bastion import registry
    from bastion.runtime.bootstrap import load_checked, minimal_context

    settings, _ = load_checked(config)
    ctx = minimal_context(settings)
    masker_eps = registry.load("bastion.maskers")
    ctx.maskers = [registry.build("bastion.maskers", ep.value, n, ctx) for n, ep in masker_eps.items()]
    return ctx


def run_indexer(config: str, drain: float = 2.0, parent: int = 0) -> int:
    """``bastion indexer``: index the node's journals until SIGTERM (or the parent's death)."""
    die_with_parent(parent)
    stop = gevent.event.Event()
    gevent.signal_handler(signal.SIGTERM, stop.set)
    gevent.signal_handler(signal.SIGINT, stop.set)
    ctx = indexer_context(config)
    journal_dir = Path(ctx.settings.config.audit.journal_dir)
    lock = _lock(journal_dir, stop)
    if lock is None:
        return 0
    from bastion.runtime import logs

    logs.setup(ctx.settings.config.log_level)
    indexer = build_indexer(ctx)
    if indexer is None:
        log.error("bastion indexer: audit.index.backend is none: nothing to index")
        return 2
    service = AuditService(ctx, indexer)
    service.start()

    def report() -> None:
        while True:
            try:
                _write_status(journal_dir, indexer.status())
            except (OSError, ValueError):
                log.debug("indexer status not written", exc_info=True)
            if parent and os.getppid() != parent:
                log.warning("bastion indexer: the bastion process is gone; stopping")
                stop.set()
            gevent.sleep(STATUS_EVERY)
    reporter = gevent.spawn(report)
    stop.wait()
    reporter.kill()
    service.stop(drain=drain)
    _write_status(journal_dir, indexer.status())
    lock.close()
    return 0
