"""The small-response lane: a small response, whole after one read, forwarded as received.

A point-select through the general relay (``relay.relay_response``) costs a tracker, a
parse and a re-frame per packet: more CPU than the bytes' round trip itself. Most
point-selects — executions of a prepared statement (COM_STMT_EXECUTE) and plain
statements (COM_QUERY) alike — get a handful of packets that arrive in one read, with the
same column definitions as last time. For those, :func:`relay_small` scans the buffered
bytes once (:func:`~plugins.mysql.codec.scan_result`), checks the definitions against the
ones already planned for this statement (a :class:`~plugins.mysql.masking.PlanCache`: the
prepared statement's, or the one of the COM_QUERY statement's fingerprint), and forwards
the exact bytes.

It changes nothing the general path decides: the statement was judged and its start
recorded before it was sent (at PREPARE for executions, for each COM_QUERY), the row hook
is consulted (the shared plan cache) whenever the definitions differ from the last ones
seen, and while its results have anything to mask the statement does not take this lane.
Whatever the scan does not recognise (errors, big or multi-result responses, cursors,
LOCAL INFILE) goes to the general path from the same first byte: the lane consumes nothing
until it has decided.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from plugins.mysql.codec import (
    CLIENT_DEPRECATE_EOF,
    SERVER_MORE_RESULTS_EXISTS,
    SERVER_STATUS_CURSOR_EXISTS,
    SERVER_STATUS_IN_TRANS,
    SERVER_STATUS_NO_BACKSLASH_ESCAPES,
    ColumnDef,
    OkPacket,
    PacketReader,
    scan_result,
    status_of_terminator,
)

if TYPE_CHECKING:
    from plugins.mysql.masking import PlanCache
    from plugins.mysql.session import MySQLSession

MAX_ROWS = 64
"""Larger results stream through the general path (which forwards rows as they arrive)."""

_DECLINE = SERVER_MORE_RESULTS_EXISTS | SERVER_STATUS_CURSOR_EXISTS


@dataclass(frozen=True, slots=True)
class Small:
    """A response the lane relayed."""

    rows: int
    bytes: int
    """Payload bytes of every packet (as the general path counts them)."""
    affected: int = 0
    """An OK's affected rows (0 for a result set)."""
    columns: list[ColumnDef] | None = None
    """The result set's column definitions (those of the plan), None for an OK."""


def relay_small(s: MySQLSession, plans: PlanCache) -> Small | None:
    """Relay the response to the COM_STMT_EXECUTE or COM_QUERY just sent if it is small,
    complete after one read and needs no masking (``plans`` holds the statement's plan):
    returns what it relayed; ``None`` (nothing consumed, nothing sent) otherwise."""
    if s.results_binary or plans.rows is not None:
        return None  # something may need masking: the general path plans (binary: every string column)
    up = s.upstream.conn
    reader = up.reader
    if reader.pending() < 4:
        up.fill(None)
    buf, off = reader.peek()
    caps = s.upstream.caps
    scan = scan_result(buf, off, bool(caps & CLIENT_DEPRECATE_EOF), MAX_ROWS)
    if scan is None:
        return None
    start, end = scan.columns
    term_start, term_end = scan.terminator
    affected, columns = 0, None
    if start == end:  # an OK: no result set
        ok = OkPacket.parse(bytes(buf[term_start:term_end]), caps)
        status, affected = ok.status, ok.affected_rows
    else:
        if buf[start:end] != plans.plain_wire and not _plan(s, plans, bytes(buf[start:end])):
            return None
        columns = plans.plain_columns
        if term_end - term_start == 5:  # an EOF: 0xfe, warnings, status
            status = buf[term_start + 3] | buf[term_start + 4] << 8
        else:
            status = status_of_terminator(bytes(buf[term_start:term_end]), caps)
    if status & _DECLINE:
        return None
    wire = reader.take(scan.end, scan.last_seq)
    s.client.write(wire)
    s.no_backslash_escapes = bool(status & SERVER_STATUS_NO_BACKSLASH_ESCAPES)
    s.in_transaction = bool(status & SERVER_STATUS_IN_TRANS)
    return Small(scan.rows, len(wire) - 4 * scan.packets, affected, columns)


def _plan(s: MySQLSession, plans: PlanCache, wire: bytes) -> bool:
    """New column definitions: plan them (in the statement's plan cache, which the
    general path shares); True (and remembered) if nothing in them is masked for this
    session."""
    reader = PacketReader()
    reader.feed(wire)
    columns = [ColumnDef.parse(packet[1]) for packet in iter(reader.next_packet, None)]
    if plans.plan(s, columns, []) is not None:
        return False  # the general path masks (and finds this plan cached)
    plans.plain_wire = wire
    plans.plain_columns = columns
    return True
