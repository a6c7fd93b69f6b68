"""Bytes over a (gevent) socket, TLS included: the transport under :class:`~plugins.mysql.packetconn.PacketConn`.

TLS runs over memory BIOs (``ssl.SSLObject``) on the plain socket rather than through
``SSLSocket``: one ``recv`` takes every byte the kernel holds and all of it is decrypted
at once, where OpenSSL's socket BIO reads each record in two syscalls (header, body).
On a point-select this halves the reads per statement (bench/mysql.py). Received
plaintext goes straight into the sans-IO :class:`PacketReader`.
"""

from __future__ import annotations

import select
import socket
import ssl
from typing import Any

from bastion.runtime.readable import Readable
from plugins.mysql.codec import PacketReader

RECV_SIZE = 64 * 1024
_UNSET = object()

# One receive buffer and one plaintext buffer for every connection of the process:
# recv(n) allocates n bytes and shrinks them on every call (with n = 256 KiB that took
# 14 us per small read instead of 2, mmap and munmap each time). Sharing is safe under
# gevent: a buffer is filled and copied out (into the TLS BIO or the packet reader) with
# no greenlet switch in between, and no thread ever touches it.
_RECV_BUF = bytearray(RECV_SIZE)
_RECV_VIEW = memoryview(_RECV_BUF)
_PLAIN_BUF = bytearray(RECV_SIZE)
_PLAIN_VIEW = memoryview(_PLAIN_BUF)


class ConnectionClosed(Exception):
    """The peer closed the connection (or it broke) while we expected a packet."""


