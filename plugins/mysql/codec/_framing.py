"""Packet framing: ``int<3> length, int<1> seq, payload``, split at 0xFFFFFF.

A payload of 2**24-1 bytes or more travels as consecutive chunks of exactly
0xFFFFFF bytes; a chunk of exactly 0xFFFFFF is *always* followed by another
one, possibly empty, so a payload whose length is a multiple of 0xFFFFFF ends
with an empty chunk. Every chunk consumes one sequence id (mod 256).

:class:`PacketReader` reassembles; :func:`frame` splits. Neither interprets
payloads, and the reader checks sequence ids only *within* one split packet:
ids across packets depend on the command cycle and are the caller's business.
"""

from __future__ import annotations

from .constants.packet_headers import MAX_CHUNK
from .errors import LocalProtocolError, RemoteProtocolError

__all__ = ["PacketReader", "frame"]

# Compact the buffer once this many consumed bytes sit in front of it *and*
# they are at least half of it: amortised O(1) per byte, no O(n^2) shifting.
_COMPACT_AT = 1 << 16


class PacketReader:
    """Incremental reassembler of wire bytes into whole packet payloads.

    Feed bytes as they arrive with :meth:`feed`, then call :meth:`next_packet`
    until it returns ``None`` (needs more data). A joined payload longer than
    ``max_packet`` raises :class:`RemoteProtocolError` as soon as the chunk
    headers announce it, before the body is buffered; so do non-consecutive
    sequence ids inside a split packet. After an error the reader is unusable.
    """

    __slots__ = ("_buf", "_off", "last_seq", "max_packet")

    def __init__(self, max_packet: int = 64 << 20) -> None:
        self.max_packet = max_packet
        #: Sequence id of the last chunk consumed (-1 before the first packet).
        self.last_seq = -1
        self._buf = bytearray()
        self._off = 0

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Append received bytes (any length, including partial headers)."""
        self._buf += data

    def pending(self) -> int:
        """Number of buffered bytes not yet returned as packets."""
        return len(self._buf) - self._off

    def next_packet(self) -> tuple[int, bytes] | None:
        """Return ``(seq_of_first_chunk, payload)`` or ``None`` if incomplete."""
        buf, off = self._buf, self._off
        if len(buf) - off < 4:
            return None
        length = buf[off] | buf[off + 1] << 8 | buf[off + 2] << 16
        if length == MAX_CHUNK:
            return self._next_split()
        if length > self.max_packet:
            raise RemoteProtocolError(f"packet of {length} bytes exceeds max_packet {self.max_packet}")
        end = off + 4 + length
        if end > len(buf):
            return None
        seq = buf[off + 3]
        with memoryview(buf) as view:
            payload = view[off + 4 : end].tobytes()
        self._consumed(end, seq)
        return seq, payload

    def take_rows(self, deprecate_eof: bool) -> tuple[bytes, int] | None:
        """Fast path of a result's row section: consume the run of complete packets at
        the front of the buffer that can only be rows, and return ``(wire, count)``:
        their exact wire bytes (headers and sequence ids included, ready to forward)
        and how many there are. ``None`` when the next packet is incomplete, empty,
        split (≥ 16 MiB), an ERR, or a 0xfe packet that may end the rows
        (:func:`~plugins.mysql.codec.is_row_terminator`'s length rule): the caller
        takes it with :meth:`next_packet` instead.
        """
        buf, off = self._buf, self._off
        size = len(buf)
        limit = 0xFFFFFF if deprecate_eof else 9
        pos, count, seq = off, 0, -1
        while size - pos >= 4:
            length = buf[pos] | buf[pos + 1] << 8 | buf[pos + 2] << 16
            end = pos + 4 + length
            if length == 0 or length == MAX_CHUNK or end > size:
                break
            head = buf[pos + 4]
            if head == 0xFF or (head == 0xFE and length < limit):
                break
            seq = buf[pos + 3]
            count += 1
            pos = end
        if not count:
            return None
        return self.take(pos, seq), count

    def peek(self) -> tuple[bytearray, int]:
        """``(buffer, offset)``: the unconsumed bytes start at ``offset``. For scanners
        (:func:`~plugins.mysql.codec.scan_result`); the buffer must not be modified, and
        is only valid until the next call that feeds or consumes."""
        return self._buf, self._off

    def take(self, end: int, last_seq: int) -> bytes:
        """Consume up to buffer offset ``end`` (a packet boundary a scanner found, whose
        last packet had sequence id ``last_seq``) and return those wire bytes."""
        off = self._off
        if not off < end <= len(self._buf):
            raise ValueError(f"take({end}) outside the buffered {off}..{len(self._buf)}")
        with memoryview(self._buf) as view:
            wire = view[off:end].tobytes()
        self._consumed(end, last_seq)
        return wire

    def _next_split(self) -> tuple[int, bytes] | None:
        """Slow path: a packet split over several chunks (≥ 16 MiB payload)."""
        buf, pos = self._buf, self._off
        first_seq = expected = buf[pos + 3]
        spans: list[tuple[int, int]] = []
        total = 0
        while True:
            if len(buf) - pos < 4:
                return None
            length = buf[pos] | buf[pos + 1] << 8 | buf[pos + 2] << 16
            seq = buf[pos + 3]
            if seq != expected:
                raise RemoteProtocolError(f"split packet: chunk seq {seq}, expected {expected}")
            total += length
            if total > self.max_packet:
                raise RemoteProtocolError(f"packet of {total}+ bytes exceeds max_packet {self.max_packet}")
            end = pos + 4 + length
            if end > len(buf):
                return None
            spans.append((pos + 4, end))
            pos = end
            if length < MAX_CHUNK:
                break
            expected = (seq + 1) & 0xFF
        with memoryview(buf) as view:
            payload = b"".join([view[a:b] for a, b in spans])
        self._consumed(pos, seq)
        return first_seq, payload

    def _consumed(self, end: int, seq: int) -> None:
        self.last_seq = seq
        buf = self._buf
        if end == len(buf):
            buf.clear()  # common case: the read ended on a packet boundary
            self._off = 0
        elif end >= _COMPACT_AT and end * 2 >= len(buf):
            del buf[:end]
            self._off = 0
        else:
            self._off = end


def frame(payload: bytes | bytearray | memoryview, seq: int) -> tuple[bytes, int]:
    """Return ``(wire_bytes, next_seq)`` for ``payload`` sent with sequence id ``seq``.

    Payloads of 0xFFFFFF bytes or more are split into 0xFFFFFF-byte chunks with
    consecutive ids, plus an empty trailing chunk when the length is an exact
    multiple of 0xFFFFFF. ``next_seq`` is the id after the last chunk, mod 256.
    """
    if not 0 <= seq <= 0xFF:
        raise LocalProtocolError(f"sequence id {seq} out of range")
    n = len(payload)
    if n < MAX_CHUNK:
        return (n | seq << 24).to_bytes(4, "little") + payload, (seq + 1) & 0xFF
    parts: list[bytes | memoryview] = []
    view = memoryview(payload)
    for start in range(0, n + 1, MAX_CHUNK):  # n + 1: emit the empty tail chunk
        chunk = view[start : start + MAX_CHUNK]
        parts.append((len(chunk) | seq << 24).to_bytes(4, "little"))
        parts.append(chunk)
        seq = (seq + 1) & 0xFF
    return b"".join(parts), seq
