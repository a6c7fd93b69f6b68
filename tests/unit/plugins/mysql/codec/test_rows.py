from __future__ import annotations

import pytest

from plugins.mysql.codec import (
    MYSQL_TYPE_BLOB,
    MYSQL_TYPE_DATE,
    MYSQL_TYPE_DATETIME,
    MYSQL_TYPE_DOUBLE,
    MYSQL_TYPE_LONG,
    MYSQL_TYPE_LONGLONG,
    MYSQL_TYPE_NEWDECIMAL,
    MYSQL_TYPE_SHORT,
    MYSQL_TYPE_TIME,
    MYSQL_TYPE_TINY,
    MYSQL_TYPE_VAR_STRING,
    MYSQL_TYPE_YEAR,
    ColumnDef,
    LocalProtocolError,
    RemoteProtocolError,
    build_binary_row,
    build_text_row,
    is_row_terminator,
    parse_binary_row,
    parse_text_row,
    per_value,
    rewrite_binary_row,
    rewrite_binary_rows,
    rewrite_text_row,
    rewrite_text_rows,
    split_packets,
)

from . import captured


def star(value: bytes) -> bytes:
    return b"*" * len(value)


def upper(value: bytes) -> bytes:
    return value.upper()


def section(name: str, binary_header: bool = False) -> tuple[list[ColumnDef], list[bytes]]:
    """Column defs and rows of a captured single-result response."""
    payloads = captured.payloads(getattr(captured, name))
    n = payloads[0][0]
    cols = [ColumnDef.parse(p) for p in payloads[1 : 1 + n]]
    rest = payloads[1 + n :]
    if rest and rest[0][:1] == b"\xfe" and len(rest[0]) == 5:
        rest = rest[1:]  # EOF after column defs
    return cols, rest[:-1]


# --- text rows ----------------------------------------------------------------------
def test_captured_text_rows():
    cols, rows = section("EOF_QUERY_ALLTYPES")
    assert len(cols) == 14
    first, second = (parse_text_row(r, ncols=14) for r in rows)
    assert first[:4] == [b"1", b"one", None, b"2024-01-02"]
    assert first[10] == b"2024-01-02 03:04:05.123456" and first[12] == b'{"a":1}'
    assert second[:3] == [b"2", b"two", b"x"] and second[3:] == [None] * 11
    assert build_text_row(first) == rows[0] and build_text_row(second) == rows[1]


def test_captured_long_values_use_fc_and_fd_prefixes():
    _, rows = section("EOF_QUERY_LONG_VALUE")
    assert rows[0][:1] == b"\xfc"
    values = parse_text_row(rows[0])
    assert values == [b"a" * 300, b"b" * 70000]
    assert rows[0][303:304] == b"\xfd"


@pytest.mark.parametrize(
    ("wire", "values"),
    [
        ("fb", [None]),
        ("fbfbfb", [None, None, None]),
        ("00", [b""]),
        ("0161fb00", [b"a", None, b""]),
        ("fc0100" + "61", [b"a"]),  # non-minimal prefixes are legal
        ("fd010000" + "61", [b"a"]),
        ("fe0100000000000000" + "61", [b"a"]),
    ],
)
def test_parse_text_row_table(wire, values):
    assert parse_text_row(bytes.fromhex(wire)) == values


@pytest.mark.parametrize(
    "wire", ["02", "0161ff", "fc01", "fd0100", "fe01", "fe0200000000000000" + "61", "026161" + "05"]
)
def test_parse_text_row_malformed(wire):
    with pytest.raises(RemoteProtocolError):
        parse_text_row(bytes.fromhex(wire))


def test_parse_text_row_column_count_check():
    with pytest.raises(RemoteProtocolError):
        parse_text_row(b"\x01a\x01b", ncols=3)


def test_rewrite_text_row_unchanged_returns_same_object():
    row = build_text_row([b"1", b"ALREADY", None])
    assert rewrite_text_row(row, {1: upper, 2: upper}) is row
    assert rewrite_text_row(row, {}) is row
    assert rewrite_text_row(row, {7: star}) is row  # index past the row


