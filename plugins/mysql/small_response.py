"""The small-response lane: a small response, whole after one read, forwarded as received.

A point-select through the general relay (``relay.relay_response``) costs a tracker, a
parse and a re-frame per packet: more CPU than the bytes' round trip itself. Most
executions of a prepared statement get a handful of packets that arrive in one read,
with the same column definitions as last time. For those, :func:`relay_small` scans the
buffered bytes once (:func:`~plugins.mysql.codec.scan_result`), checks the definitions
against the ones already planned for this statement, and forwards the exact bytes.

It changes nothing the general path decides: the statement was judged at PREPARE, the
row hook is consulted (the statement's shared plan cache) whenever the definitions
differ from the last ones seen, and while its results have anything to mask the
statement does not take this lane. Whatever the scan does not recognise (errors, big or
multi-result responses, cursors, LOCAL INFILE) goes to the general path from the same
first byte: the lane consumes nothing until it has decided.
"""

from __future__ import annotations

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
    from plugins.mysql.session import MySQLSession, Prepared

MAX_ROWS = 64
"""Larger results stream through the general path (which forwards rows as they arrive)."""

_DECLINE = SERVER_MORE_RESULTS_EXISTS | SERVER_STATUS_CURSOR_EXISTS


def relay_small(s: MySQLSession, prepared: Prepared) -> tuple[int, int, int] | None:
    """Relay the response to the COM_STMT_EXECUTE just sent for ``prepared`` if it is
    small, complete after one read and needs no masking: returns ``(rows, payload
    bytes, affected rows)``; ``None`` (nothing consumed, nothing sent) otherwise."""
    if s.results_binary:
        return None  # every string column may need masking now: the general path plans it
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
    affected = 0
    if start == end:  # an OK: no result set
        ok = OkPacket.parse(bytes(buf[term_start:term_end]), caps)
        status, affected = ok.status, ok.affected_rows
    else:
        if buf[start:end] != prepared.plans.plain_wire and not _plan(s, prepared, bytes(buf[start:end])):
            return None
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
    return scan.rows, len(wire) - 4 * scan.packets, affected


def _plan(s: MySQLSession, prepared: Prepared, wire: bytes) -> bool:
    """New column definitions for ``prepared``: plan them (in the statement's plan cache,
    which the general path shares); True (and remembered) if nothing in them is masked
    for this session."""
    reader = PacketReader()
    reader.feed(wire)
    columns = [ColumnDef.parse(packet[1]) for packet in iter(reader.next_packet, None)]
    if prepared.plans.plan(s, columns, []):
        return False  # the general path masks (and finds this plan cached)
    prepared.plans.plain_wire = wire
    prepared.columns = columns
    prepared.types = [c.type for c in columns]
    return True
