"""COM_STMT_EXECUTE parameters and COM_STMT_SEND_LONG_DATA: decoded as the server reads them."""

from __future__ import annotations

import struct

import pytest

from plugins.mysql.codec import (
    MYSQL_TYPE_BLOB,
    MYSQL_TYPE_DATE,
    MYSQL_TYPE_DATETIME,
    MYSQL_TYPE_DOUBLE,
    MYSQL_TYPE_FLOAT,
    MYSQL_TYPE_LONG,
    MYSQL_TYPE_LONGLONG,
    MYSQL_TYPE_NEWDECIMAL,
    MYSQL_TYPE_NULL,
    MYSQL_TYPE_SHORT,
    MYSQL_TYPE_STRING,
    MYSQL_TYPE_TIME,
    MYSQL_TYPE_TINY,
    MYSQL_TYPE_VAR_STRING,
    MYSQL_TYPE_YEAR,
    LocalProtocolError,
    Param,
    RemoteProtocolError,
    build_send_long_data,
    build_stmt_execute,
    parse_execute_params,
    parse_send_long_data,
)

HEAD = b"\x17" + struct.pack("<IBI", 7, 0, 1)


def test_a_packet_written_by_hand_decodes_field_by_field() -> None:
    # two parameters: a signed TINY -2 and a VAR_STRING 'ab'; NULL bitmap 0; types bound
    payload = HEAD + b"\x00" + b"\x01" + bytes((MYSQL_TYPE_TINY, 0, MYSQL_TYPE_VAR_STRING, 0)) + b"\xfe" + b"\x02ab"
    decoded = parse_execute_params(payload, 2)
    assert decoded.stmt_id == 7
    assert decoded.types == ((MYSQL_TYPE_TINY, False), (MYSQL_TYPE_VAR_STRING, False))
    assert decoded.params == (Param(MYSQL_TYPE_TINY, False, b"\xfe"), Param(MYSQL_TYPE_VAR_STRING, False, b"ab"))


LONG_TEXT = "é" * 200  # a lenenc length past 250: the 0xfc prefix
CASES = [
    ("tiny signed", Param(MYSQL_TYPE_TINY, False, b"\x80")),
    ("tiny unsigned", Param(MYSQL_TYPE_TINY, True, b"\xff")),
    ("short", Param(MYSQL_TYPE_SHORT, False, struct.pack("<h", -300))),
    ("year", Param(MYSQL_TYPE_YEAR, True, struct.pack("<H", 2026))),
    ("long", Param(MYSQL_TYPE_LONG, False, struct.pack("<i", -70000))),
    ("longlong unsigned", Param(MYSQL_TYPE_LONGLONG, True, struct.pack("<Q", 2**64 - 1))),
    ("float", Param(MYSQL_TYPE_FLOAT, False, struct.pack("<f", 1.5))),
    ("double", Param(MYSQL_TYPE_DOUBLE, False, struct.pack("<d", -2.25))),
    ("decimal", Param(MYSQL_TYPE_NEWDECIMAL, False, b"-12.3400")),
    ("utf8 string", Param(MYSQL_TYPE_STRING, False, LONG_TEXT.encode())),
    ("binary", Param(MYSQL_TYPE_BLOB, False, bytes(range(256)))),
    ("empty string", Param(MYSQL_TYPE_VAR_STRING, False, b"")),
    ("date", Param(MYSQL_TYPE_DATE, False, struct.pack("<HBB", 2026, 12, 4))),
    ("zero date", Param(MYSQL_TYPE_DATETIME, False, b"")),
    ("datetime", Param(MYSQL_TYPE_DATETIME, False, struct.pack("<HBBBBB", 2026, 12, 4, 19, 15, 7))),
    ("datetime micro", Param(MYSQL_TYPE_DATETIME, False, struct.pack("<HBBBBBI", 2026, 12, 4, 19, 15, 7, 12))),
    ("time", Param(MYSQL_TYPE_TIME, False, struct.pack("<BIBBB", 1, 2, 3, 4, 5))),
    ("time micro", Param(MYSQL_TYPE_TIME, False, struct.pack("<BIBBBI", 0, 0, 3, 4, 5, 999999))),
    ("null", Param(MYSQL_TYPE_LONG, False, None)),
    ("null typed null", Param(MYSQL_TYPE_NULL, False, None)),
]


