"""``SHOW [FULL] PROCESSLIST`` answered by the bastion: the user's own bastion connections.

Through the bastion the target's process list would show the bastion's upstream account
and thread ids — which mean nothing to the user, name other people's statements run
under the same account, and are not what ``KILL`` accepts. The bastion answers instead,
as MariaDB does: one row per connection of the same person (on this target or another,
served by this process or by another worker or node),
with the connection ids the greeting gave out and ``KILL`` takes, the statement each one
runs now (masked for the record as the audit trail is), and for how long.
"""

from __future__ import annotations

import logging
import re
import time
from typing import TYPE_CHECKING

from bastion.state.connections import Activity
from plugins.mysql.codec import (
    CLIENT_DEPRECATE_EOF,
    COM_QUERY,
    COM_STMT_EXECUTE,
    MYSQL_TYPE_LONGLONG,
    MYSQL_TYPE_VAR_STRING,
    NOT_NULL_FLAG,
    NUM_FLAG,
    ColumnDef,
    OkPacket,
    build_column_count,
    build_eof,
    build_text_row,
)
from plugins.mysql.connections import REGISTRY

if TYPE_CHECKING:
    from plugins.mysql.session import MySQLSession

log = logging.getLogger("bastion.mysql")
_SHOW = re.compile(r"^\s*SHOW\s+(FULL\s+)?PROCESSLIST\s*;?\s*$", re.IGNORECASE)
COLUMNS = ("Id", "User", "Host", "db", "Command", "Time", "State", "Info", "Progress")
_NUMERIC = {"Id", "Time"}
TRUNCATE = 100
"""Characters of ``Info`` without FULL, as MariaDB shows them."""


def parse_show(sql: str) -> bool | None:
    """``full`` for a plain ``SHOW [FULL] PROCESSLIST``, None for anything else."""
    match = _SHOW.match(sql)
    return None if match is None else bool(match[1])


def _column(name: str) -> bytes:
    numeric = name in _NUMERIC
    return ColumnDef("def", "", "", "", name, "", 63 if numeric else 45, 21 if numeric else 4096,
                     MYSQL_TYPE_LONGLONG if numeric else MYSQL_TYPE_VAR_STRING,
                     (NOT_NULL_FLAG | NUM_FLAG) if numeric else 0, 0).build()


def activity(other: MySQLSession, full: bool = True) -> tuple[str, str | None, float]:
    """``(Command, Info, since)`` of a connection now: its statement masked for the record."""
    busy = other.busy_payload
    command = "Sleep" if busy is None else ("Execute" if busy[0] == COM_STMT_EXECUTE else "Query")
    info = None
    if busy is not None and busy[0] == COM_QUERY:
        info = other.redact(busy[1:].decode("utf-8", "replace"))
        info = info if full else info[:TRUNCATE]
    return command, info, other.idle_since if busy is None else other.busy_since


def rows(s: MySQLSession, full: bool) -> list[list[bytes | None]]:
    """The process-list rows of ``s``'s user, this connection included: those this process
    serves as they are now, those of other processes and nodes as they last published
    them (plugins.mysql.cluster)."""
    now = time.time()
    user = s.session.identity.subject
    table: list[tuple[int, list[bytes | None]]] = []
    for conn_id, other in REGISTRY.owned(user):
        command, info, since = activity(other, full)
        table.append((conn_id, _row(conn_id, user, other.session.client_addr, other.schema or None, command,
                                    now - since, other.session.target.name, info)))
    for row in _elsewhere(user):
        info = row.info if full or row.info is None else row.info[:TRUNCATE]
        table.append((row.id, _row(row.id, user, row.client_addr, row.db, row.command, now - row.since,
                                   row.target, info)))
    return [row for _, row in sorted(table, key=lambda pair: pair[0])]


def _elsewhere(user: str) -> list[Activity]:
    if REGISTRY.shared is None:
        return []
    try:
        return REGISTRY.shared.activity(user)
    except Exception:  # noqa: BLE001 - the state store is down: this process's rows still answer
        log.warning("connections of other processes unavailable", exc_info=True)
        return []


def _row(conn_id: int, user: str, addr: str, db: str | None, command: str, seconds: float, target: str,
         info: str | None) -> list[bytes | None]:
    return [str(conn_id).encode(), user.encode(), addr.encode(), db.encode() if db else None, command.encode(),
            str(max(0, int(seconds))).encode(), f"target {target}".encode(), info.encode() if info else None,
            b"0.000"]


def answer(s: MySQLSession, seq: int, full: bool) -> int:
    """Send the result set (after the client's ``seq``); returns its row count."""
    table = rows(s, full)
    deprecate_eof = bool(s.caps & CLIENT_DEPRECATE_EOF)
    nxt = s.client.queue(build_column_count(len(COLUMNS)), seq + 1)
    for name in COLUMNS:
        nxt = s.client.queue(_column(name), nxt)
    if not deprecate_eof:
        nxt = s.client.queue(build_eof(0, s.upstream.status), nxt)
    for row in table:
        nxt = s.client.queue(build_text_row(row), nxt)
    end = OkPacket(0, 0, s.upstream.status, 0).build(s.caps, header=0xFE) if deprecate_eof else \
        build_eof(0, s.upstream.status)
    s.client.queue(end, nxt)
    s.client.flush()
    return len(table)
