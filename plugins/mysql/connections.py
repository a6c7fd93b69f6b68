"""Which bastion connection id maps to which upstream thread (for KILL and Ctrl-C).

The mysql CLI's Ctrl-C opens a *second* connection and sends ``KILL QUERY <id>`` with
the id from the bastion's greeting. The bastion resolves that id here, checks that the
same user owns it, and kills the upstream thread instead; raw ids never pass through.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

_KILL = re.compile(r"^\s*KILL\s+(?:(QUERY|CONNECTION)\s+)?(\d{1,20})\s*;?\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Registered:
    user: str
    target: str
    account: str
    thread_id: int


class KillRegistry:
    def __init__(self) -> None:
        self._by_id: dict[int, Registered] = {}
        self._sessions: dict[int, Any] = {}
        self._held: set[int] = set()
        self._cancelled: set[int] = set()
        self._lock = threading.Lock()

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
        with self._lock:
            self._by_id[conn_id] = entry
            if session is not None:
                self._sessions[conn_id] = session

    def owned(self, user: str) -> list[tuple[int, Any]]:
        """``(connection id, session)`` of every open connection of ``user``, by id."""
        with self._lock:
            return sorted(((cid, sess) for cid, sess in self._sessions.items() if self._by_id[cid].user == user),
                          key=lambda pair: pair[0])

    def remove(self, conn_id: int) -> None:
        with self._lock:
            self._by_id.pop(conn_id, None)
            self._sessions.pop(conn_id, None)
            self._held.discard(conn_id)
            self._cancelled.discard(conn_id)

    def resolve(self, conn_id: int, user: str) -> Registered | None:
        """The entry for ``conn_id`` if ``user`` owns it (others' ids look unknown)."""
        with self._lock:
            entry = self._by_id.get(conn_id)
        return entry if entry is not None and entry.user == user else None


def parse_kill(sql: str) -> tuple[bool, int] | None:
    """``(query_only, id)`` for a plain ``KILL [QUERY|CONNECTION] n`` statement, else None."""
    match = _KILL.match(sql)
    if match is None:
        return None
    return (match[1] or "").upper() == "QUERY", int(match[2])


REGISTRY = KillRegistry()
