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
    MYSQL_TYPE_VAR_STRING,
    SERVER_MORE_RESULTS_EXISTS,
    SERVER_STATUS_CURSOR_EXISTS,
    ColumnCountItem,
    ColumnDef,
    ColumnDefItem,
    ColumnsEndItem,
    ErrItem,
    ErrPacket,
    LocalInfileItem,
    LocalProtocolError,
    OkItem,
    OkPacket,
    ParamDefItem,
    ParamsEndItem,
    PrepareOk,
    PrepareOkItem,
    RemoteProtocolError,
    ResponseTracker,
    ResultEndItem,
    RowItem,
    StatisticsItem,
    build_column_count,
    build_eof,
    build_text_row,
)

from . import captured
from .conftest import CAPTURE_CAPS, CAPTURE_CAPS_DEP

CODES = {
    ColumnCountItem: "C",
    ColumnDefItem: "D",
    ColumnsEndItem: "E",
    RowItem: "R",
    ResultEndItem: "T",
    OkItem: "O",
    ErrItem: "X",
    PrepareOkItem: "P",
    ParamDefItem: "A",
    ParamsEndItem: "F",
    StatisticsItem: "S",
    LocalInfileItem: "I",
}
D14 = "D" * 14


def run(tracker: ResponseTracker, payloads: list[bytes]) -> str:
    """Feed every payload; check ``done`` flips exactly on the last one; return item codes."""
    codes = []
    for i, payload in enumerate(payloads):
        assert not tracker.done, f"done too early, before packet {i}"
        codes.append(CODES[type(tracker.feed(payload))])
    assert tracker.done
    return "".join(codes)


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


@pytest.mark.parametrize(
    ("name", "caps"), [("EOF_QUERY_CALL_MULTI", CAPTURE_CAPS), ("DEP_QUERY_CALL_MULTI", CAPTURE_CAPS_DEP)]
)
def test_captured_multi_results_more_flags(name, caps):
    tracker = ResponseTracker(COM_QUERY, caps)
    items = [tracker.feed(p) for p in captured.payloads(getattr(captured, name))]
    ends = [i for i in items if isinstance(i, ResultEndItem | OkItem)]
    assert [e.more for e in ends] == [True, True, False]
    assert all(e.status & SERVER_MORE_RESULTS_EXISTS for e in ends[:2] if isinstance(e, ResultEndItem))
    assert [c.name for c in tracker.columns] == ["b", "c"]  # the last result's defs


@pytest.mark.parametrize(
    ("name", "caps"), [("EOF_EXECUTE_CURSOR", CAPTURE_CAPS), ("DEP_EXECUTE_CURSOR", CAPTURE_CAPS_DEP)]
)
def test_captured_cursor_open_ends_execute(name, caps):
    tracker = ResponseTracker(COM_STMT_EXECUTE, caps)
    items = [tracker.feed(p) for p in captured.payloads(getattr(captured, name))]
    assert isinstance(items[-1], ColumnsEndItem) and items[-1].status & SERVER_STATUS_CURSOR_EXISTS
    assert tracker.done and len(tracker.columns) == 14


def test_captured_prepare_params_and_columns():
    tracker = ResponseTracker(COM_STMT_PREPARE, CAPTURE_CAPS)
    items = [tracker.feed(p) for p in captured.payloads(captured.EOF_PREPARE)]
    assert isinstance(items[0], PrepareOkItem) and items[0].prepare_ok.num_params == 1
    assert [i.index for i in items if isinstance(i, ColumnDefItem)] == list(range(14))
    assert len(tracker.params) == 1 and len(tracker.columns) == 14


# --- hand-built responses ---------------------------------------------------------------
def col(name: str) -> bytes:
    return ColumnDef("def", "db", "t", "t", name, name, 45, 80, MYSQL_TYPE_VAR_STRING, 0, 0).build()


P41 = CAPTURE_CAPS
DEP = CAPTURE_CAPS_DEP
OK = OkPacket(0, 0, 2, 0)
OK_MORE = OkPacket(1, 0, 2 | SERVER_MORE_RESULTS_EXISTS, 0)
ERR = ErrPacket(1317, "70100", "Query execution was interrupted").build()


