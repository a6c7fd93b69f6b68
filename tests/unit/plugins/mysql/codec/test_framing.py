from __future__ import annotations

import pytest

from plugins.mysql.codec import (
    LocalProtocolError,
    PacketReader,
    RemoteProtocolError,
    build_text_row,
    frame,
)

from . import captured
from .conftest import chunk_headers

M = 0xFFFFFF


def header(n: int, seq: int) -> bytes:
    return n.to_bytes(3, "little") + bytes((seq,))


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (0, [(0, 7)]),
        (1, [(1, 7)]),
        (M - 1, [(M - 1, 7)]),
        (M, [(M, 7), (0, 8)]),
        (M + 1, [(M, 7), (1, 8)]),
        (2 * M - 1, [(M, 7), (M - 1, 8)]),
        (2 * M, [(M, 7), (M, 8), (0, 9)]),
        (2 * M + 1, [(M, 7), (M, 8), (1, 9)]),
    ],
    ids=["empty", "one", "max-1", "max", "max+1", "2max-1", "2max", "2max+1"],
)
def test_frame_split_and_reader_join(size, expected):
    payload = bytes([size % 251]) * size
    wire, next_seq = frame(payload, 7)
    assert chunk_headers(wire) == expected
    assert next_seq == (expected[-1][1] + 1) & 0xFF
    reader = PacketReader(max_packet=3 * M)
    reader.feed(wire)
    got = reader.next_packet()
    assert got is not None and got[0] == 7 and got[1] == payload
    assert reader.last_seq == expected[-1][1]
    assert reader.next_packet() is None and reader.pending() == 0


def test_frame_small_exact_bytes():
    assert frame(b"\x03SELECT 1", 0) == (header(9, 0) + b"\x03SELECT 1", 1)
    assert frame(bytearray(b"ab"), 3) == (header(2, 3) + b"ab", 4)
    assert frame(memoryview(b"ab"), 3) == (header(2, 3) + b"ab", 4)


@pytest.mark.parametrize(("seq", "next_seq"), [(0, 1), (254, 255), (255, 0)])
def test_frame_seq_wraps(seq, next_seq):
    assert frame(b"x", seq)[1] == next_seq


def test_split_packet_seq_wraps_mid_packet():
    payload = b"z" * (M + 5)
    wire, next_seq = frame(payload, 255)
    assert chunk_headers(wire) == [(M, 255), (5, 0)]
    assert next_seq == 1
    reader = PacketReader()
    reader.feed(wire)
    assert reader.next_packet() == (255, payload)
    assert reader.last_seq == 0


@pytest.mark.parametrize("seq", [-1, 256])
def test_frame_rejects_bad_seq(seq):
    with pytest.raises(LocalProtocolError):
        frame(b"", seq)


@pytest.mark.parametrize(("key", "chunks"), sorted(captured.BIG_ROW_CHUNKS_DEPRECATE_EOF.items()))
def test_big_rows_frame_like_mariadb(key, chunks):
    """Our split of a big text row matches what MariaDB 10.11 put on the wire."""
    byte, n = key
    row = build_text_row([byte * n])
    wire, _ = frame(row, chunks[0][1])
    assert chunk_headers(wire) == chunks
    if key == (b"a", 16777216):
        assert row[:12].hex() == captured.BIG_ROW_A_PREFIX_HEX


def test_reader_byte_at_a_time_and_partial_header():
    wire = b"".join(frame(p, i)[0] for i, p in enumerate([b"a", b"", b"hello", b"\xfe\x00\x00\x02\x00"]))
    reader = PacketReader()
    out = []
    for i in range(len(wire)):
        reader.feed(wire[i : i + 1])
        while (pkt := reader.next_packet()) is not None:
            out.append(pkt)
    assert out == [(0, b"a"), (1, b""), (2, b"hello"), (3, b"\xfe\x00\x00\x02\x00")]
    assert reader.last_seq == 3


def test_reader_many_small_packets_and_pending():
    n = 50_000
    wire = b"".join(frame(b"row%d" % i, i & 0xFF)[0] for i in range(n))
    reader = PacketReader()
    half = len(wire) // 2 + 3  # cut mid-packet
    reader.feed(wire[:half])
    got = []
    while (pkt := reader.next_packet()) is not None:
        got.append(pkt[1])
    assert 0 < reader.pending() < 10
    reader.feed(wire[half:])
    while (pkt := reader.next_packet()) is not None:
        got.append(pkt[1])
    assert got == [b"row%d" % i for i in range(n)]
    assert reader.pending() == 0


def test_reader_compacts_when_the_buffer_never_drains():
    reader = PacketReader()
    one = frame(b"x" * 100, 0)[0]
    reader.feed(one * 2000 + one[:10])  # never ends on a packet boundary
    for _ in range(2000):
        assert reader.next_packet() == (0, b"x" * 100)
    assert reader.pending() == 10
    assert len(reader._buf) < 70_000  # consumed bytes were dropped, not kept forever


def test_reader_rejects_oversized_packet_before_body_arrives():
    reader = PacketReader(max_packet=1000)
    reader.feed(header(1001, 0))
    with pytest.raises(RemoteProtocolError):
        reader.next_packet()


def test_reader_rejects_oversized_split_packet_early():
    reader = PacketReader(max_packet=M + 10)
    reader.feed(header(M, 0) + b"a" * M + header(11, 1))  # body of chunk 2 not there yet
    with pytest.raises(RemoteProtocolError):
        reader.next_packet()


def test_reader_accepts_split_packet_at_exact_limit():
    reader = PacketReader(max_packet=M + 10)
    reader.feed(frame(b"q" * (M + 10), 0)[0])
    got = reader.next_packet()
    assert got is not None and len(got[1]) == M + 10


def test_reader_rejects_non_consecutive_continuation_seq():
    reader = PacketReader()
    reader.feed(header(M, 4) + b"a" * M + header(1, 6) + b"b")
    with pytest.raises(RemoteProtocolError):
        reader.next_packet()


def test_reader_waits_for_the_continuation_chunk():
    reader = PacketReader()
    reader.feed(header(M, 0) + b"a" * M)
    assert reader.next_packet() is None  # a full chunk is always continued
    reader.feed(header(0, 1))
    assert reader.next_packet() == (0, b"a" * M)
