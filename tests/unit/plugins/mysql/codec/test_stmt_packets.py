"""Prepared-statement packets: COM_STMT_PREPARE_OK and the COM_STMT_* command headers."""

from __future__ import annotations

import pytest

from plugins.mysql.codec import (
    COM_QUERY,
    COM_STMT_CLOSE,
    COM_STMT_EXECUTE,
    COM_STMT_FETCH,
    COM_STMT_RESET,
    COM_STMT_SEND_LONG_DATA,
    LocalProtocolError,
    PrepareOk,
    RemoteProtocolError,
    parse_stmt_execute,
    parse_stmt_fetch,
    parse_stmt_id,
)

from . import captured


def first(name: str) -> bytes:
    return captured.payloads(getattr(captured, name))[0]


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
        lambda: PrepareOk(1 << 32, 0, 0).build(),
    ],
)
def test_out_of_range_fields_are_local_errors(build):
    with pytest.raises(LocalProtocolError):
        build()