@pytest.mark.parametrize(
    ("values", "maskers", "expected"),
    [
        ([b"1", b"4111111111111111", b"x"], {1: star}, [b"1", b"*" * 16, b"x"]),
        ([b"a", None, b"c"], {1: star, 2: upper}, [b"a", None, b"C"]),
        ([b"a" * 250, b"t"], {0: lambda v: v + b"b"}, [b"a" * 250 + b"b", b"t"]),  # prefix grows 1 -> 3
        ([b"a" * 251, b"t"], {0: lambda v: v[:3]}, [b"aaa", b"t"]),  # prefix shrinks 3 -> 1
        ([b"k" * 70000], {0: lambda v: b"m"}, [b"m"]),  # fd prefix -> 1 byte
        ([b"x", b"y", b"z", b"w"], {0: upper, 3: upper}, [b"X", b"y", b"z", b"W"]),
        ([b"x"], {0: lambda v: b""}, [b""]),
    ],
)
def test_rewrite_text_row_table(values, maskers, expected):
    row = build_text_row(values)
    out = rewrite_text_row(row, maskers)
    assert out == build_text_row(expected)
    assert parse_text_row(out) == expected


def test_rewrite_text_row_never_calls_masker_for_null():
    calls = []
    row = build_text_row([None, b"v"])
    rewrite_text_row(row, {0: lambda v: calls.append(v) or v, 1: lambda v: calls.append(v) or v})
    assert calls == [b"v"]


def test_rewrite_text_row_captured_row_keeps_other_bytes():
    _, rows = section("EOF_QUERY_ALLTYPES")
    out = rewrite_text_row(rows[0], {1: star, 12: star})
    before, after = parse_text_row(rows[0]), parse_text_row(out)
    assert after[1] == b"***" and after[12] == b"*" * 7
    assert [v for i, v in enumerate(after) if i not in (1, 12)] == [v for i, v in enumerate(before) if i not in (1, 12)]
    assert len(out) == len(rows[0])


@pytest.mark.parametrize("wire", ["0161" + "05", "fc01", "0161fe01"])
def test_rewrite_text_row_truncated(wire):
    with pytest.raises(RemoteProtocolError):
        rewrite_text_row(bytes.fromhex(wire), {1: star})


# --- binary rows ---------------------------------------------------------------------
def test_captured_binary_rows():
    cols, rows = section("EOF_EXECUTE")
    types = [c.type for c in cols]
    first, second = (parse_binary_row(r, types) for r in rows)
    assert first[0] == (1).to_bytes(4, "little") and first[1] == b"one" and first[2] is None
    assert first[3] == bytes.fromhex("e8070102")  # DATE 2024-01-02, length prefix 4 stripped
    assert first[7] == b"\xff" and first[8] == (300).to_bytes(2, "little")
    assert first[9] == (1234567890123).to_bytes(8, "little")
    assert first[5] == b"12.34" and first[12] == b'{"a":1}'
    assert second[2] == b"x" and second[3:] == [None] * 11
    assert build_binary_row(first, types) == rows[0]
    assert build_binary_row(second, types) == rows[1]


@pytest.mark.parametrize("ncols", [1, 6, 7, 8, 9, 10, 14, 15, 16, 17, 30])
@pytest.mark.parametrize("pattern", ["all-null", "none-null", "odd-null", "last-null"])
def test_null_bitmap_offsets(ncols, pattern):
    types = [MYSQL_TYPE_VAR_STRING if i % 3 else MYSQL_TYPE_LONG for i in range(ncols)]
    is_null = {
        "all-null": lambda i: True,
        "none-null": lambda i: False,
        "odd-null": lambda i: i % 2 == 1,
        "last-null": lambda i: i == ncols - 1,
    }[pattern]
    values = [
        None if is_null(i) else (i.to_bytes(4, "little") if t == MYSQL_TYPE_LONG else b"s%d" % i)
        for i, t in enumerate(types)
    ]
    row = build_binary_row(values, types)
    nbytes = (ncols + 9) // 8
    assert row[0] == 0 and len(row) >= 1 + nbytes
    bitmap = int.from_bytes(row[1 : 1 + nbytes], "little")
    for i in range(ncols):
        assert bool(bitmap >> (i + 2) & 1) == is_null(i)
    assert bitmap & 0b11 == 0  # the two offset bits stay clear
    assert parse_binary_row(row, types) == values
    masked = rewrite_binary_row(row, types, {i: star for i, t in enumerate(types) if t != MYSQL_TYPE_LONG})
    expected = [v if v is None or t == MYSQL_TYPE_LONG else star(v) for v, t in zip(values, types, strict=True)]
    assert parse_binary_row(masked, types) == expected


