"""Helpers for the response-tracker tests: item codes, a feeding loop, hand-built packets."""

from __future__ import annotations

from plugins.mysql.codec import (
    MYSQL_TYPE_VAR_STRING,
    SERVER_MORE_RESULTS_EXISTS,
    ColumnCountItem,
    ColumnDef,
    ColumnDefItem,
    ColumnsEndItem,
    ErrItem,
    ErrPacket,
    LocalInfileItem,
    OkItem,
    OkPacket,
    ParamDefItem,
    ParamsEndItem,
    PrepareOkItem,
    ResponseTracker,
    ResultEndItem,
    RowItem,
    StatisticsItem,
    build_column_count,
    build_eof,
)

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
