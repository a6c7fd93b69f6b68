"""The indexer's own persistent state, next to the journal (``indexer.db``, SQLite).

``position``: per destination (``IndexBackend.key``), the journal position after the last
record whose documents the destination acknowledged. It is saved only after the
acknowledgement, so a crash can make the indexer send a batch again (deterministic ids
make that harmless) but never skip one.

``sessions``: who/where of every session seen (from ``session.start``), so events of a
session that started before a restart are still tagged with its user and target.

``node.id``: this journal's node id, part of every document id.
"""

from __future__ import annotations

import os
import sqlite3
import time
import uuid
from collections.abc import Mapping
from pathlib import Path

from bastion.audit.schema import SESSION_FIELDS, SessionInfo
from bastion.audit.segments import Position

SCHEMA = """
CREATE TABLE IF NOT EXISTS position (
    key TEXT PRIMARY KEY, segment INTEGER NOT NULL, offset INTEGER NOT NULL, seq INTEGER NOT NULL,
    updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    session TEXT PRIMARY KEY, user TEXT, target TEXT, protocol TEXT, account TEXT, client_addr TEXT);
"""


def node_id(directory: Path) -> str:
    """This journal's node id (created on first use): distinguishes nodes sharing one index."""
    path = directory / "node.id"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        directory.mkdir(parents=True, exist_ok=True)
        value = uuid.uuid4().hex[:12]
        tmp = path.with_suffix(".tmp")
        tmp.write_text(value + "\n")
        os.replace(tmp, path)
        return value


class IndexState:
    """Position and session table. Used by one indexer at a time (calls are never concurrent)."""

    def __init__(self, path: Path, key: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.key = key
        self._db = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)
        self.position = self._load()

    def _load(self) -> Position:
        row = self._db.execute("SELECT segment, offset, seq FROM position WHERE key = ?", (self.key,)).fetchone()
        return Position(*row) if row else Position()

    def session(self, session_id: str) -> SessionInfo | None:
        row = self._db.execute(f"SELECT {', '.join(SESSION_FIELDS)} FROM sessions WHERE session = ?",
                               (session_id,)).fetchone()
        return SessionInfo(*(v or "" for v in row)) if row else None

    def commit(self, position: Position, sessions: Mapping[str, SessionInfo]) -> None:
        """Save the new position and the sessions started in the batch, atomically."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.executemany(
                f"INSERT OR REPLACE INTO sessions (session, {', '.join(SESSION_FIELDS)}) VALUES (?, ?, ?, ?, ?, ?)",
                [(sid, *(getattr(info, f) for f in SESSION_FIELDS)) for sid, info in sessions.items()])
            self._db.execute("INSERT OR REPLACE INTO position (key, segment, offset, seq, updated) "
                             "VALUES (?, ?, ?, ?, ?)",
                             (self.key, position.segment, position.offset, position.seq, time.time()))
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self.position = position

    def close(self) -> None:
        self._db.close()