@pytest.mark.parametrize(
    ("ncols", "bitmap_hex"),
    [(1, "04"), (6, "fc"), (7, "fc01"), (9, "fc07"), (10, "fc0f"), (14, "fcff"), (15, "fcff01"), (17, "fcff07")],
)
def test_all_null_bitmap_bytes(ncols, bitmap_hex):
    """The exact bitmap for an all-NULL row: bits 2..ncols+1 set, (ncols + 9) // 8 bytes."""
    row = build_binary_row([None] * ncols, [MYSQL_TYPE_LONG] * ncols)
    assert row.hex() == "00" + bitmap_hex


@pytest.mark.parametrize(
    ("types", "values"),
    [
        ([MYSQL_TYPE_TINY, MYSQL_TYPE_SHORT, MYSQL_TYPE_YEAR], [b"\x01", b"\x02\x00", b"\xe8\x07"]),
        ([MYSQL_TYPE_LONGLONG, MYSQL_TYPE_DOUBLE], [b"\x00" * 8, b"\x01" * 8]),
        ([MYSQL_TYPE_DATE, MYSQL_TYPE_DATETIME, MYSQL_TYPE_TIME], [b"", b"\x01" * 11, b"\x00" * 8]),
        ([MYSQL_TYPE_NEWDECIMAL, MYSQL_TYPE_BLOB], [b"-1.50", b"z" * 300]),
    ],
)
def test_binary_row_round_trip_by_type(types, values):
    assert parse_binary_row(build_binary_row(values, types), types) == values


@pytest.mark.parametrize(
    ("wire", "types"),
    [
        ("", [MYSQL_TYPE_LONG]),
        ("01" + "00" + "01000000", [MYSQL_TYPE_LONG]),  # header must be 0x00
        ("00", [MYSQL_TYPE_LONG]),  # bitmap missing
        ("00" + "00" + "010000", [MYSQL_TYPE_LONG]),  # short int
        ("00" + "00" + "0100000000", [MYSQL_TYPE_LONG]),  # trailing byte
        ("00" + "00" + "04e807", [MYSQL_TYPE_DATE]),  # temporal shorter than its prefix
        ("00" + "00" + "0561", [MYSQL_TYPE_VAR_STRING]),
        ("00" + "00" + "ff", [MYSQL_TYPE_VAR_STRING]),
        ("00" + "00", [MYSQL_TYPE_DATE]),
    ],
)
def test_parse_binary_row_malformed(wire, types):
    with pytest.raises(RemoteProtocolError):
        parse_binary_row(bytes.fromhex(wire), types)


def test_rewrite_binary_row_captured():
    cols, rows = section("EOF_EXECUTE")
    types = [c.type for c in cols]
    out = rewrite_binary_row(rows[0], types, {1: star, 2: star, 6: lambda v: b"<<MASKED:" + v + b">>"})
    values = parse_binary_row(out, types)
    expected = parse_binary_row(rows[0], types)
    expected[1], expected[6] = b"***", b"<<MASKED:blob>>"
    assert values == expected
    assert parse_binary_row(rewrite_binary_row(rows[1], types, {1: upper}), types)[1] == b"TWO"


def test_rewrite_binary_row_unchanged_returns_same_object():
    cols, rows = section("EOF_EXECUTE")
    types = [c.type for c in cols]
    assert rewrite_binary_row(rows[0], types, {1: lambda v: v}) is rows[0]
    assert rewrite_binary_row(rows[1], types, {13: star}) is rows[1]  # NULL value: untouched
    assert rewrite_binary_row(rows[0], types, {}) is rows[0]


@pytest.mark.parametrize("index", [0, 3, 4, 7, 10, 99, -1])
def test_rewrite_binary_row_refuses_non_string_columns(index):
    cols, rows = section("EOF_EXECUTE")
    with pytest.raises(LocalProtocolError):
        rewrite_binary_row(rows[0], [c.type for c in cols], {index: star})


