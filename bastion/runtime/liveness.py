"""Access ends when its grant ends: this process's open sessions are registered in the
state store, and a watcher ends, within two seconds, every one whose token was revoked
(or expired, with ``tokens.end_sessions_on_expiry``) or that an administrator ended in
the portal — whichever process or node made that change."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import gevent

from bastion.audit.state import node_id
from bastion.state.live import LiveSessions

if TYPE_CHECKING:
    from bastion.context import PluginContext
    from bastion.session import BaseSession

log = logging.getLogger("bastion.liveness")

POLL_SECONDS = 1.0


class Liveness:
    def __init__(self, ctx: PluginContext, poll: float = POLL_SECONDS) -> None:
        self.ctx = ctx
        self.poll = poll
        self.registry = LiveSessions(ctx.store)
        self.node = ctx.node or node_id(Path(ctx.settings.config.audit.journal_dir))
        self.open: dict[str, BaseSession] = {}
        self._greenlet: gevent.Greenlet | None = None

    def start(self) -> None:
        """Forget what a previous run left registered, then watch."""
        gone = self.registry.forget_node(self.node)
        if gone:
            log.info("forgot %d session(s) a previous run left registered", gone)
        self._greenlet = gevent.spawn(self._loop)

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill(block=False)

    def add(self, sess: BaseSession) -> None:
        s = sess.session
        self.registry.register(s.id, node=self.node, user=s.identity.subject, target=s.target.name,
                               protocol=s.target.protocol, client_addr=s.client_addr,
                               token_id=s.protocol_info.get("token_id") or None, started_at=s.started_at)
        self.open[s.id] = sess

    def remove(self, session_id: str) -> None:
        if self.open.pop(session_id, None) is not None:
            self.registry.unregister(session_id)

    def _loop(self) -> None:
        while True:
            gevent.sleep(self.poll)
            try:
                self.check()
            except Exception:  # noqa: BLE001 - a state store hiccup must not stop the watcher
                log.exception("checking open sessions failed; trying again")

    def check(self) -> None:
        """End every open session whose grant ended."""
        due = self.registry.due(list(self.open), self.ctx.settings.config.tokens.end_sessions_on_expiry)
        for session_id, why in due.items():
            sess = self.open.get(session_id)
            if sess is not None and sess.end_request is None:
                log.info("ending session: %s", why, extra={"session_id": session_id})
                sess.terminate(why)
