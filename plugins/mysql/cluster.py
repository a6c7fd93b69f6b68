"""This process's part in the shared connection registry (bastion.state.connections).

One greenlet per process, started with the MySQL listener: every ``POLL_SECONDS`` it
claims the KILLs other processes received for connections served here and carries them
out (:func:`plugins.mysql.kill.execute`: cancel the approval hold, or kill the upstream
thread), and every ``PUBLISH_SECONDS`` it publishes what its connections do for the
SHOW PROCESSLIST of other processes. Only a statement that has run ``PUBLISH_AFTER``
seconds is published (the ones anybody would want to see or kill): a busy connection of
short statements costs no write.
"""

from __future__ import annotations

import logging
import time

import gevent

from bastion.context import PluginContext
from bastion.state.connections import ConnectionRegistry, Outcome
from plugins.mysql import kill, processlist
from plugins.mysql.connections import REGISTRY

log = logging.getLogger("bastion.mysql")

POLL_SECONDS = 0.2
PUBLISH_SECONDS = 1.0
PUBLISH_AFTER = 1.0
PURGE_SECONDS = 600.0

Shown = tuple[str, str | None, str | None]
"""(Command, Info, db) as last published."""


class Participant:
    def __init__(self, shared: ConnectionRegistry) -> None:
        self.shared = shared
        self.published: dict[int, Shown] = {}
        self._last_publish = 0.0
        self._last_purge = time.monotonic()

    def step(self) -> None:
        """One round: KILLs addressed here, then (when due) this process's activity."""
        for request_id, conn_id, query_only, by in self.shared.take_requests():
            gevent.spawn(self._serve, request_id, conn_id, query_only, by)
        if time.monotonic() - self._last_publish >= PUBLISH_SECONDS:
            self._last_publish = time.monotonic()
            self.publish()
        if time.monotonic() - self._last_purge >= PURGE_SECONDS:
            self._last_purge = time.monotonic()
            self.shared.purge()

    def _serve(self, request_id: int, conn_id: int, query_only: bool, by: str) -> None:
        try:
            outcome = kill.execute(conn_id, query_only, by)
        except Exception:  # noqa: BLE001 - report a failure, never a success
            log.exception("KILL for another process failed", extra={"connection_id": conn_id})
            outcome = Outcome("error", 2013, "HY000", "the KILL failed on the serving node")
        log.info("KILL for another process: %s", outcome.kind, extra={"connection_id": conn_id})
        self.shared.answer(request_id, outcome)

    def publish(self, now: float | None = None) -> None:
        """Write what changed since the last round, in one transaction. A connection starts
        out published as ``Sleep`` (its claim wrote that): idle connections cost nothing."""
        now = time.time() if now is None else now
        live = dict(REGISTRY.sessions())
        for conn_id in [c for c in self.published if c not in live]:
            del self.published[conn_id]
        changes: list[tuple[int, Shown, float]] = []
        for conn_id, sess in live.items():
            command, info, since = processlist.activity(sess)
            if command != "Sleep" and now - since < PUBLISH_AFTER:
                continue  # a short statement: not worth a write
            shown = (command, info, sess.schema or None)
            if self.published.get(conn_id, ("Sleep", None, shown[2])) != shown:
                changes.append((conn_id, shown, since))
        if changes:
            self.shared.publish_many([(conn_id, *shown, since) for conn_id, shown, since in changes])
            for conn_id, shown, _ in changes:
                self.published[conn_id] = shown


def start(ctx: PluginContext) -> gevent.Greenlet:
    """Bind the registry to the state store (forgetting this node's previous run) and take part."""
    participant = Participant(REGISTRY.bind(ctx))

    def loop() -> None:
        while True:
            gevent.sleep(POLL_SECONDS)
            try:
                participant.step()
            except Exception:  # noqa: BLE001 - a state store hiccup must not end the loop
                log.warning("connection registry round failed; trying again", exc_info=True)
                gevent.sleep(1.0)
    return gevent.spawn(loop)
