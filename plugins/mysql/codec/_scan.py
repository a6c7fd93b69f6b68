"""Whole-response scan for the relay's fast lane: is a complete, small, single result
(or a plain OK) already buffered?

The :class:`~plugins.mysql.codec.ResponseTracker` classifies one packet at a time,
which a response of any size and shape needs. Most statements of an OLTP workload get
a few packets that arrive in one read: for those, one pass over the packet headers
tells where the response ends, so it can be forwarded as the exact bytes received.
The scan only *recognises*; it never consumes, so declining (``None``) costs the caller
nothing but the pass: the tracker then starts from the same first byte.
"""

from __future__ import annotations

from typing import NamedTuple

from .constants.packet_headers import MAX_CHUNK
from .constants.server_status import SERVER_MORE_RESULTS_EXISTS, SERVER_STATUS_CURSOR_EXISTS

__all__ = ["ScannedResult", "scan_result"]


class ScannedResult(NamedTuple):
    """A complete response at the front of a buffer (offsets into that buffer)."""

    end: int
    """Just past the response's last packet."""
    last_seq: int
    packets: int
    columns: tuple[int, int]
    """``(start, end)`` of the column-definition packets, headers included (empty for an OK)."""
    rows: int
    terminator: tuple[int, int]
    """``(start, end)`` of the last packet's payload: the OK, the EOF or the 0xfe-led OK
    that ends the rows (the caller reads the server status from it)."""


def scan_result(buf: bytes | bytearray, off: int, deprecate_eof: bool, max_rows: int) -> ScannedResult | None:
    """Recognise one complete response to COM_QUERY or COM_STMT_EXECUTE at ``buf[off:]``.

    Recognised: an OK packet (header 0x00), or a result set with fewer than 251 columns,
    its EOF after the definitions (unless ``deprecate_eof``), at most ``max_rows`` rows and
    its terminator. ``None`` for anything else: incomplete data, ERR (its message is
    audited), LOCAL INFILE, a packet of 16 MiB or more, an error or stray 0xfe packet
    among the rows, an open cursor, or more results to follow. Status flags are checked
    here for an EOF; an OK's sit behind lenenc fields, so for an OK (the first packet, or
    a 0xfe-led terminator under DEPRECATE_EOF) the caller checks
    :data:`SERVER_MORE_RESULTS_EXISTS` and :data:`SERVER_STATUS_CURSOR_EXISTS`.
    """
    size = len(buf)
    pos, packets = off, 0
    ncols = cols_start = cols_end = rows = 0
    eof_at = -1  # packet number of the EOF after the definitions (none under DEPRECATE_EOF)
    limit = MAX_CHUNK if deprecate_eof else 9
    while size - pos >= 4:
        length = buf[pos] | buf[pos + 1] << 8 | buf[pos + 2] << 16
        body = pos + 4
        end = body + length
        if length == 0 or length >= MAX_CHUNK or end > size:
            return None
        head = buf[body]
        packets += 1
        if packets == 1:  # OK, or a one-byte column count
            if head == 0x00:
                return ScannedResult(end, buf[pos + 3], 1, (end, end), 0, (body, end))
            if length != 1 or head >= 0xFB:
                return None
            ncols, cols_start = head, end
            eof_at = -1 if deprecate_eof else ncols + 2
        elif packets <= ncols + 1:  # a column definition
            cols_end = end
        elif packets == eof_at:
            if head != 0xFE or length != 5 or _status(buf, body) & SERVER_STATUS_CURSOR_EXISTS:
                return None
        elif head == 0xFE and length < limit:
            if length == 5 and _status(buf, body) & SERVER_MORE_RESULTS_EXISTS:
                return None
            return ScannedResult(end, buf[pos + 3], packets, (cols_start, cols_end), rows, (body, end))
        elif head == 0xFF or head == 0xFE:
            return None
        else:
            rows += 1
            if rows > max_rows:
                return None
        pos = end
    return None


def _status(buf: bytes | bytearray, body: int) -> int:
    """Server status of a 5-byte EOF payload starting at ``body``."""
    return buf[body + 3] | buf[body + 4] << 8
