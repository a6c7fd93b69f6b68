"""ResponseTracker: every captured response, commands without or with untrackable responses,
small answers, and how it fails."""

from __future__ import annotations

import pytest

from plugins.mysql.codec import (
    COM_CHANGE_USER,
    COM_FIELD_LIST,
    COM_INIT_DB,
    COM_PING,
    COM_QUERY,
    COM_QUIT,
    COM_SET_OPTION,
    COM_STATISTICS,
    COM_STMT_CLOSE,
    COM_STMT_EXECUTE,
    COM_STMT_FETCH,
    COM_STMT_PREPARE,
    COM_STMT_RESET,
    COM_STMT_SEND_LONG_DATA,
    ErrItem,
    ErrPacket,
    LocalProtocolError,
    PrepareOk,
    RemoteProtocolError,
    ResponseTracker,
    StatisticsItem,
    build_column_count,
    build_eof,
)

from . import captured
from .conftest import CAPTURE_CAPS, CAPTURE_CAPS_DEP
from .tracking import D14, ERR, OK, P41, col, run

CAPTURED_RESPONSES = [
    ("QUERY_SIMPLE", COM_QUERY, "CDDDERRT", "CDDDRRT"),
    ("QUERY_ALLTYPES", COM_QUERY, "C" + D14 + "ERRT", "C" + D14 + "RRT"),
    ("QUERY_CALL_MULTI", COM_QUERY, "CDERTCDDERTO", "CDRTCDDRTO"),
    ("QUERY_EMPTY", COM_QUERY, "CDET", "CDT"),
    ("QUERY_LONG_VALUE", COM_QUERY, "CDDERT", "CDDRT"),
    ("QUERY_ERR", COM_QUERY, "X", "X"),
    ("QUERY_DO", COM_QUERY, "O", "O"),
    ("QUERY_LOCAL_INFILE", COM_QUERY, "X", "X"),  # no CLIENT_LOCAL_FILES: error 4166
    ("QUERY_USE", COM_QUERY, "O", "O"),
    ("QUERY_SQL_MODE", COM_QUERY, "O", "O"),
    ("INIT_DB", COM_INIT_DB, "O", "O"),
    ("FIELD_LIST", COM_FIELD_LIST, D14 + "T", D14 + "T"),
    ("FIELD_LIST_ERR", COM_FIELD_LIST, "X", "X"),
    ("STATISTICS", COM_STATISTICS, "S", "S"),
    ("SET_OPTION_OFF", COM_SET_OPTION, "T", "T"),
    ("PING", COM_PING, "O", "O"),
    ("PREPARE", COM_STMT_PREPARE, "PAF" + D14 + "E", "PA" + D14),
    ("PREPARE_NOPARAMS_NOCOLS", COM_STMT_PREPARE, "P", "P"),
    ("PREPARE_ERR", COM_STMT_PREPARE, "X", "X"),
    ("EXECUTE", COM_STMT_EXECUTE, "C" + D14 + "ERRT", "C" + D14 + "RRT"),
    ("EXECUTE_NORESULT", COM_STMT_EXECUTE, "O", "O"),
    ("EXECUTE_CURSOR", COM_STMT_EXECUTE, "C" + D14 + "E", "C" + D14 + "E"),
    ("EXECUTE_UNKNOWN", COM_STMT_EXECUTE, "X", "X"),
    ("FETCH_1", COM_STMT_FETCH, "RT", "RT"),
    ("FETCH_10", COM_STMT_FETCH, "RT", "RT"),
    ("STMT_RESET", COM_STMT_RESET, "O", "O"),
]


@pytest.mark.parametrize("deprecate_eof", [False, True], ids=["eof", "deprecate-eof"])
@pytest.mark.parametrize(("name", "command", "eof_codes", "dep_codes"), CAPTURED_RESPONSES)
def test_captured_responses(name, command, eof_codes, dep_codes, deprecate_eof):
    prefix, caps, codes = ("DEP_", CAPTURE_CAPS_DEP, dep_codes) if deprecate_eof else ("EOF_", CAPTURE_CAPS, eof_codes)
    tracker = ResponseTracker(command, caps)
    assert run(tracker, captured.payloads(getattr(captured, prefix + name))) == codes
    assert tracker.binary is (command in (COM_STMT_EXECUTE, COM_STMT_FETCH))


@pytest.mark.parametrize("command", [COM_QUIT, COM_STMT_CLOSE, COM_STMT_SEND_LONG_DATA])
def test_commands_without_response_start_done(command):
    tracker = ResponseTracker(command, P41)
    assert tracker.done
    with pytest.raises(LocalProtocolError):
        tracker.feed(OK.build(P41))


def test_untrackable_command_is_refused():
    with pytest.raises(LocalProtocolError):
        ResponseTracker(COM_CHANGE_USER, P41)


def test_unknown_command_expects_ok_or_err():
    tracker = ResponseTracker(0x42, P41)
    assert isinstance(tracker.feed(ErrPacket(1047, "08S01", "Unknown command").build()), ErrItem)
    assert tracker.done


def test_statistics_and_set_option_variants():
    tracker = ResponseTracker(COM_STATISTICS, P41)
    assert tracker.feed(b"Uptime: 1") == StatisticsItem("Uptime: 1")
    tracker = ResponseTracker(COM_SET_OPTION, P41)
    assert isinstance(tracker.feed(ERR), ErrItem) and tracker.done


@pytest.mark.parametrize(
    ("command", "caps", "prefix", "bad"),
    [
        (COM_QUERY, P41, [], b""),  # empty packet
        (COM_QUERY, P41, [], b"\xfe\x00\x00\x02\x00"),  # EOF where a result starts
        (COM_QUERY, P41, [build_column_count(2), col("a")], build_eof()),  # EOF after 1 of 2 defs
        (COM_QUERY, P41, [build_column_count(1), col("a")], b"\x01x"),  # row where EOF belongs
        (COM_QUERY, P41, [build_column_count(1)], ERR),  # ERR among column defs
        (COM_PING, P41, [], b"\xfe\x00\x00\x02\x00"),
        (COM_PING, P41, [], b"\x01\x04"),
        (COM_STMT_PREPARE, P41, [], OK.build(P41)),  # an OK is not a PREPARE_OK
        (COM_STMT_PREPARE, P41, [PrepareOk(1, 0, 1).build(), col("?")], col("?")),  # EOF expected
        (COM_QUERY, P41, [b"\xfbfile"], b"\x01x"),  # after LOCAL INFILE only OK/ERR
        (COM_FIELD_LIST, P41, [], b"\x03de"),  # truncated column def
    ],
)
def test_unexpected_packets_raise_remote_then_tracker_is_dead(command, caps, prefix, bad):
    tracker = ResponseTracker(command, caps)
    for payload in prefix:
        tracker.feed(payload)
    with pytest.raises(RemoteProtocolError):
        tracker.feed(bad)
    assert tracker.state == "ERROR" and not tracker.done
    with pytest.raises(LocalProtocolError):
        tracker.feed(OK.build(caps))


def test_feeding_after_done_is_local_error():
    tracker = ResponseTracker(COM_PING, P41)
    tracker.feed(OK.build(P41))
    with pytest.raises(LocalProtocolError):
        tracker.feed(OK.build(P41))
