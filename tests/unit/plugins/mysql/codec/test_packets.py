from __future__ import annotations

import pytest

from plugins.mysql.codec import (
    CLIENT_PROTOCOL_41,
    CLIENT_SESSION_TRACK,
    CLIENT_TRANSACTIONS,
    COM_QUERY,
    COM_STMT_CLOSE,
    COM_STMT_EXECUTE,
    COM_STMT_FETCH,
    COM_STMT_RESET,
    COM_STMT_SEND_LONG_DATA,
    MYSQL_TYPE_LONG,
    MYSQL_TYPE_VAR_STRING,
    SERVER_MORE_RESULTS_EXISTS,
    SERVER_SESSION_STATE_CHANGED,
    SERVER_STATUS_CURSOR_EXISTS,
    ColumnDef,
    ErrPacket,
    LocalProtocolError,
    OkPacket,
    PrepareOk,
    RemoteProtocolError,
    build_column_count,
    build_eof,
    is_eof,
    is_err,
    is_ok,
    parse_column_count,
    parse_eof,
    parse_stmt_execute,
    parse_stmt_fetch,
    parse_stmt_id,
    status_of_terminator,
)

from . import captured
from .conftest import CAPTURE_CAPS, CAPTURE_CAPS_DEP

P41_TRACK = CLIENT_PROTOCOL_41 | CLIENT_SESSION_TRACK


def first(name: str) -> bytes:
    return captured.payloads(getattr(captured, name))[0]


def last(name: str) -> bytes:
    return captured.payloads(getattr(captured, name))[-1]


# --- OK -------------------------------------------------------------------------
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


# --- ERR ------------------------------------------------------------------------
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


# --- EOF and terminators ------------------------------------------------------------
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


# --- column definitions ---------------------------------------------------------------
def test_captured_column_defs():
    payloads = captured.payloads(captured.EOF_QUERY_ALLTYPES)
    cols = [ColumnDef.parse(p) for p in payloads[1:15]]
    assert [c.name for c in cols][:3] == ["id", "v", "n"]
    id_col, v_col = cols[0], cols[1]
    assert (id_col.catalog, id_col.schema, id_col.table, id_col.org_table) == ("def", "testdb", "t", "t")
    assert (id_col.type, id_col.charset, id_col.length, id_col.flags) == (MYSQL_TYPE_LONG, 63, 11, 0x5003)
    assert (v_col.type, v_col.charset, v_col.length) == (MYSQL_TYPE_VAR_STRING, 45, 80)
    for c, p in zip(cols, payloads[1:15], strict=True):
        assert c.raw == p and c.build() == p


def test_with_length_patches_only_column_length():
    payload = captured.payloads(captured.EOF_QUERY_SIMPLE)[2]
    col = ColumnDef.parse(payload)
    patched = col.with_length(0xABCDEF01)
    assert len(patched) == len(payload)
    diff = [i for i in range(len(payload)) if patched[i] != payload[i]]
    assert diff and all(col.fixed_offset + 2 <= i < col.fixed_offset + 6 for i in diff)
    again = ColumnDef.parse(patched)
    assert again.length == 0xABCDEF01 and again.name == col.name and again.type == col.type


def test_field_list_def_keeps_default_value_tail():
    for payload in captured.payloads(captured.EOF_FIELD_LIST)[:-1]:
        col = ColumnDef.parse(payload)
        tail = payload[col.fixed_offset + 12 :]  # lenenc default value (0xfb: NULL)
        assert tail and col.build() + tail == payload
        assert col.with_length(5).endswith(tail)
        assert ColumnDef.parse(col.with_length(5)).length == 5


def test_hand_made_column_def():
    col = ColumnDef("def", "db", "t", "t", "card", "card", 45, 76, MYSQL_TYPE_VAR_STRING, 0, 0)
    assert col.raw == b""
    parsed = ColumnDef.parse(col.build())
    assert (parsed.name, parsed.length, parsed.charset) == ("card", 76, 45)
    assert ColumnDef.parse(col.with_length(200)).length == 200
    with pytest.raises(LocalProtocolError):
        col.with_length(1 << 32)


