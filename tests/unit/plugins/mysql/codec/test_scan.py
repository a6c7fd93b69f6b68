"""scan_result, the fast lane's one-pass recogniser: whenever it claims a whole response,
the packet-by-packet ResponseTracker must agree on where it ends, how many rows it
holds and which packet ends it; every prefix of a response must be declined."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plugins.mysql.codec import (
    CLIENT_DEPRECATE_EOF,
    COM_QUERY,
    COM_STMT_EXECUTE,
    SERVER_MORE_RESULTS_EXISTS,
    SERVER_STATUS_CURSOR_EXISTS,
    ErrPacket,
    OkPacket,
    PacketReader,
    ResponseTracker,
    RowItem,
    build_eof,
    build_text_row,
    frame,
    scan_result,
    status_of_terminator,
)

from .conftest import CAPTURE_CAPS

COL = b"\x03def\x06sbtest\x07sbtest1\x07sbtest1\x01c\x01c\x0c\x08\x00\x78\x00\x00\x00\xfe\x00\x00\x00\x00\x00"


def wire_of(packets: list[bytes]) -> bytes:
    out, seq = b"", 1
    for p in packets:
        chunk, seq = frame(p, seq)
        out += chunk
    return out


def terminator(deprecate_eof: bool, status: int = 2) -> bytes:
    if deprecate_eof:
        return b"\xfe" + OkPacket(0, 0, status, 0).build(CAPTURE_CAPS | CLIENT_DEPRECATE_EOF)[1:]
    return build_eof(0, status)


def result(rows: list[bytes], deprecate_eof: bool, ncols: int = 1, status: int = 2,
           defs_status: int = 2) -> list[bytes]:
    defs = [COL] * ncols
    middle = [] if deprecate_eof else [build_eof(0, defs_status)]
    return [bytes([ncols]), *defs, *middle, *rows, terminator(deprecate_eof, status)]


def caps_of(deprecate_eof: bool) -> int:
    return CAPTURE_CAPS | (CLIENT_DEPRECATE_EOF if deprecate_eof else 0)


def tracked(wire: bytes, command: int, caps: int) -> tuple[int, int, int, bytes]:
    """(end offset, packets, rows, last payload) as the general path sees the response."""
    reader, tracker = PacketReader(), ResponseTracker(command, caps)
    reader.feed(wire)
    packets = rows = 0
    payload = b""
    while not tracker.done:
        packet = reader.next_packet()
        assert packet is not None, "response incomplete"
        payload = packet[1]
        packets += 1
        rows += isinstance(tracker.feed(payload), RowItem)
    return len(wire) - reader.pending(), packets, rows, payload


binary_row = st.binary(max_size=30).map(lambda b: b"\x00\x00" + b)
text_row = st.lists(st.one_of(st.none(), st.binary(max_size=20)), min_size=1, max_size=3).map(build_text_row)


@settings(max_examples=300, deadline=None)
@given(deprecate_eof=st.booleans(), binary=st.booleans(), data=st.data(),
       status=st.sampled_from([2, 3, 2 | SERVER_MORE_RESULTS_EXISTS, 2 | SERVER_STATUS_CURSOR_EXISTS]),
       trailing=st.binary(max_size=8))
def test_agrees_with_the_tracker(deprecate_eof, binary, data, status, trailing):
    rows = data.draw(st.lists(binary_row if binary else text_row, max_size=12))
    packets = result(rows, deprecate_eof, status=status)
    wire = wire_of(packets)
    command = COM_STMT_EXECUTE if binary else COM_QUERY
    scan = scan_result(bytearray(wire + trailing), 0, deprecate_eof, 64)
    if status & SERVER_MORE_RESULTS_EXISTS and not deprecate_eof:
        assert scan is None  # the EOF says more results follow
        return
    assert scan is not None
    if deprecate_eof and status & (SERVER_MORE_RESULTS_EXISTS | SERVER_STATUS_CURSOR_EXISTS):
        # the flags of a 0xfe-led OK are the caller's to check: they are there to see
        term = (wire + trailing)[scan.terminator[0]:scan.terminator[1]]
        assert status_of_terminator(term, caps_of(deprecate_eof)) == status
        return
    end, count, nrows, last = tracked(wire, command, caps_of(deprecate_eof))
    assert (scan.end, scan.packets, scan.rows) == (end, count, nrows) == (len(wire), len(packets), len(rows))
    assert (wire + trailing)[scan.terminator[0]:scan.terminator[1]] == last
    assert scan.last_seq == len(packets)
    assert wire[scan.columns[0]:scan.columns[1]] == wire_of([bytes([1]), COL])[5:]
    assert status_of_terminator(last, caps_of(deprecate_eof)) == status


@settings(max_examples=100, deadline=None)
@given(deprecate_eof=st.booleans(), rows=st.lists(text_row, max_size=6), cut=st.integers(0, 10_000))
def test_every_prefix_is_declined(deprecate_eof, rows, cut):
    wire = wire_of(result(rows, deprecate_eof))
    cut %= len(wire)
    assert scan_result(bytearray(wire[:cut]), 0, deprecate_eof, 64) is None


def test_offset_and_the_next_response_untouched():
    first = wire_of(result([build_text_row([b"1"])], False))
    buf = bytearray(b"junk" + first + first)
    scan = scan_result(buf, 4, False, 64)
    assert scan is not None and scan.end == 4 + len(first) and scan.rows == 1


OK = OkPacket(1, 0, 2, 0).build(CAPTURE_CAPS)


@pytest.mark.parametrize(("name", "packets", "deprecate_eof", "recognised"), [
    ("ok", [OK], False, True),
    ("err", [ErrPacket(1146, "42S02", "no such table").build(CAPTURE_CAPS)], False, False),
    ("local infile", [b"\xfb/etc/passwd"], False, False),
    ("point select", result([build_text_row([b"x" * 120])], False), False, True),
    ("no rows", result([], True), True, True),
    ("250 columns", result([], False, ncols=250), False, True),
    ("251 columns (3-byte count)", [b"\xfc\xfb\x00", *[COL] * 251, build_eof(0, 2), build_eof(0, 2)], False, False),
    ("cursor opened after the definitions", result([], False, defs_status=2 | SERVER_STATUS_CURSOR_EXISTS)[:-1],
     False, False),
    ("err among rows", [*result([build_text_row([b"1"])], False)[:-1], ErrPacket(1317, "70100", "killed")
                        .build(CAPTURE_CAPS)], False, False),
    ("stray 0xfe row before a terminator", [*result([], False)[:-1], b"\xfe" + b"\x00" * 20, build_eof(0, 2)],
     False, False),
    ("65 rows", result([build_text_row([b"1"])] * 65, False), False, False),
    ("64 rows", result([build_text_row([b"1"])] * 64, False), False, True),
])
def test_shapes(name, packets, deprecate_eof, recognised):
    scan = scan_result(bytearray(wire_of(packets)), 0, deprecate_eof, 64)
    assert (scan is not None) is recognised, name


def test_a_split_packet_is_declined():
    big = frame(b"\x00" + b"x" * 0xFFFFFF, 3)[0]
    head = wire_of([b"\x01", COL, build_eof(0, 2)])
    assert scan_result(bytearray(head + big + frame(build_eof(0, 2), 6)[0]), 0, False, 64) is None