class Transport:
    """A socket, TLS once started, the packet reader its bytes go into, and the byte counts.
    :class:`~plugins.mysql.packetconn.PacketConn` frames and reads packets on top of it."""

    def __init__(self, sock: Any, max_packet: int = 64 << 20, name: str = "peer") -> None:
        self.sock = sock
        """The TCP socket; with TLS, :attr:`tls` en/decrypts what passes through it."""
        self.reader = PacketReader(max_packet=max_packet)
        self.name = name
        self.tls: ssl.SSLObject | None = None
        self._tls_closed = False
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._out: list[bytes] = []
        self._timeout: object = _UNSET  # the last settimeout() value
        self._readable: Readable | None = None
        # The last recv left the kernel's queue empty: the next read waits for readiness
        # first instead of asking (a recv that fails with EAGAIN costs a syscall, and
        # after a request has gone upstream, or a reply to the client, it always fails).
        self._drained = False
        self.bytes_in = 0
        self.bytes_out = 0

    def set_timeout(self, timeout: float | None) -> None:
        """``sock.settimeout`` unless already set (the call is not free under gevent)."""
        if self._timeout is _UNSET or timeout != self._timeout:
            self.sock.settimeout(timeout)
            self._timeout = timeout

    def fill(self, timeout: float | None = None) -> None:
        """Receive once into the reader (whatever arrives, at least one byte)."""
        self.set_timeout(timeout)
        if self.tls is None:
            n = self._recv_raw()
            self.bytes_in += n
            self.reader.feed(_RECV_VIEW[:n])
            return
        incoming = self._incoming
        while True:
            if incoming.pending:
                got = self._decrypt()
                if got:
                    self.bytes_in += got
                    return
            if self._tls_closed:
                raise ConnectionClosed(f"{self.name} closed the TLS session")
            incoming.write(_RECV_VIEW[:self._recv_raw()])

    def _recv_raw(self) -> int:
        """Receive into the shared buffer; returns the byte count (never 0)."""
        if self._drained and self._timeout is None:
            if self._readable is None:
                self._readable = Readable(self.sock.fileno())
            self._readable.wait()
        try:
            n: int = self.sock.recv_into(_RECV_BUF)
        except OSError as exc:
            if isinstance(exc, socket.timeout):
                raise
            raise ConnectionClosed(f"{self.name}: {exc}") from exc
        if not n:
            raise ConnectionClosed(f"{self.name} closed the connection")
        self._drained = n < RECV_SIZE
        return n

    def _decrypt(self) -> int:
        """Move all plaintext the buffered records hold into the reader; returns its size."""
        tls, incoming, reader = self.tls, self._incoming, self.reader
        assert tls is not None
        got = 0
        # Checking the buffer first spares the SSLWantReadError a read of nothing raises
        # (an exception per call is a measurable share of a point-select). Nothing stays
        # decrypted inside the SSLObject: a read of RECV_SIZE takes a whole record (<= 16 KiB).
        while incoming.pending:
            try:
                n: int = tls.read(RECV_SIZE, _PLAIN_BUF)  # type: ignore[assignment]  # int with a buffer
            except ssl.SSLWantReadError:
                break  # a partial record: the rest is still on the wire
            except ssl.SSLZeroReturnError:
                n = 0
            except ssl.SSLError as exc:  # bad record MAC, unexpected message, ...
                raise ConnectionClosed(f"{self.name}: {exc}") from exc
            if not n:  # close_notify: what came before it is still served
                self._tls_closed = True
                break
            reader.feed(_PLAIN_VIEW[:n])
            got += n
        self._flush_tls()  # a post-handshake message (key update, session ticket)
        return got

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
        if self.tls is not None and (self._incoming.pending or self.tls.pending()):
            return False
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
            if not readable:
                return False
            self.set_timeout(0.5)
            data = self.sock.recv(RECV_SIZE)
        except OSError:
            return True
        if not data:
            return True
        if self.tls is None:
            self.reader.feed(data)
            return False
        self._incoming.write(data)
        try:
            self.bytes_in += self._decrypt()
        except ConnectionClosed:
            return True
        return self._tls_closed

    def write(self, data: bytes) -> None:
        """Send wire bytes (whole packets, headers included) now, after nothing queued."""
        self.bytes_out += len(data)
        if self.tls is not None:
            try:
                self.tls.write(data)  # into the memory BIO: always whole, never "want write"
            except ssl.SSLError as exc:
                raise ConnectionClosed(f"{self.name}: {exc}") from exc
            data = self._outgoing.read()
        self._send_raw(data)

    def _flush_tls(self) -> None:
        """Send what OpenSSL wrote on its own (handshake records, tickets, key updates)."""
        if self._outgoing.pending:
            self._send_raw(self._outgoing.read())

    def _send_raw(self, data: bytes) -> None:
        try:
            # send() rather than sendall(): gevent's sendall asks the kernel for SO_SNDBUF on
            # every call (a syscall per flush).
            sent = self.sock.send(data)
            if sent < len(data):
                view = memoryview(data)[sent:]
                while view:
                    view = view[self.sock.send(view):]
        except OSError as exc:
            raise ConnectionClosed(f"{self.name}: {exc}") from exc

    def start_tls(self, context: ssl.SSLContext, server_side: bool, server_hostname: str | None = None,
                  timeout: float = 30) -> None:
        """Run the TLS handshake on the socket (nothing may be buffered: TLS starts at a
        packet boundary). Raises ``ssl.SSLError`` (e.g. a failed certificate check),
        ConnectionClosed or socket.timeout."""
        if self.reader.pending():
            raise ConnectionClosed(f"{self.name} sent data before the TLS handshake")
        tls = context.wrap_bio(self._incoming, self._outgoing, server_side=server_side,
                               server_hostname=server_hostname)
        self.set_timeout(timeout)
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._flush_tls()
                self._incoming.write(_RECV_VIEW[:self._recv_raw()])
        self._flush_tls()
        # Bytes after the peer's last handshake record (its first packet) wait in the BIO.
        self.tls = tls

    @property
    def tls_version(self) -> str:
        return str(self.tls.version() or "") if self.tls is not None else ""

    def shutdown(self) -> None:
        """End the connection from another greenlet: a read blocked on it (or the next one)
        sees the peer gone, so its owner tears the session down on its own path."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def close(self) -> None:
        if self._readable is not None:  # before the descriptor can be reused
            self._readable.close()
            self._readable = None
        try:
            self.sock.close()
        except OSError:
            pass
