"""Open sessions, as every process and node sees them: the registry that lets access end
when its grant ends.

Each protocol process registers the sessions it serves; anyone with the state store
(the portal, another node, the CLI) can ask for one to end, or revoke the token it was
opened with. :meth:`LiveSessions.due` tells a process which of its sessions must end
now and why; the runtime's watcher (``bastion.runtime.liveness``) asks every second.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass

import sqlalchemy as sa

from bastion.state.store import StateStore, live_sessions, tokens


@dataclass(frozen=True, slots=True)
class LiveSession:
    id: str
    node: str
    user: str
    target: str
    protocol: str
    client_addr: str
    token_id: str | None
    started_at: float
    end_request: str | None


class LiveSessions:
    def __init__(self, store: StateStore) -> None:
        self.store = store

    def register(self, session_id: str, *, node: str, user: str, target: str, protocol: str, client_addr: str,
                 token_id: str | None, started_at: float) -> None:
        with self.store.engine.begin() as conn:
            conn.execute(live_sessions.insert().values(
                id=session_id, node=node, user=user, target=target, protocol=protocol, client_addr=client_addr,
                token_id=token_id, started_at=started_at, end_request=None))

    def unregister(self, session_id: str) -> None:
        with self.store.engine.begin() as conn:
            conn.execute(live_sessions.delete().where(live_sessions.c.id == session_id))

    def forget_node(self, node: str) -> int:
        """Drop what a previous run of ``node`` left registered (its sessions died with it)."""
        with self.store.engine.begin() as conn:
            return int(conn.execute(live_sessions.delete().where(live_sessions.c.node == node)).rowcount)

    def request_end(self, session_id: str, reason: str) -> bool:
        """Ask the process serving ``session_id`` to end it; True if it is open."""
        with self.store.engine.begin() as conn:
            result = conn.execute(live_sessions.update().where(live_sessions.c.id == session_id)
                                  .values(end_request=reason[:255]))
        return bool(result.rowcount)

    def list(self) -> list[LiveSession]:
        with self.store.engine.begin() as conn:
            rows = conn.execute(sa.select(live_sessions).order_by(live_sessions.c.started_at)).mappings().all()
        return [LiveSession(**dict(r)) for r in rows]

    def due(self, session_ids: Collection[str], end_on_expiry: bool, now: float | None = None) -> dict[str, str]:
        """Which of ``session_ids`` must end now, and why: an end was requested, their
        token was revoked, or (``end_on_expiry``) it expired."""
        if not session_ids:
            return {}
        now = time.time() if now is None else now
        query = (sa.select(live_sessions.c.id, live_sessions.c.end_request, tokens.c.revoked_at, tokens.c.expires_at)
                 .select_from(live_sessions.outerjoin(tokens, tokens.c.id == live_sessions.c.token_id))
                 .where(live_sessions.c.id.in_(list(session_ids))))
        with self.store.engine.begin() as conn:
            rows = conn.execute(query).all()
        out: dict[str, str] = {}
        for sid, end_request, revoked_at, expires_at in rows:
            if end_request:
                out[sid] = f"ended by an administrator: {end_request}"
            elif revoked_at is not None:
                out[sid] = "its token was revoked"
            elif end_on_expiry and expires_at is not None and expires_at <= now:
                out[sid] = "its token expired"
        return out
