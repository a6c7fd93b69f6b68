"""The ``journal`` sink: the runtime's audit events into the node's :class:`Journal`.

Start records (a statement or command about to run) are durable before the request runs;
an outcome whose start is durable rides on the next synced append; at start-up, whatever a
killed process left open is closed on record (:meth:`JournalSink.close_orphans`).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bastion.audit import segments as seg
from bastion.audit.chain import event_dict
from bastion.audit.journal import Journal, Offload
from bastion.core import records
from bastion.core.contracts import AuditEvent

if TYPE_CHECKING:
    from bastion.context import PluginContext

log = logging.getLogger("bastion.audit.journal")


def _hub_offload(ctx: PluginContext) -> tuple[Offload | None, Callable[[], None]]:
    """Under the gevent runtime, flush off the hub while other sessions are open: they go
    on meanwhile (and queue for the next flush). The fdatasync runs in a child process
    (bastion.runtime.flusher: no GIL handoffs with a thread), the thread pool being its
    fallback. With one session or none, inline: nobody would run meanwhile, and the trip
    costs the statement more than the flush blocks (measured: about 0.1 ms a trip through
    the pool on the development VM). Elsewhere (tools, tests) inline. Returns the offload
    and what closes it."""
    from gevent import monkey

    if not monkey.is_module_patched("threading"):
        return None, lambda: None
    import gevent

    from bastion.runtime.flusher import Flusher

    def pool(fn: Callable[[int], None], fd: int) -> None:
        gevent.get_hub().threadpool.apply(fn, (fd,))

    flusher = Flusher(pool)

    def offload(fn: Callable[[int], None], fd: int) -> None:
        sessions = ctx.open_sessions
        if sessions is not None and sessions() <= 1:
            fn(fd)
        elif fn is os.fdatasync:
            flusher.flush(fd)
        else:
            pool(fn, fd)
    return offload, flusher.close


STARTS = records.STARTS
"""Records written before a request runs, and the type of their outcome."""


class JournalSink:
    """The ``journal`` entry point of ``bastion.sinks``."""

    name = "journal"
    required = True
    """The source of truth: when it cannot write, the context fails closed (AuditGate)."""

    def __init__(self, ctx: PluginContext) -> None:
        cfg = ctx.settings.config.audit
        offload, self._close_offload = _hub_offload(ctx)
        self.journal = Journal(cfg.journal_dir, fsync=cfg.fsync, rotate_bytes=cfg.rotate_bytes,
                               rotate_daily=cfg.rotate_daily, offload=offload)
        self._started: dict[tuple[str, str], None] = {}
        """Statements and commands whose start record is durable and whose outcome is due."""

    def close_orphans(self) -> None:
        """Sessions, statements and commands this node started but never ended (the process
        was killed): none survives a restart, so record their end now — the audit never
        shows a ghost session, and a statement that was running says its outcome is unknown."""
        sessions: dict[str, dict[str, Any]] = {}
        running: dict[tuple[str, str], dict[str, Any]] = {}
        for segment in seg.list_segments(self.journal.dir)[-2:]:  # rotation is rare inside a session
            for record in seg.iter_all_segment(segment.path):
                event = record.get("event", {})
                type_, sid = event.get("type"), str(event.get("session_id") or "")
                key = (sid, str((event.get("data") or {}).get("event_id", "")))
                if type_ == "session.start":
                    sessions[sid] = event
                elif type_ == "session.end":
                    sessions.pop(sid, None)
                elif type_ in STARTS:
                    running[key] = event
                elif type_ in STARTS.values():
                    running.pop(key, None)
        for (sid, _), start in running.items():
            self.journal.append(event_dict(AuditEvent(
                type=STARTS[start["type"]], session_id=sid, at=time.time(),
                data={**start.get("data", {}), "verdict": "allow", "recovered": True, "started_at": start.get("at"),
                      "error": "outcome unknown: the bastion stopped while it ran (crash or kill)"})))
        for sid, start in sessions.items():
            self.journal.append(event_dict(AuditEvent(
                type="session.end", session_id=sid, at=time.time(),
                data={"reason": "bastion stopped without closing the session (crash or kill)",
                      "recovered": True, "started_at": start.get("at")})))
        if sessions or running:
            log.warning("closed %d session(s) and %d statement(s) or command(s) left open by a previous run",
                        len(sessions), len(running))

    def emit(self, event: AuditEvent) -> None:
        key = (event.session_id, str(event.data.get("event_id", "")))
        if event.type in STARTS:
            self.journal.append(event_dict(event))
            if len(self._started) >= 100_000:  # outcomes lost with their session: forget the oldest
                self._started.pop(next(iter(self._started)))
            self._started[key] = None
        elif event.type in STARTS.values() and key in self._started:
            # Its start is durable; the next synced append (every start is one) covers it.
            del self._started[key]
            self.journal.append(event_dict(event), sync=False)
        else:
            self.journal.append(event_dict(event))

    def close(self) -> None:
        try:
            self.journal.close()
        finally:
            self._close_offload()