def test_build_binary_row_misuse():
    with pytest.raises(LocalProtocolError):
        build_binary_row([b"\x01"], [MYSQL_TYPE_LONG])
    with pytest.raises(LocalProtocolError):
        build_binary_row([b"x", b"y"], [MYSQL_TYPE_VAR_STRING])


# --- the 0xfe ambiguity --------------------------------------------------------------
@pytest.mark.parametrize(
    ("size", "deprecate_eof", "terminator"),
    [
        (5, False, True),
        (8, False, True),
        (9, False, False),  # a row: 0xfe + 8-byte length
        (7, True, True),
        (100, True, True),  # OK with long info / session state
        (0xFFFFFE, True, True),
        (0xFFFFFF, True, False),  # needs ≥ 2**24 + 9 bytes to be a 0xfe-led row
        (0xFFFFFF + 10, True, False),
    ],
)
def test_is_row_terminator(size, deprecate_eof, terminator):
    payload = b"\xfe" + bytes(size - 1)
    assert is_row_terminator(payload, deprecate_eof) is terminator


@pytest.mark.parametrize("payload", [b"\x00\x00\x00\x02\x00\x00\x00", b"\xff\x01\x00", b"\x01a", b""])
def test_non_fe_is_never_a_row_terminator(payload):
    assert not is_row_terminator(payload, True) and not is_row_terminator(payload, False)


def test_big_fe_led_row_is_parsed_and_rewritten():
    value = b"a" * (1 << 24)
    row = build_text_row([value, b"tail"])
    assert row[:1] == b"\xfe" and not is_row_terminator(row, True)
    assert parse_text_row(row) == [value, b"tail"]
    assert rewrite_text_row(row, {1: upper})[-5:] == b"\x04TAIL"


# --- batches of rows: one mask call for many rows, same bytes as row by row --------------
def counting(maskers):
    """per_value(maskers), and the list of batch sizes it was called with."""
    sizes: list[int] = []
    inner = per_value(maskers)

    def mask(batch):
        sizes.append(len(next(iter(batch.values()))))
        inner(batch)
    return mask, sizes


@pytest.mark.parametrize("maskers", [{1: star}, {0: upper, 2: star}, {1: lambda v: v}, {13: star}, {20: star}])
def test_rewrite_text_rows_is_rewrite_text_row_per_row(maskers):
    cols, rows = section("EOF_QUERY_ALLTYPES")
    rows = [*rows, build_text_row([b"x" * 300, None, b"tail"])]  # a row of other widths, a 2-byte length prefix
    mask, sizes = counting(maskers)
    out = rewrite_text_rows(rows, frozenset(maskers), mask)
    assert out == [rewrite_text_row(row, maskers) for row in rows] and sizes == [len(rows)]
    assert all(new is old for new, old in zip(out, rows, strict=True) if new == old)


def test_rewrite_binary_rows_is_rewrite_binary_row_per_row():
    cols, rows = section("EOF_EXECUTE")
    types = [c.type for c in cols]
    maskers = {1: star, 6: lambda v: b"<<" + v + b">>", 13: star}
    mask, sizes = counting(maskers)
    out = rewrite_binary_rows(rows, types, frozenset(maskers), mask)
    assert out == [rewrite_binary_row(row, types, maskers) for row in rows] and sizes == [len(rows)]
    with pytest.raises(LocalProtocolError):
        rewrite_binary_rows(rows, types, frozenset({0}), mask)


def test_a_masker_cannot_turn_a_value_into_null():
    def to_null(batch):
        batch[0][0] = None
    with pytest.raises(TypeError):
        rewrite_text_rows([build_text_row([b"secret"])], frozenset({0}), to_null)


def test_split_packets():
    wire = b"\x02\x00\x00\x07ab" + b"\x00\x00\x00\x08" + b"\x01\x00\x00\x09c"
    assert split_packets(wire) == [(7, b"ab"), (8, b""), (9, b"c")]
    with pytest.raises(LocalProtocolError):
        split_packets(wire[:-1])