@pytest.mark.parametrize(("name", "param"), CASES, ids=[c[0] for c in CASES])
def test_each_type_round_trips_alone_and_among_the_others(name: str, param: Param) -> None:
    assert parse_execute_params(build_stmt_execute(7, [param]), 1).params == (param,)
    everything = [p for _, p in CASES]
    assert parse_execute_params(build_stmt_execute(7, everything), len(everything)).params == tuple(everything)


def test_an_execution_without_types_uses_the_previous_ones() -> None:
    params = [Param(MYSQL_TYPE_LONG, True, struct.pack("<I", 5)), Param(MYSQL_TYPE_STRING, False, b"x")]
    first = parse_execute_params(build_stmt_execute(7, params), 2)
    again = parse_execute_params(build_stmt_execute(7, params, bind=False), 2, first.types)
    assert again.params == tuple(params) and again.types == first.types
    with pytest.raises(RemoteProtocolError, match="none bound before"):
        parse_execute_params(build_stmt_execute(7, params, bind=False), 2)


def test_long_data_parameters_take_no_bytes_whatever_their_null_bit_says() -> None:
    params = [Param(MYSQL_TYPE_LONG, False, struct.pack("<i", 1)), Param(MYSQL_TYPE_BLOB, False, b"", long_data=True),
              Param(MYSQL_TYPE_STRING, False, b"tail")]
    payload = bytearray(build_stmt_execute(7, params))
    payload[10] |= 0b010  # a client may leave the long-data parameter's NULL bit set
    decoded = parse_execute_params(bytes(payload), 3, long_data={1: b"sent apart"})
    assert [p.value for p in decoded.params] == [struct.pack("<i", 1), b"sent apart", b"tail"]
    assert decoded.params[1].long_data


@pytest.mark.parametrize(("payload", "n", "message"), [
    (HEAD[:9], 0, "truncated COM_STMT_EXECUTE"),
    (HEAD, 1, "NULL bitmap"),
    (HEAD + b"\x00\x01" + bytes((MYSQL_TYPE_LONG,)), 1, "parameter types"),
    (HEAD + b"\x00\x01" + bytes((MYSQL_TYPE_LONG, 0)) + b"\x01\x00", 1, "truncated parameter value"),
    (HEAD + b"\x00\x01" + bytes((MYSQL_TYPE_STRING, 0)) + b"\x05ab", 1, "truncated parameter value"),
    (HEAD + b"\x00\x01" + bytes((MYSQL_TYPE_STRING, 0)) + b"\xff", 1, "length prefix"),
    (HEAD + b"\x00\x01" + bytes((MYSQL_TYPE_DATE, 0)) + b"\x04\x01", 1, "truncated parameter value"),
    (HEAD + b"\x00\x01" + bytes((MYSQL_TYPE_TINY, 0)) + b"\x01\x02", 1, "bytes after its parameters"),
    (HEAD + b"\x00\x01" + bytes((MYSQL_TYPE_STRING, 0)), 1, "truncated parameter value"),
])
def test_malformed_parameters_are_refused(payload: bytes, n: int, message: str) -> None:
    with pytest.raises(RemoteProtocolError, match=message):
        parse_execute_params(payload, n)


def test_a_statement_without_parameters_ignores_what_follows_the_header() -> None:
    assert parse_execute_params(HEAD, 0).params == ()


def test_send_long_data() -> None:
    payload = build_send_long_data(7, 2, b"\x00chunk")
    assert parse_send_long_data(payload) == (7, 2, b"\x00chunk")
    with pytest.raises(RemoteProtocolError):
        parse_send_long_data(payload[:6])
    with pytest.raises(LocalProtocolError):
        parse_send_long_data(b"\x17" + payload[1:])
