"""Packet I/O over a (gevent) socket: the only place the MySQL plugin reads or writes.

``PacketConn`` couples a socket with the sans-IO :class:`PacketReader`. Writes are
batched by the caller through ``queue``/``flush`` so a result set costs one
``sendall`` per received chunk, not one per row.
"""

from __future__ import annotations

import select
import socket
import ssl
from typing import Any

from plugins.mysql.codec import PacketReader, frame

RECV_SIZE = 256 * 1024
_UNSET = object()


class ConnectionClosed(Exception):
    """The peer closed the connection (or it broke) while we expected a packet."""


class PacketConn:
    def __init__(self, sock: Any, max_packet: int = 64 << 20, name: str = "peer") -> None:
        self.sock = sock
        self.reader = PacketReader(max_packet=max_packet)
        self.name = name
        self._out: list[bytes] = []
        self._timeout: object = _UNSET  # the last settimeout() value
        self.bytes_in = 0
        self.bytes_out = 0

    def set_timeout(self, timeout: float | None) -> None:
        """``sock.settimeout`` unless already set (the call is not free under gevent)."""
        if self._timeout is _UNSET or timeout != self._timeout:
            self.sock.settimeout(timeout)
            self._timeout = timeout

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

    def fill(self, timeout: float | None = None) -> None:
        """Receive once into the reader (whatever arrives, at least one byte)."""
        self.set_timeout(timeout)
        try:
            data = self.sock.recv(RECV_SIZE)
        except (ConnectionError, ssl.SSLError, OSError) as exc:
            if isinstance(exc, socket.timeout):
                raise
            raise ConnectionClosed(f"{self.name}: {exc}") from exc
        if not data:
            raise ConnectionClosed(f"{self.name} closed the connection")
        self.bytes_in += len(data)
        self.reader.feed(data)

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

    def _recv_exact(self, n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            try:
                chunk = self.sock.recv(n - len(buf))
            except (ConnectionError, ssl.SSLError) as exc:
                raise ConnectionClosed(f"{self.name}: {exc}") from exc
            if not chunk:
                raise ConnectionClosed(f"{self.name} closed the connection")
            buf += chunk
        self.bytes_in += n
        return buf

    def peer_gone(self) -> bool:
        """Non-blocking: has the peer closed the connection? Data that arrived meanwhile is kept."""
        if getattr(self.sock, "pending", lambda: 0)():
            return False
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
            if not readable:
                return False
            self.set_timeout(0.5)
            data = self.sock.recv(RECV_SIZE)
        except (ConnectionError, ssl.SSLError, OSError):
            return True
        if not data:
            return True
        self.reader.feed(data)
        return False

    def has_buffered_packet(self) -> bool:
        return self.reader.pending() >= 4

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
        try:
            # send() rather than sendall(): gevent's sendall asks the kernel for SO_SNDBUF on
            # every call (a syscall per flush); TLS send() writes everything or waits.
            sent = self.sock.send(data)
            if sent < len(data):
                view = memoryview(data)[sent:]
                while view:
                    view = view[self.sock.send(view):]
        except (ConnectionError, ssl.SSLError, OSError) as exc:
            raise ConnectionClosed(f"{self.name}: {exc}") from exc
        self.bytes_out += len(data)

    def send(self, payload: bytes, seq: int) -> int:
        nxt = self.queue(payload, seq)
        self.flush()
        return nxt

    def start_tls(self, context: ssl.SSLContext, server_side: bool, server_hostname: str | None = None) -> None:
        """Upgrade the socket in place (nothing may be buffered: TLS starts at a packet boundary)."""
        if self.reader.pending():
            raise ConnectionClosed(f"{self.name} sent data before the TLS handshake")
        self.sock.settimeout(30)
        self.sock = context.wrap_socket(self.sock, server_side=server_side, server_hostname=server_hostname)
        self._timeout = _UNSET  # a new socket object

    @property
    def tls_version(self) -> str:
        version = getattr(self.sock, "version", None)
        return str(version()) if callable(version) else ""

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
