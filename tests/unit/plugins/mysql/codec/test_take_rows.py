"""The relay's row fast path: PacketReader.take_rows plus ResponseTracker.skip_rows must
forward exactly the bytes, and see exactly the packets, that the packet-by-packet path does."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plugins.mysql.codec import (
    CLIENT_DEPRECATE_EOF,
    CLIENT_PROTOCOL_41,
    COM_QUERY,
    COM_STMT_FETCH,
    LocalProtocolError,
    OkPacket,
    PacketReader,
    ResponseTracker,
    RowItem,
    build_eof,
    build_text_row,
    frame,
)


def result_wire(rows: list[bytes], deprecate_eof: bool, trailer: bytes | None = None) -> bytes:
    """Column count 1, one definition, [EOF], rows, terminator, all with consecutive seq ids."""
    col = b"\x03def\x00\x00\x00\x01a\x00\x0c\x21\x00\x10\x00\x00\x00\xfd\x00\x00\x00\x00\x00"
    caps = CLIENT_PROTOCOL_41 | (CLIENT_DEPRECATE_EOF if deprecate_eof else 0)
    end = b"\xfe" + OkPacket(0, 0, 2, 0).build(caps)[1:] if deprecate_eof else build_eof(0, 2)
    packets = [b"\x01", col, *([] if deprecate_eof else [build_eof(0, 2)]), *rows, trailer or end]
    out, seq = b"", 1
    for p in packets:
        wire, seq = frame(p, seq)
        out += wire
    return out


def relay(wire: bytes, deprecate_eof: bool, chunk: int, fast: bool) -> tuple[bytes, int]:
    """Replay ``wire`` through a reader fed ``chunk`` bytes at a time; return what a relay
    forwards and how many rows the tracker counted."""
    caps = CLIENT_PROTOCOL_41 | (CLIENT_DEPRECATE_EOF if deprecate_eof else 0)
    reader, tracker = PacketReader(), ResponseTracker(COM_QUERY, caps)
    out, rows, fed = b"", 0, 0
    while not tracker.done:
        if fast and tracker.in_rows:
            run = reader.take_rows(deprecate_eof)
            if run is not None:
                tracker.skip_rows(run[1])
                rows += run[1]
                out += run[0]
                continue
        packet = reader.next_packet()
        if packet is None:
            assert fed < len(wire), "ran out of input before the response ended"
            reader.feed(wire[fed : fed + chunk])
            fed += chunk
            continue
        seq, payload = packet
        if isinstance(tracker.feed(payload), RowItem):
            rows += 1
        out += frame(payload, seq)[0]
    return out, rows


values = st.one_of(st.none(), st.binary(max_size=40), st.sampled_from([b"", b"\xfe", b"\xff" * 3]))
rows_st = st.lists(st.lists(values, min_size=1, max_size=4).map(build_text_row), max_size=30)


@settings(max_examples=200, deadline=None)
@given(rows=rows_st, deprecate_eof=st.booleans(), chunk=st.integers(1, 300))
def test_fast_path_forwards_the_same_bytes(rows, deprecate_eof, chunk):
    wire = result_wire(rows, deprecate_eof)
    slow = relay(wire, deprecate_eof, chunk, fast=False)
    fast = relay(wire, deprecate_eof, chunk, fast=True)
    assert fast == slow == (wire, len(rows))


def test_fast_path_stops_before_err_and_terminator_candidates():
    reader = PacketReader()
    rows = [build_text_row([b"x"]), build_text_row([b"y" * 20])]
    err = b"\xff\x15\x04#HY000boom"
    wire = b"".join(frame(r, i)[0] for i, r in enumerate(rows)) + frame(err, 2)[0]
    reader.feed(wire)
    run = reader.take_rows(deprecate_eof=False)
    assert run == (wire[: len(wire) - 4 - len(err)], 2)
    assert reader.take_rows(deprecate_eof=False) is None
    assert reader.next_packet() == (2, err)
    # a short 0xfe packet may be the terminator: left for the tracker; a long one is a row
    reader.feed(frame(build_eof(0, 2), 0)[0])
    assert reader.take_rows(deprecate_eof=False) is None
    reader.next_packet()
    long_fe = b"\xfe" + b"z" * 20
    reader.feed(frame(long_fe, 0)[0])
    assert reader.take_rows(deprecate_eof=False) == (frame(long_fe, 0)[0], 1)
    reader.feed(frame(long_fe, 0)[0])
    assert reader.take_rows(deprecate_eof=True) is None  # a 0xfe-OK under DEPRECATE_EOF


def test_fast_path_leaves_incomplete_empty_and_split_packets():
    reader = PacketReader()
    reader.feed(frame(b"\x01a", 0)[0] + b"\x05\x00\x00\x01ab")
    assert reader.take_rows(False) == (frame(b"\x01a", 0)[0], 1)
    assert reader.take_rows(False) is None and reader.pending() == 6
    reader = PacketReader()
    reader.feed(b"\x00\x00\x00\x00")
    assert reader.take_rows(False) is None
    reader = PacketReader()
    reader.feed(b"\xff\xff\xff\x00" + b"\x01" * 100)
    assert reader.take_rows(False) is None


def test_skip_rows_only_in_the_row_section():
    tracker = ResponseTracker(COM_QUERY, CLIENT_PROTOCOL_41)
    assert not tracker.in_rows
    with pytest.raises(LocalProtocolError):
        tracker.skip_rows(1)
    fetch = ResponseTracker(COM_STMT_FETCH, CLIENT_PROTOCOL_41)
    assert fetch.in_rows
    fetch.skip_rows(3)
