"""Audit of prepared-statement executions, summarised per statement.

The statement itself is judged and recorded once, at COM_STMT_PREPARE (its ``query``
event carries the SQL and the verdict). Its executions are summarised in ``execute``
events instead of one journal record per COM_STMT_EXECUTE: each journal record is
serialised, hash-chained, written, fsynced (``audit.fsync``) and indexed, which cost
more than relaying a point-select itself (bench/mysql.py).

An ``execute`` event covers the executions (and cursor fetches) of one statement since
the previous one: counts, rows, bytes, errors, masked values and timings. It is emitted
on the statement's first execution (so every statement that ran shows up at once), then
on the first execution at least :data:`FLUSH_SECONDS` after the previous event, at once
for an execution that failed, and for whatever is pending when the statement is closed
or reset, the connection is reset, or the session ends.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bastion.core import records

if TYPE_CHECKING:
    from plugins.mysql.session import MySQLSession, Result

FLUSH_SECONDS = 1.0


@dataclass
class Tally:
    """Executions of one prepared statement not yet in the audit trail."""

    event_id: str
    """The ``query`` event of the statement's PREPARE."""
    executions: int = 0
    fetches: int = 0
    rows: int = 0
    bytes: int = 0
    errors: int = 0
    error: str = ""
    masked: dict[str, int] = field(default_factory=dict)
    duration_ms: float = 0.0
    max_ms: float = 0.0
    first_at: float = 0.0
    last_at: float = 0.0
    emitted: int = 0
    """Executions already reported (0: the next one is the statement's first)."""
    emitted_at: float = 0.0

    def add(self, result: Result, started: float, fetch: bool) -> bool:
        """Count one EXECUTE (or FETCH); True when an event is due now."""
        for key, n in result.masked.items():
            self.masked[key] = self.masked.get(key, 0) + n
        if result.error:
            self.errors += 1
            self.error = result.error
        return self.add_plain(result.rows, result.bytes, started, fetch) or bool(result.error)

    def add_plain(self, rows: int, nbytes: int, started: float, fetch: bool = False) -> bool:
        """Count one EXECUTE (or FETCH) that neither failed nor masked anything (the fast
        lane's); True when an event is due now."""
        now = time.time()
        ms = (now - started) * 1000
        if fetch:
            self.fetches += 1
        else:
            self.executions += 1
        self.rows += rows
        self.bytes += nbytes
        self.duration_ms += ms
        if ms > self.max_ms:
            self.max_ms = ms
        self.first_at = self.first_at or started
        self.last_at = now
        return not self.emitted or now - self.emitted_at >= FLUSH_SECONDS

    @property
    def pending(self) -> bool:
        return bool(self.executions or self.fetches)

    def take(self, stmt_id: int) -> dict[str, Any]:
        """The ``execute`` event data for what is pending; resets the counters."""
        data: dict[str, Any] = {
            "event_id": self.event_id, "stmt_id": stmt_id, "executions": self.executions, "fetches": self.fetches,
            "rows": self.rows, "bytes": self.bytes, "errors": self.errors, "error": self.error,
            "masked": dict(self.masked), "duration_ms": round(self.duration_ms, 3), "max_ms": round(self.max_ms, 3),
            "first_at": self.first_at, "last_at": self.last_at,
        }
        self.emitted += self.executions + self.fetches
        self.emitted_at = self.last_at
        self.executions = self.fetches = self.rows = self.bytes = self.errors = 0
        self.error = ""
        self.masked = {}
        self.duration_ms = self.max_ms = self.first_at = 0.0
        return data


def record(s: MySQLSession, stmt_id: int, tally: Tally, result: Result, started: float, fetch: bool = False) -> None:
    if tally.add(result, started, fetch):
        s.emit(records.EXECUTE, tally.take(stmt_id))


def flush(s: MySQLSession, stmt_id: int, tally: Tally | None) -> None:
    if tally is not None and tally.pending:
        s.emit(records.EXECUTE, tally.take(stmt_id))


def flush_all(s: MySQLSession) -> None:
    for stmt_id, prepared in list(s.statements.items()):
        flush(s, stmt_id, prepared.tally)
