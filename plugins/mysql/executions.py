"""Audit of prepared-statement executions: each one on record, with its parameters, before it runs.

The statement is judged once, at COM_STMT_PREPARE (its ``query`` records carry the SQL
and the verdict). Each COM_STMT_EXECUTE is then a request of its own in the audit trail:
:func:`admit` decodes its parameters (codec ``parse_execute_params``, with the long data
COM_STMT_SEND_LONG_DATA sent for it), renders them as SQL literals with their values
masked by the session's storage masking (plugins.mysql.literals), and has the guard write
its ``query.start`` record (``command: execute``) — durable, through the journal's group
commit, before the packet goes upstream, exactly as for a COM_QUERY statement. Its outcome
(a ``query`` record: rows, bytes, error, masked counts) follows the reply and rides the
next synced write. Both carry ``event_id`` ``<PREPARE's event id>.<n>`` (the n-th
execution), ``prepared`` (the PREPARE's event id), ``stmt_id``, the statement's masked
text and ``params``.

Cursor fetches (COM_STMT_FETCH) run nothing new: they are summarised per statement in
``fetch`` events (counts, rows, bytes, errors, masked values, timings), emitted on the
statement's first fetch, then on the first at least :data:`FLUSH_SECONDS` after the
previous event, at once on an error, and for whatever is pending when the statement is
closed or reset, the connection is reset, or the session ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bastion.core import records
from bastion.core.types import Decision
from bastion.guard import Admission, Refusal
from plugins.mysql import routines, triggers
from plugins.mysql.codec import Param, parse_execute_params, parse_send_long_data
from plugins.mysql.literals import SCANNED, render

if TYPE_CHECKING:
    from plugins.mysql.session import MySQLSession, Prepared, Result

FLUSH_SECONDS = 1.0
KEPT = 4 * SCANNED
"""Bytes of long data kept per statement until its execution, all parameters together."""


def admit(s: MySQLSession, stmt_id: int, prepared: Prepared, payload: bytes) -> Admission | Refusal:
    """Record the start of one execution with its masked parameters (see the module
    docstring); the :class:`Admission` to send it with, or the audit gate's refusal.
    Raises :class:`~plugins.mysql.codec.RemoteProtocolError` for parameters the bastion
    cannot decode (the session ends: nothing unrecorded runs)."""
    longs = {i: bytes(data) for i, data in prepared.long_data.items()}
    decoded = parse_execute_params(payload, prepared.params, prepared.param_types, longs)
    sizes = prepared.long_sizes
    mask, masked = s.counting_mask()
    prepared.executions += 1
    data: dict[str, Any] = {"command": "execute", "prepared": prepared.event_id, "stmt_id": stmt_id, "schema": s.schema,
                            "params": [_literal(p, i, mask, sizes) for i, p in enumerate(decoded.params)]}
    if masked:
        data["params_masked"] = masked
    ruling = s.guard.rerun(prepared.admission, f"{prepared.event_id}.{prepared.executions}", data,
                           veto=_stored_code_changed(s, prepared))
    if isinstance(ruling, Admission):  # it goes upstream: the server binds these types, forgets long data
        prepared.param_types = decoded.types
        forget_long_data(prepared)
    return ruling


def _stored_code_changed(s: MySQLSession, prepared: Prepared) -> Decision | None:
    """A DENY when the stored code the statement runs (procedures, stored functions,
    triggers: plugins.mysql.routines) is no longer what was judged at PREPARE: replaced,
    added behind the bastion's back, or unreadable. The client prepares it again, and that
    PREPARE judges the new code. Code found unchanged is trusted for the triggers' cache
    time (``triggers.TTL``) unless the session's own DDL may have changed it: a lookup at
    every execution cost a writing statement 16 % of its rate (bench/mysql.py --workload
    update_index --protocol binary)."""
    if prepared.runs is None:
        return None
    now = time.monotonic()
    epoch, at = prepared.checked
    if epoch == s.code_epoch and now - at < triggers.TTL:
        return None
    try:
        found = routines.look_up(s, [prepared.runs], routines.called(prepared.runs))
    except routines.RoutineUnreadable as exc:
        return Decision.deny(rule="mysql:routine", reason=str(exc), message=str(exc))
    if frozenset(found.bodies) == prepared.bodies:
        prepared.checked = (s.code_epoch, now)
        return None
    why = ("the procedures, functions or triggers this statement runs changed since it was prepared; "
           "prepare it again to have them judged")
    return Decision.deny(rule="mysql:routine", reason=why, message=why)


def _literal(param: Param, index: int, mask: Callable[[str], str], sizes: dict[int, int]) -> str:
    return render(param, mask, sizes.get(index) if param.long_data else None)


def long_data(s: MySQLSession, payload: bytes) -> None:
    """Keep what COM_STMT_SEND_LONG_DATA sends for a parameter, for its execution's record:
    the first :data:`~plugins.mysql.literals.SCANNED` bytes (and the total size), and no
    more than :data:`KEPT` bytes for all the parameters of a statement together (past
    that, a value is recorded by its size only). A parameter the statement does not have
    is not kept (the server refuses the execution)."""
    stmt_id, param_id, data = parse_send_long_data(payload)
    prepared = s.statements.get(stmt_id)
    if prepared is None or param_id >= prepared.params:
        return
    kept = prepared.long_data.setdefault(param_id, bytearray())
    room = min(SCANNED + 1 - len(kept), KEPT - sum(len(v) for v in prepared.long_data.values()))
    if room > 0:
        kept += data[:room]
    prepared.long_sizes[param_id] = prepared.long_sizes.get(param_id, 0) + len(data)


def forget_long_data(prepared: Prepared) -> None:
    """COM_STMT_RESET: the server drops the long data sent so far."""
    prepared.long_data.clear()
    prepared.long_sizes.clear()


@dataclass
class Tally:
    """Cursor fetches of one prepared statement not yet in the audit trail."""

    event_id: str
    """The ``query`` event of the statement's PREPARE."""
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
    """Fetches already reported (0: the next one is the statement's first)."""
    emitted_at: float = 0.0

    def add(self, result: Result, started: float) -> bool:
        """Count one FETCH; True when an event is due now."""
        for key, n in result.masked.items():
            self.masked[key] = self.masked.get(key, 0) + n
        if result.error:
            self.errors += 1
            self.error = result.error
        now = time.time()
        ms = (now - started) * 1000
        self.fetches += 1
        self.rows += result.rows
        self.bytes += result.bytes
        self.duration_ms += ms
        self.max_ms = max(self.max_ms, ms)
        self.first_at = self.first_at or started
        self.last_at = now
        return not self.emitted or now - self.emitted_at >= FLUSH_SECONDS or bool(result.error)

    @property
    def pending(self) -> bool:
        return bool(self.fetches)

    def take(self, stmt_id: int) -> dict[str, Any]:
        """The ``fetch`` event data for what is pending; resets the counters."""
        data: dict[str, Any] = {
            "event_id": self.event_id, "stmt_id": stmt_id, "fetches": self.fetches, "rows": self.rows,
            "bytes": self.bytes, "errors": self.errors, "error": self.error, "masked": dict(self.masked),
            "duration_ms": round(self.duration_ms, 3), "max_ms": round(self.max_ms, 3),
            "first_at": self.first_at, "last_at": self.last_at,
        }
        self.emitted += self.fetches
        self.emitted_at = self.last_at
        self.fetches = self.rows = self.bytes = self.errors = 0
        self.error = ""
        self.masked = {}
        self.duration_ms = self.max_ms = self.first_at = 0.0
        return data


def record_fetch(s: MySQLSession, stmt_id: int, tally: Tally, result: Result, started: float) -> None:
    if tally.add(result, started):
        s.emit(records.FETCH, tally.take(stmt_id))


def flush(s: MySQLSession, stmt_id: int, tally: Tally | None) -> None:
    if tally is not None and tally.pending:
        s.emit(records.FETCH, tally.take(stmt_id))


def flush_all(s: MySQLSession) -> None:
    for stmt_id, prepared in list(s.statements.items()):
        flush(s, stmt_id, prepared.tally)
