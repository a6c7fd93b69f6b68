"""OK, ERR and EOF packets: captured and hand-built, header predicates, terminators."""

from __future__ import annotations

import pytest

from plugins.mysql.codec import (
    CLIENT_PROTOCOL_41,
    CLIENT_SESSION_TRACK,
    CLIENT_TRANSACTIONS,
    SERVER_MORE_RESULTS_EXISTS,
    SERVER_SESSION_STATE_CHANGED,
    SERVER_STATUS_CURSOR_EXISTS,
    ErrPacket,
    LocalProtocolError,
    OkPacket,
    RemoteProtocolError,
    build_eof,
    is_eof,
    is_err,
    is_ok,
    parse_eof,
    status_of_terminator,
)

from . import captured
from .conftest import CAPTURE_CAPS, CAPTURE_CAPS_DEP

P41_TRACK = CLIENT_PROTOCOL_41 | CLIENT_SESSION_TRACK


def first(name: str) -> bytes:
    return captured.payloads(getattr(captured, name))[0]


def last(name: str) -> bytes:
    return captured.payloads(getattr(captured, name))[-1]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("EOF_AUTH_OK", OkPacket(0, 0, 0x4002, 0, b"", b"\x01\x07\x06testdb")),
        ("DEP_INIT_DB", OkPacket(0, 0, 0x4202, 0, b"", b"\x01\x07\x06testdb")),
        ("DEP_QUERY_USE", OkPacket(0, 0, 0x4002, 0, b"", b"\x01\x06\x05mysql")),
        ("EOF_QUERY_DO", OkPacket(0, 0, 0x0002, 0)),
        ("DEP_PING", OkPacket(0, 0, 0x0202, 0)),
    ],
)
def test_captured_ok_packets(name, expected):
    payload = first(name)
    ok = OkPacket.parse(payload, CAPTURE_CAPS)
    assert ok == expected
    assert ok.build(CAPTURE_CAPS) == payload


def test_deprecate_eof_terminator_is_ok_with_fe_header():
    payload = last("DEP_QUERY_SIMPLE")
    ok = OkPacket.parse(payload, CAPTURE_CAPS_DEP)
    assert ok.status == 0x0022
    assert ok.build(CAPTURE_CAPS_DEP, header=0xFE) == payload


@pytest.mark.parametrize(
    ("caps", "ok", "wire"),
    [
        (P41_TRACK, OkPacket(1, 2, 2, 3), "00010202000300"),
        (P41_TRACK, OkPacket(300, 0, 2, 0, b"Rows matched: 1"), "00fc2c010002000000" + "0f" + b"Rows matched: 1".hex()),
        (CLIENT_PROTOCOL_41, OkPacket(0, 0, 2, 0, b"info"), "00000002000000" + b"info".hex()),
        (CLIENT_TRANSACTIONS, OkPacket(0, 70000, 2, 0), "0000fd701101" + "0200"),
        (0, OkPacket(5, 6, 0, 0, b"x"), "000506" + "78"),
        (
            P41_TRACK,
            OkPacket(0, 0, SERVER_SESSION_STATE_CHANGED, 0, b"", b"\x00\x01\x02"),
            "0000000040000000" + "03000102",
        ),
    ],
    ids=["p41-track", "info", "p41-no-track", "transactions-only", "pre41", "session-state"],
)
def test_ok_build_parse_table(caps, ok, wire):
    assert ok.build(caps).hex() == wire
    assert OkPacket.parse(bytes.fromhex(wire), caps) == ok


def test_ok_build_rejects_misuse():
    with pytest.raises(LocalProtocolError):
        OkPacket(session_state=b"\x00").build(P41_TRACK)  # flag missing from status
    with pytest.raises(LocalProtocolError):
        OkPacket().build(P41_TRACK, header=0x01)


@pytest.mark.parametrize(
    "wire", ["", "01", "00", "0000", "000000", "0000000200", "00000002000000ff", "000000020000000500"]
)
def test_ok_parse_malformed(wire):
    with pytest.raises(RemoteProtocolError):
        OkPacket.parse(bytes.fromhex(wire), P41_TRACK)