def text_result(deprecate: bool, rows: list[bytes], status: int = 2) -> list[bytes]:
    out = [build_column_count(1), col("a")]
    if not deprecate:
        out.append(build_eof(0, 2))
    out += rows
    out.append(OkPacket(0, 0, status, 0).build(DEP, header=0xFE) if deprecate else build_eof(0, status))
    return out


@pytest.mark.parametrize("deprecate", [False, True])
def test_multi_results_with_ok_more(deprecate):
    caps = DEP if deprecate else P41
    more = 2 | SERVER_MORE_RESULTS_EXISTS
    payloads = (
        [OK_MORE.build(caps)]
        + text_result(deprecate, [b"\x01x"], status=more)
        + text_result(deprecate, [], status=more)
        + [OK.build(caps)]
    )
    expected = "O" + ("CDERT" if not deprecate else "CDRT") + ("CDET" if not deprecate else "CDT") + "O"
    assert run(ResponseTracker(COM_QUERY, caps), payloads) == expected


@pytest.mark.parametrize("deprecate", [False, True])
def test_rows_starting_with_00_and_fb_are_rows(deprecate):
    rows = [build_text_row([b""]), build_text_row([None]), build_text_row([b"\xff"])]
    payloads = text_result(deprecate, rows)
    assert run(ResponseTracker(COM_QUERY, DEP if deprecate else P41), payloads).count("R") == 3


def test_fe_led_row_under_classic_eof():
    # 0xfe + 8-byte length: a 9+ byte packet in the rows section is a row, not an EOF.
    row = b"\xfe" + (3).to_bytes(8, "little") + b"abc"
    assert run(ResponseTracker(COM_QUERY, P41), text_result(False, [row])) == "CDERT"


def test_fe_led_16mib_row_under_deprecate_eof():
    row = build_text_row([b"v" * (1 << 24)])
    assert row[0] == 0xFE
    assert run(ResponseTracker(COM_QUERY, DEP), text_result(True, [row, row])) == "CDRRT"


@pytest.mark.parametrize("deprecate", [False, True])
def test_err_in_the_middle_of_rows_ends_the_response(deprecate):
    payloads = text_result(deprecate, [b"\x01x"])[:-1] + [ERR]
    codes = run(ResponseTracker(COM_QUERY, DEP if deprecate else P41), payloads)
    assert codes.endswith("RX")


@pytest.mark.parametrize(
    ("nparams", "ncols", "deprecate", "codes"),
    [
        (0, 0, False, "P"),
        (0, 0, True, "P"),
        (2, 0, False, "PAAF"),
        (2, 0, True, "PAA"),
        (0, 2, False, "PDDE"),
        (0, 2, True, "PDD"),
        (1, 1, False, "PAFDE"),
        (1, 1, True, "PAD"),
    ],
)
def test_prepare_shapes(nparams, ncols, deprecate, codes):
    payloads = [PrepareOk(1, ncols, nparams).build()]
    payloads += [col("?")] * nparams + ([build_eof()] if nparams and not deprecate else [])
    payloads += [col("c")] * ncols + ([build_eof()] if ncols and not deprecate else [])
    tracker = ResponseTracker(COM_STMT_PREPARE, DEP if deprecate else P41)
    assert run(tracker, payloads) == codes
    assert len(tracker.params) == nparams and len(tracker.columns) == ncols


def test_prepare_expected_flag():
    tracker = ResponseTracker(COM_QUERY, P41, prepare_expected=True)
    assert run(tracker, [PrepareOk(1, 0, 0).build()]) == "P"


@pytest.mark.parametrize("reply", [OK.build(P41), ERR])
def test_local_infile_request_then_reply(reply):
    tracker = ResponseTracker(COM_QUERY, P41)
    item = tracker.feed(b"\xfb/etc/passwd")
    assert item == LocalInfileItem(b"/etc/passwd") and not tracker.done
    tracker.feed(reply)
    assert tracker.done


def test_fetch_error_and_terminator_status():
    tracker = ResponseTracker(COM_STMT_FETCH, P41)
    assert isinstance(tracker.feed(ERR), ErrItem) and tracker.done
    tracker = ResponseTracker(COM_STMT_FETCH, DEP)
    end = tracker.feed(OkPacket(0, 0, 0x80 | 0x40, 1).build(DEP, header=0xFE))
    assert end == ResultEndItem(0xC0, False, 1)


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
