"""Result-set sections of a response: columns, rows, terminators, multi-results, cursors,
LOCAL INFILE and COM_STMT_FETCH."""

from __future__ import annotations

import pytest

from plugins.mysql.codec import (
    COM_QUERY,
    COM_STMT_EXECUTE,
    COM_STMT_FETCH,
    SERVER_MORE_RESULTS_EXISTS,
    SERVER_STATUS_CURSOR_EXISTS,
    ColumnsEndItem,
    ErrItem,
    LocalInfileItem,
    OkItem,
    OkPacket,
    ResponseTracker,
    ResultEndItem,
    build_text_row,
)

from . import captured
from .conftest import CAPTURE_CAPS, CAPTURE_CAPS_DEP
from .tracking import DEP, ERR, OK, OK_MORE, P41, run, text_result


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
