"""Which bastion connection id maps to which session and upstream thread (for KILL and Ctrl-C).

The mysql CLI's Ctrl-C opens a *second* connection and sends ``KILL QUERY <id>`` with
the id from the bastion's greeting; that connection may land on another worker or node.
The ids, their owners and KILLs across processes live in the state store
(:mod:`bastion.state.connections`); this module keeps the sessions this process serves —
their upstream threads, and whether a statement of theirs is held for an approval — and
its link to the shared registry (bound by :meth:`KillRegistry.bind` when the listener
starts). Raw ids never pass through to the target.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bastion.state.connections import ConnectionRegistry, Owner

if TYPE_CHECKING:
    from bastion.context import PluginContext

_KILL = re.compile(r"^\s*KILL\s+(?:(QUERY|CONNECTION)\s+)?(\d{1,20})\s*;?\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Registered:
    user: str
    target: str
    account: str
    thread_id: int


_instance: tuple[int, str] | None = None


def instance() -> str:
    """This process's id in the shared registry: random per process (a forked worker gets
    its own), so two processes never take each other's KILLs even with one node id."""
    global _instance
    if _instance is None or _instance[0] != os.getpid():
        _instance = (os.getpid(), uuid.uuid4().hex[:16])
    return _instance[1]


class KillRegistry:
    def __init__(self) -> None:
        self._by_id: dict[int, Registered] = {}
        self._sessions: dict[int, Any] = {}
        self._held: set[int] = set()
        self._cancelled: set[int] = set()
        self._lock = threading.Lock()
        self.shared: ConnectionRegistry | None = None

    def bind(self, ctx: PluginContext) -> ConnectionRegistry:
        """Link to ``ctx``'s state store (once per store); the first time, forget what a
        previous run of this node left registered."""
        if self.shared is None or self.shared.store is not ctx.store or self.shared.instance != instance():
            self.shared = ConnectionRegistry(ctx.store, ctx.node or socket.gethostname()[:100], instance())
            self.shared.forget_node()
        return self.shared

    @property
    def instance_id(self) -> str:
        return instance()

    def shared_or_fail(self) -> ConnectionRegistry:
        if self.shared is None:
            raise RuntimeError("the connection registry is not bound to a state store")
        return self.shared

    def allocate(self, client_addr: str) -> int:
        """A connection id unique across every process sharing the state store."""
        return self.shared_or_fail().allocate(client_addr)

    def release(self, conn_id: int) -> None:
        """The client connection closed: its id may be handed out again (after a wrap)."""
        self.shared_or_fail().release(conn_id)

    def holding(self, conn_id: int, held: bool) -> None:
        """Mark a connection as waiting for an approval (its statement is not upstream yet)."""
        with self._lock:
            (self._held.add if held else self._held.discard)(conn_id)
            self._cancelled.discard(conn_id)

    def cancel_hold(self, conn_id: int) -> bool:
        """A KILL for a held connection cancels the hold; True if it was holding."""
        with self._lock:
            if conn_id in self._held:
                self._cancelled.add(conn_id)
                return True
            return False

    def cancelled(self, conn_id: int) -> bool:
        with self._lock:
            return conn_id in self._cancelled

    def add(self, conn_id: int, entry: Registered, session: Any = None) -> None:
        """``conn_id``'s session began: serve it here, and name its owner in the state store."""
        if self.shared is not None:
            db = getattr(session, "schema", None) or None
            self.shared.claim(conn_id, user=entry.user, target=entry.target, db=db)
        with self._lock:
            self._by_id[conn_id] = entry
            if session is not None:
                self._sessions[conn_id] = session

    def local(self, conn_id: int) -> tuple[Registered, Any] | None:
        """The entry and session of ``conn_id`` if this process serves it."""
        with self._lock:
            entry = self._by_id.get(conn_id)
            return None if entry is None else (entry, self._sessions.get(conn_id))

    def owned(self, user: str) -> list[tuple[int, Any]]:
        """``(connection id, session)`` of every connection of ``user`` this process serves, by id."""
        with self._lock:
            return sorted(((cid, sess) for cid, sess in self._sessions.items() if self._by_id[cid].user == user),
                          key=lambda pair: pair[0])

    def sessions(self) -> list[tuple[int, Any]]:
        with self._lock:
            return list(self._sessions.items())

    def remove(self, conn_id: int) -> None:
        with self._lock:
            self._by_id.pop(conn_id, None)
            self._sessions.pop(conn_id, None)
            self._held.discard(conn_id)
            self._cancelled.discard(conn_id)

    def resolve(self, conn_id: int, user: str) -> Owner | None:
        """Who serves ``conn_id`` if ``user`` owns it (others' ids look unknown)."""
        return self.shared_or_fail().owner(conn_id, user)


def parse_kill(sql: str) -> tuple[bool, int] | None:
    """``(query_only, id)`` for a plain ``KILL [QUERY|CONNECTION] n`` statement, else None."""
    match = _KILL.match(sql)
    if match is None:
        return None
    return (match[1] or "").upper() == "QUERY", int(match[2])


REGISTRY = KillRegistry()