def test_captured_err():
    payload = first("EOF_QUERY_LOCAL_INFILE")
    err = ErrPacket.parse(payload, CAPTURE_CAPS)
    assert (err.code, err.sqlstate) == (4166, "HY000")
    assert "local infile" in err.message
    assert err.build(CAPTURE_CAPS) == payload
    err = ErrPacket.parse(first("EOF_QUERY_ERR"), CAPTURE_CAPS)
    assert (err.code, err.sqlstate) == (1054, "42S22")


@pytest.mark.parametrize(
    ("caps", "err", "wire"),
    [
        (CLIENT_PROTOCOL_41, ErrPacket(1148, "42000", "no"), b"\xff\x7c\x04#42000no"),
        (0, ErrPacket(1148, "", "no"), b"\xff\x7c\x04no"),
        (CLIENT_PROTOCOL_41, ErrPacket(1040, "", "Too many"), b"\xff\x10\x04#HY000Too many"),
    ],
    ids=["protocol41", "no-protocol41", "default-sqlstate"],
)
def test_err_build(caps, err, wire):
    assert err.build(caps) == wire


def test_err_without_marker_under_protocol41():
    # Errors sent before the handshake response carry no '#SQLSTATE'.
    err = ErrPacket.parse(b"\xff\x10\x04Too many connections", CLIENT_PROTOCOL_41)
    assert err == ErrPacket(1040, "", "Too many connections")
    assert ErrPacket.parse(b"\xff\x7c\x04#42000no", 0).message == "#42000no"


@pytest.mark.parametrize("wire", [b"", b"\x00", b"\xff", b"\xff\x01", b"\xff\x01\x00#4200", b"\xff\xff\xff\x01\x00"])
def test_err_parse_malformed(wire):
    with pytest.raises(RemoteProtocolError):
        ErrPacket.parse(wire, CLIENT_PROTOCOL_41)


def test_err_bad_sqlstate_is_local_error():
    with pytest.raises(LocalProtocolError):
        ErrPacket(1, "123", "m").build()


def test_eof_build_parse():
    assert build_eof(1, SERVER_MORE_RESULTS_EXISTS | 2) == b"\xfe\x01\x00\x0a\x00"
    assert parse_eof(b"\xfe\x01\x00\x0a\x00") == (1, 10)
    assert parse_eof(b"\xfe") == (0, 0)
    with pytest.raises(RemoteProtocolError):
        parse_eof(b"\xfe\x00\x00")


@pytest.mark.parametrize(
    ("payload", "ok", "err", "eof"),
    [
        (b"\x00\x00\x00\x02\x00\x00\x00", True, False, False),
        (b"\xff\x01\x00", False, True, False),
        (b"\xfe" + b"\x00" * 7, False, False, True),
        (b"\xfe" + b"\x00" * 8, False, False, False),  # 9 bytes: a row, not an EOF
        (b"", False, False, False),
    ],
)
def test_header_predicates(payload, ok, err, eof):
    assert (is_ok(payload), is_err(payload), is_eof(payload)) == (ok, err, eof)


@pytest.mark.parametrize(
    ("name", "caps", "status"),
    [
        ("EOF_QUERY_SIMPLE", CAPTURE_CAPS, 0x0022),
        ("DEP_QUERY_SIMPLE", CAPTURE_CAPS_DEP, 0x0022),
        ("EOF_SET_OPTION_OFF", CAPTURE_CAPS, 0x0202),
        ("DEP_SET_OPTION_OFF", CAPTURE_CAPS_DEP, 0x0202),
        ("DEP_FIELD_LIST", CAPTURE_CAPS_DEP, 0x0202),
        ("DEP_EXECUTE_CURSOR", CAPTURE_CAPS_DEP, 0x0242),
        ("EOF_EXECUTE_CURSOR", CAPTURE_CAPS, 0x0242),
    ],
)
def test_status_of_terminator(name, caps, status):
    assert status_of_terminator(last(name), caps) == status
    if "CURSOR" in name:
        assert status & SERVER_STATUS_CURSOR_EXISTS


@pytest.mark.parametrize(
    "build",
    [
        lambda: OkPacket(status=1 << 16).build(P41_TRACK),
        lambda: OkPacket(affected_rows=-1).build(P41_TRACK),
        lambda: ErrPacket(70000, "HY000", "m").build(),
        lambda: build_eof(warnings=1 << 16),
    ],
)
def test_out_of_range_fields_are_local_errors(build):
    with pytest.raises(LocalProtocolError):
        build()
