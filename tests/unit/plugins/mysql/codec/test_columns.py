"""Result-set metadata: ColumnDefinition41 and the column-count packet."""

from __future__ import annotations

import pytest

from plugins.mysql.codec import (
    MYSQL_TYPE_LONG,
    MYSQL_TYPE_VAR_STRING,
    ColumnDef,
    LocalProtocolError,
    RemoteProtocolError,
    build_column_count,
    parse_column_count,
)

from . import captured


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


@pytest.mark.parametrize("n", [1, 14, 250, 251, 70000])
def test_column_count(n):
    assert parse_column_count(build_column_count(n)) == n


@pytest.mark.parametrize("wire", [b"", b"\x00", b"\x01\x00", b"\xfb", b"\xfc\x01"])
def test_column_count_malformed(wire):
    with pytest.raises(RemoteProtocolError):
        parse_column_count(wire)


@pytest.mark.parametrize(
    "build",
    [
        lambda: ColumnDef("def", "", "", "", "c", "c", 45, 1 << 32, 253, 0, 0).build(),
        lambda: ColumnDef("def", "", "", "", "c", "c", 45, 1, 256, 0, 0).build(),
    ],
)
def test_out_of_range_fields_are_local_errors(build):
    with pytest.raises(LocalProtocolError):
        build()
