"""PacketConn over real TCP sockets on 127.0.0.1 (gevent's, as the bastion uses them).

The reads wait for readiness through a watcher that stays armed between reads; these
tests pin down what that must never change: a packet that is already there is read,
one that comes later wakes the reader, a killed reader leaves the connection usable,
and a closed connection leaves nothing armed on a descriptor number the kernel reuses.
"""

from __future__ import annotations

from collections.abc import Iterator

import gevent
import pytest
from gevent import socket

from plugins.mysql.codec import frame
from plugins.mysql.packetconn import ConnectionClosed, PacketConn


def _pair() -> tuple[socket.socket, socket.socket]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    client = socket.create_connection(listener.getsockname())
    server, _ = listener.accept()
    listener.close()
    return client, server


@pytest.fixture
def pair() -> Iterator[tuple[PacketConn, socket.socket]]:
    """A PacketConn reading what the plain socket next to it sends."""
    ours, theirs = _pair()
    conn = PacketConn(ours, name="peer")
    yield conn, theirs
    conn.close()
    theirs.close()


def _packet(payload: bytes, seq: int = 0) -> bytes:
    return frame(payload, seq)[0]


def test_a_packet_sent_later_wakes_the_reader(pair: tuple[PacketConn, socket.socket]) -> None:
    conn, peer = pair
    for n in range(5):  # after the first small read every read waits for readiness first
        gevent.spawn_later(0.01, peer.sendall, _packet(b"q%d" % n, n))
        assert conn.read(None) == (n, b"q%d" % n)


def test_packets_that_arrived_while_nobody_read_are_read(pair: tuple[PacketConn, socket.socket]) -> None:
    conn, peer = pair
    peer.sendall(_packet(b"first"))
    assert conn.read(None) == (0, b"first")
    # The watcher stays armed after a read; these arrive while nobody waits (it fires and
    # disarms), then one more comes while the reader is busy elsewhere.
    peer.sendall(_packet(b"second", 1))
    gevent.sleep(0.02)
    peer.sendall(_packet(b"third", 2))
    gevent.sleep(0.02)
    assert conn.read(None) == (1, b"second")
    assert conn.read(None) == (2, b"third")
    with gevent.Timeout(0.2, False):
        conn.read(None)
        pytest.fail("a packet that was never sent was read")


def test_a_large_packet_arrives_in_several_reads(pair: tuple[PacketConn, socket.socket]) -> None:
    conn, peer = pair
    payload = bytes(range(256)) * 4096  # 1 MiB: many full receive buffers, then a short one
    gevent.spawn(peer.sendall, _packet(payload) + _packet(b"after", 1))
    assert conn.read(None) == (0, payload)
    assert conn.read(None) == (1, b"after")


def _waiting_reader(conn: PacketConn, peer: socket.socket) -> gevent.Greenlet:
    """A greenlet blocked in ``conn.read`` on the armed watcher (a first read drained the socket)."""
    peer.sendall(_packet(b"x"))
    conn.read(None)
    reader = gevent.spawn(conn.read, None)
    gevent.sleep(0.02)
    return reader


def test_a_killed_reader_leaves_the_connection_usable(pair: tuple[PacketConn, socket.socket]) -> None:
    conn, peer = pair
    reader = _waiting_reader(conn, peer)
    reader.kill()
    peer.sendall(_packet(b"y", 1))
    with gevent.Timeout(2):
        assert conn.read(None) == (1, b"y")


def test_two_readers_of_one_connection_are_refused(pair: tuple[PacketConn, socket.socket]) -> None:
    conn, peer = pair
    first = _waiting_reader(conn, peer)
    with pytest.raises(RuntimeError, match="two greenlets"):
        conn.read(None)
    peer.sendall(_packet(b"y", 1))
    assert first.get(timeout=2) == (1, b"y")


def test_the_peer_closing_ends_a_waiting_read(pair: tuple[PacketConn, socket.socket]) -> None:
    conn, peer = pair
    peer.sendall(_packet(b"x"))
    conn.read(None)
    gevent.spawn_later(0.02, peer.close)
    with gevent.Timeout(2), pytest.raises(ConnectionClosed, match="closed the connection"):
        conn.read(None)


def test_a_closed_connection_leaves_no_watcher_on_a_reused_descriptor() -> None:
    ours, theirs = _pair()
    conn = PacketConn(ours)
    theirs.sendall(_packet(b"x"))
    conn.read(None)
    fd = ours.fileno()
    conn.close()  # with the watcher still armed
    theirs.close()
    # Sockets opened now get the freed descriptor numbers; they must work as any other.
    for _ in range(3):
        ours2, theirs2 = _pair()
        conn2 = PacketConn(ours2)
        try:
            gevent.spawn_later(0.01, theirs2.sendall, _packet(b"fresh"))
            with gevent.Timeout(2):
                assert conn2.read(None) == (0, b"fresh")
                gevent.spawn_later(0.01, theirs2.sendall, _packet(b"again", 1))
                assert conn2.read(None) == (1, b"again")
            if ours2.fileno() == fd:
                break
        finally:
            conn2.close()
            theirs2.close()
