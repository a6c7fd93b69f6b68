"""Hypothesis fuzzing: every parser, fed random, truncated or mutated bytes, may
only ever raise RemoteProtocolError (never IndexError, struct.error, ValueError...).

Any other exception escapes ``remote_only`` and fails the example.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plugins.mysql.codec import (
    CLIENT_DEPRECATE_EOF,
    CLIENT_PROTOCOL_41,
    CLIENT_SESSION_TRACK,
    CLIENT_TRANSACTIONS,
    COM_FIELD_LIST,
    COM_INIT_DB,
    COM_QUERY,
    COM_SET_OPTION,
    COM_STATISTICS,
    COM_STMT_CLOSE,
    COM_STMT_EXECUTE,
    COM_STMT_FETCH,
    COM_STMT_PREPARE,
    COM_STMT_RESET,
    COM_STMT_SEND_LONG_DATA,
    STRING_TYPES,
    ColumnDef,
    ErrPacket,
    HandshakeResponse41,
    HandshakeV10,
    OkPacket,
    PacketReader,
    PrepareOk,
    RemoteProtocolError,
    ResponseTracker,
    parse_auth_more_data,
    parse_auth_switch,
    parse_binary_row,
    parse_column_count,
    parse_eof,
    parse_ssl_request,
    parse_stmt_execute,
    parse_stmt_fetch,
    parse_stmt_id,
    parse_text_row,
    read_lenenc_bytes,
    read_lenenc_int,
    read_nul_str,
    rewrite_binary_row,
    rewrite_text_row,
    status_of_terminator,
)

from . import captured

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

CORPUS: list[bytes] = [
    p
    for name in dir(captured)
    if name.isupper() and isinstance(getattr(captured, name), list)
    for p in captured.payloads(getattr(captured, name))
    if len(p) <= 4096
]
RESPONSES: list[list[bytes]] = [
    [p for p in captured.payloads(getattr(captured, name)) if len(p) <= 4096]
    for name in dir(captured)
    if name[:4] in ("EOF_", "DEP_") and isinstance(getattr(captured, name), list)
]
CAPS_CHOICES = [
    0,
    CLIENT_TRANSACTIONS,
    CLIENT_PROTOCOL_41,
    CLIENT_PROTOCOL_41 | CLIENT_SESSION_TRACK,
    CLIENT_PROTOCOL_41 | CLIENT_SESSION_TRACK | CLIENT_DEPRECATE_EOF,
    CLIENT_PROTOCOL_41 | CLIENT_DEPRECATE_EOF,
]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """Random bytes, or a captured packet truncated / bit-flipped / spliced."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=300))
    data = bytearray(draw(st.sampled_from(CORPUS)))
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(["truncate", "flip", "insert", "delete", "set"]))
        pos = draw(st.integers(0, len(data)))
        if op == "truncate":
            del data[pos:]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=9))
        elif data and pos < len(data):
            if op == "flip":
                data[pos] ^= 1 << draw(st.integers(0, 7))
            elif op == "delete":
                del data[pos]
            else:
                data[pos] = draw(st.sampled_from([0x00, 0xFB, 0xFC, 0xFD, 0xFE, 0xFF]))
    return bytes(data)


def remote_only(fn: Callable[..., Any], *args: Any) -> None:
    try:
        fn(*args)
    except RemoteProtocolError:
        pass


def masker(value: bytes) -> bytes:
    return b"#" * (len(value) % 300 + 1)


@FUZZ
@given(mutated(), st.integers(0, 20))
def test_wire_readers(data, pos):
    remote_only(read_lenenc_int, data, pos)
    remote_only(read_lenenc_bytes, data, pos)
    remote_only(read_nul_str, data, pos)


@FUZZ
@given(mutated())
def test_connection_phase_parsers(data):
    remote_only(HandshakeV10.parse, data)
    remote_only(HandshakeResponse41.parse, data)
    remote_only(parse_ssl_request, data)
    remote_only(parse_auth_switch, data)
    remote_only(parse_auth_more_data, data)


@FUZZ
@given(mutated(), st.sampled_from(CAPS_CHOICES))
def test_generic_packet_parsers(data, caps):
    remote_only(OkPacket.parse, data, caps)
    remote_only(ErrPacket.parse, data, caps)
    remote_only(parse_eof, data)
    remote_only(status_of_terminator, data, caps)
    remote_only(ColumnDef.parse, data)
    remote_only(PrepareOk.parse, data)
    remote_only(parse_column_count, data)


@FUZZ
@given(st.binary(max_size=20))
def test_statement_command_parsers(body):
    remote_only(parse_stmt_execute, bytes([COM_STMT_EXECUTE]) + body)
    remote_only(parse_stmt_fetch, bytes([COM_STMT_FETCH]) + body)
    for cmd in (COM_STMT_EXECUTE, COM_STMT_CLOSE, COM_STMT_RESET, COM_STMT_FETCH, COM_STMT_SEND_LONG_DATA):
        remote_only(parse_stmt_id, bytes([cmd]) + body)


@FUZZ
@given(mutated(), st.sets(st.integers(0, 15), max_size=4))
def test_text_rows(data, masked):
    remote_only(parse_text_row, data)
    remote_only(rewrite_text_row, data, dict.fromkeys(masked, masker))


@FUZZ
@given(mutated(), st.lists(st.integers(0, 255), max_size=20), st.data())
def test_binary_rows(data, types, draw):
    remote_only(parse_binary_row, data, types)
    string_cols = [i for i, t in enumerate(types) if t in STRING_TYPES]
    masked = draw.draw(st.sets(st.sampled_from(string_cols), max_size=3)) if string_cols else set()
    remote_only(rewrite_binary_row, data, types, dict.fromkeys(masked, masker))


@FUZZ
@given(st.lists(mutated(), max_size=6), st.integers(1, 400))
def test_packet_reader(chunks, max_packet):
    reader = PacketReader(max_packet=max_packet)
    try:
        for chunk in chunks:
            reader.feed(chunk)
            while reader.next_packet() is not None:
                pass
    except RemoteProtocolError:
        pass


COMMANDS = [
    COM_QUERY,
    COM_STMT_EXECUTE,
    COM_STMT_FETCH,
    COM_STMT_PREPARE,
    COM_FIELD_LIST,
    COM_STATISTICS,
    COM_SET_OPTION,
    COM_INIT_DB,
]


def feed_all(tracker: ResponseTracker, payloads: list[bytes]) -> None:
    try:
        for payload in payloads:
            if tracker.done:
                return
            tracker.feed(payload)
    except RemoteProtocolError:
        pass


@FUZZ
@given(st.sampled_from(COMMANDS), st.sampled_from(CAPS_CHOICES), st.lists(mutated(), max_size=12))
def test_tracker_random_packets(command, caps, payloads):
    feed_all(ResponseTracker(command, caps), payloads)


@FUZZ
@given(
    st.sampled_from(COMMANDS),
    st.sampled_from(CAPS_CHOICES),
    st.sampled_from(RESPONSES),
    st.integers(0, 40),
    mutated(),
)
def test_tracker_mutated_real_responses(command, caps, response, where, replacement):
    payloads = list(response)
    if payloads:
        payloads[where % len(payloads)] = replacement
    feed_all(ResponseTracker(command, caps), payloads)
