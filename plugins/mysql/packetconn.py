"""Packet I/O over a (gevent) socket: with its transport, the only place the MySQL plugin reads or writes.

``PacketConn`` reads whole packets from the sans-IO :class:`PacketReader` that its
:class:`~plugins.mysql.transport.Transport` (socket and TLS) fills, and frames the
packets it sends. Writes are batched by the caller through ``queue``/``flush`` so a
result set costs one ``send`` per received chunk, not one per row.
"""

from __future__ import annotations

from typing import Protocol

from plugins.mysql.codec import PacketReader, frame
from plugins.mysql.transport import ConnectionClosed as ConnectionClosed
from plugins.mysql.transport import Transport


class Conn(Protocol):
    """The I/O boundary of the command phase: what ``commands``, ``response`` and
    ``small_response`` use of a connection. :class:`PacketConn` is the real one; the unit
    tests drive the command phase with an in-memory one."""

    reader: PacketReader
    bytes_in: int
    bytes_out: int

    def read(self, timeout: float | None = None) -> tuple[int, bytes]: ...

    def fill(self, timeout: float | None = None) -> None: ...

    def send(self, payload: bytes, seq: int) -> int: ...

    def queue(self, payload: bytes, seq: int) -> int: ...

    def queue_raw(self, data: bytes) -> None: ...

    def flush(self) -> None: ...

    def write(self, data: bytes) -> None: ...

    def peer_gone(self) -> bool: ...

    def shutdown(self) -> None: ...

    def close(self) -> None: ...



class PacketConn(Transport):
    """MySQL packets over a :class:`~plugins.mysql.transport.Transport`."""

    @property
    def last_seq(self) -> int:
        return self.reader.last_seq

    def read(self, timeout: float | None = None) -> tuple[int, bytes]:
        """The next whole packet ``(seq, payload)``; raises ConnectionClosed or socket.timeout."""
        while True:
            packet = self.reader.next_packet()
            if packet is not None:
                return packet
            self.fill(timeout)

    def read_exact(self, timeout: float | None) -> tuple[int, bytes]:
        """Read one small packet without over-reading: used before a TLS upgrade, when
        the bytes after the SSLRequest already belong to the TLS handshake."""
        if self.reader.pending():
            return self.read(timeout)
        self.set_timeout(timeout)
        header = self._recv_exact(4)
        length = int.from_bytes(header[:3], "little")
        if length > 4096:
            raise ConnectionClosed(f"{self.name} sent an oversized connection-phase packet")
        return header[3], self._recv_exact(length)

    def queue(self, payload: bytes, seq: int) -> int:
        """Frame ``payload`` for sending at the next flush; returns the next seq.

        ``seq`` wraps mod 256 (an answer to a client packet with seq 255 goes out as 0)."""
        data, nxt = frame(payload, seq & 0xFF)
        self._out.append(data)
        return nxt

    def queue_raw(self, data: bytes) -> None:
        self._out.append(data)

    def flush(self) -> None:
        if not self._out:
            return
        data = self._out[0] if len(self._out) == 1 else b"".join(self._out)
        self._out.clear()
        self.write(data)

    def send(self, payload: bytes, seq: int) -> int:
        """Frame and send ``payload`` (after anything queued); returns the next seq."""
        if self._out:
            nxt = self.queue(payload, seq)
            self.flush()
            return nxt
        data, nxt = frame(payload, seq & 0xFF)
        self.write(data)
        return nxt
