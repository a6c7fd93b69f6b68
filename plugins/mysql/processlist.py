"""``SHOW [FULL] PROCESSLIST`` answered by the bastion: the user's own bastion connections.

Through the bastion the target's process list would show the bastion's upstream account
and thread ids — which mean nothing to the user, name other people's statements run
under the same account, and are not what ``KILL`` accepts. The bastion answers instead,
as MariaDB does: one row per connection of the same person (on this target or another),
with the connection ids the greeting gave out and ``KILL`` takes, the statement each one
runs now (masked for the record as the audit trail is), and for how long.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

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


def rows(s: MySQLSession, full: bool) -> list[list[bytes | None]]:
    """The process-list rows of ``s``'s user, this connection included."""
    now = time.time()
    out: list[list[bytes | None]] = []
    for conn_id, other in REGISTRY.owned(s.session.identity.subject):
        busy = other.busy_payload
        command = "Sleep" if busy is None else ("Execute" if busy[0] == COM_STMT_EXECUTE else "Query")
        info = None
        if busy is not None and busy[0] == COM_QUERY:
            info = other.redact(busy[1:].decode("utf-8", "replace"))
            info = info if full else info[:TRUNCATE]
        since = other.idle_since if busy is None else other.busy_since
        out.append([str(conn_id).encode(), other.session.identity.subject.encode(),
                    other.session.client_addr.encode(), (other.schema or None) and other.schema.encode(),
                    command.encode(), str(int(now - since)).encode(),
                    f"target {other.session.target.name}".encode(), info and info.encode(), b"0.000"])
    return out


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