@pytest.mark.parametrize("cut", [0, 4, 20, 25, 30])
def test_truncated_column_def(cut):
    payload = captured.payloads(captured.EOF_QUERY_SIMPLE)[2]
    with pytest.raises(RemoteProtocolError):
        ColumnDef.parse(payload[:cut])


# --- prepare, column count, statement commands -------------------------------------------
@pytest.mark.parametrize(
    ("name", "ncols", "nparams"),
    [("EOF_PREPARE", 14, 1), ("DEP_PREPARE", 14, 1), ("EOF_PREPARE_NOPARAMS_NOCOLS", 0, 0)],
)
def test_captured_prepare_ok(name, ncols, nparams):
    payload = first(name)
    pok = PrepareOk.parse(payload)
    assert (pok.num_columns, pok.num_params, pok.warnings) == (ncols, nparams, 0)
    assert pok.build() == payload


def test_prepare_ok_layout_and_errors():
    assert PrepareOk(0x01020304, 2, 3, 1).build() == bytes.fromhex("00 04030201 0200 0300 00 0100")
    for bad in (b"", b"\x00" * 11, b"\xff" + b"\x00" * 11, b"\x00" * 14):
        with pytest.raises(RemoteProtocolError):
            PrepareOk.parse(bad)


@pytest.mark.parametrize("n", [1, 14, 250, 251, 70000])
def test_column_count(n):
    assert parse_column_count(build_column_count(n)) == n


@pytest.mark.parametrize("wire", [b"", b"\x00", b"\x01\x00", b"\xfb", b"\xfc\x01"])
def test_column_count_malformed(wire):
    with pytest.raises(RemoteProtocolError):
        parse_column_count(wire)


def test_statement_commands():
    execute = bytes([COM_STMT_EXECUTE]) + (7).to_bytes(4, "little") + b"\x01" + (1).to_bytes(4, "little")
    assert parse_stmt_execute(execute) == (7, 1)
    assert parse_stmt_id(execute) == 7
    for cmd in (COM_STMT_CLOSE, COM_STMT_RESET, COM_STMT_SEND_LONG_DATA):
        assert parse_stmt_id(bytes([cmd]) + b"\x09\x00\x00\x00" + b"data") == 9
    fetch = bytes([COM_STMT_FETCH]) + (7).to_bytes(4, "little") + (100).to_bytes(4, "little")
    assert parse_stmt_fetch(fetch) == (7, 100)


@pytest.mark.parametrize(
    ("fn", "payload", "error"),
    [
        (parse_stmt_execute, bytes([COM_STMT_EXECUTE, 1, 0, 0, 0, 0]), RemoteProtocolError),
        (parse_stmt_execute, bytes([COM_QUERY]) + b"\x00" * 9, LocalProtocolError),
        (parse_stmt_id, bytes([COM_STMT_CLOSE, 1, 0]), RemoteProtocolError),
        (parse_stmt_id, b"", RemoteProtocolError),
        (parse_stmt_id, bytes([COM_QUERY, 1, 0, 0, 0]), LocalProtocolError),
        (parse_stmt_fetch, bytes([COM_STMT_FETCH]) + b"\x00" * 7, RemoteProtocolError),
        (parse_stmt_fetch, bytes([COM_STMT_EXECUTE]) + b"\x00" * 8, LocalProtocolError),
    ],
)
def test_statement_command_errors(fn, payload, error):
    with pytest.raises(error):
        fn(payload)


@pytest.mark.parametrize(
    "build",
    [
        lambda: OkPacket(status=1 << 16).build(P41_TRACK),
        lambda: OkPacket(affected_rows=-1).build(P41_TRACK),
        lambda: ErrPacket(70000, "HY000", "m").build(),
        lambda: build_eof(warnings=1 << 16),
        lambda: PrepareOk(1 << 32, 0, 0).build(),
        lambda: ColumnDef("def", "", "", "", "c", "c", 45, 1 << 32, 253, 0, 0).build(),
        lambda: ColumnDef("def", "", "", "", "c", "c", 45, 1, 256, 0, 0).build(),
    ],
)
def test_out_of_range_fields_are_local_errors(build):
    with pytest.raises(LocalProtocolError):
        build()
