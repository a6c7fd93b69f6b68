"""Result-set metadata: the column-count packet and ColumnDefinition41."""

from __future__ import annotations

from dataclasses import dataclass

from ._wire import decode_str, encode_str, lenenc_bytes, lenenc_int, local_errors, read_lenenc_bytes, read_lenenc_int
from .errors import LocalProtocolError, RemoteProtocolError

__all__ = ["ColumnDef", "build_column_count", "parse_column_count"]


@dataclass(slots=True)
class ColumnDef:
    """ColumnDefinition41, decoded, with the original bytes kept in ``raw``.

    ``raw`` lets the relay forward an untouched definition byte-for-byte (and
    keeps COM_FIELD_LIST's trailing default value); :meth:`with_length` patches
    only ``column_length`` in it. A def made by hand has ``raw == b""``.
    """

    catalog: str
    schema: str
    table: str
    org_table: str
    name: str
    org_name: str
    charset: int
    length: int
    type: int
    flags: int
    decimals: int
    raw: bytes = b""
    #: Offset in ``raw`` of the fixed fields (after the 0x0c length byte).
    fixed_offset: int = -1

    @classmethod
    def parse(cls, payload: bytes) -> ColumnDef:
        """Decode a column definition; raise RemoteProtocolError if malformed."""
        names: list[str] = []
        pos = 0
        for _ in range(6):
            raw, pos = read_lenenc_bytes(payload, pos)
            names.append(decode_str(raw))
        fixed_len, pos = read_lenenc_int(payload, pos)
        if fixed_len < 12 or pos + fixed_len > len(payload):
            raise RemoteProtocolError("bad fixed-length block in column definition")
        p = pos
        catalog, schema, table, org_table, name, org_name = names
        return cls(
            catalog=catalog,
            schema=schema,
            table=table,
            org_table=org_table,
            name=name,
            org_name=org_name,
            charset=payload[p] | payload[p + 1] << 8,
            length=int.from_bytes(payload[p + 2 : p + 6], "little"),
            type=payload[p + 6],
            flags=payload[p + 7] | payload[p + 8] << 8,
            decimals=payload[p + 9],
            raw=bytes(payload),
            fixed_offset=p,
        )

    def with_length(self, new_length: int) -> bytes:
        """The packet re-encoded with ``column_length = new_length``, all else identical."""
        if not 0 <= new_length <= 0xFFFFFFFF:
            raise LocalProtocolError("column_length must fit in 4 bytes")
        if not self.raw:
            return ColumnDef.build(_replace_length(self, new_length))
        p = self.fixed_offset + 2
        return self.raw[:p] + new_length.to_bytes(4, "little") + self.raw[p + 4 :]

    @local_errors
    def build(self) -> bytes:
        """Encode from the fields (ignores ``raw``); catalog is normally ``def``."""
        names = (self.catalog, self.schema, self.table, self.org_table, self.name, self.org_name)
        return b"".join(
            (
                *(lenenc_bytes(encode_str(n)) for n in names),
                b"\x0c",
                self.charset.to_bytes(2, "little"),
                self.length.to_bytes(4, "little"),
                bytes((self.type,)),
                self.flags.to_bytes(2, "little"),
                bytes((self.decimals,)),
                b"\x00\x00",
            )
        )


def _replace_length(col: ColumnDef, new_length: int) -> ColumnDef:
    names = (col.catalog, col.schema, col.table, col.org_table, col.name, col.org_name)
    return ColumnDef(*names, col.charset, new_length, col.type, col.flags, col.decimals)


def build_column_count(n: int) -> bytes:
    """The packet that opens a result set: lenenc column count."""
    return lenenc_int(n)


def parse_column_count(payload: bytes) -> int:
    """Decode a column-count packet (the whole payload is one lenenc int > 0)."""
    n, pos = read_lenenc_int(payload, 0)
    if pos != len(payload) or n == 0:
        raise RemoteProtocolError("malformed column-count packet")
    return n
