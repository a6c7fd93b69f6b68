"""Generic response packets and statement-command payloads.

OK, ERR, EOF, ColumnDefinition41, COM_STMT_PREPARE_OK, the column-count
packet, and the fixed headers of the ``COM_STMT_*`` client commands. Client
command payloads are always passed **with** their leading command byte.

Header-byte predicates (:func:`is_ok`, :func:`is_eof`, ...) look at one or two
bytes only; whether a 0x00 / 0xfe packet really is an OK / EOF depends on where
it appears in the response, which is :mod:`._response`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._wire import (
    decode_str,
    encode_str,
    lenenc_bytes,
    lenenc_int,
    local_errors,
    read_int,
    read_lenenc_bytes,
    read_lenenc_int,
)
from .constants import (
    CLIENT_PROTOCOL_41,
    CLIENT_SESSION_TRACK,
    CLIENT_TRANSACTIONS,
    COM_STMT_CLOSE,
    COM_STMT_EXECUTE,
    COM_STMT_FETCH,
    COM_STMT_RESET,
    COM_STMT_SEND_LONG_DATA,
    SERVER_SESSION_STATE_CHANGED,
)
from .errors import LocalProtocolError, RemoteProtocolError

__all__ = [
    "ColumnDef",
    "ErrPacket",
    "OkPacket",
    "PrepareOk",
    "build_column_count",
    "build_eof",
    "is_eof",
    "is_err",
    "is_ok",
    "parse_column_count",
    "parse_eof",
    "parse_stmt_execute",
    "parse_stmt_fetch",
    "parse_stmt_id",
    "status_of_terminator",
]


def is_ok(payload: bytes) -> bool:
    """True if the packet starts with the OK header 0x00."""
    return payload[:1] == b"\x00"


def is_err(payload: bytes) -> bool:
    """True if the packet starts with the ERR header 0xff."""
    return payload[:1] == b"\xff"


def is_eof(payload: bytes) -> bool:
    """True for a classic EOF packet: header 0xfe and shorter than 9 bytes."""
    return len(payload) < 9 and payload[:1] == b"\xfe"


@dataclass(frozen=True, slots=True)
class OkPacket:
    """OK packet (header 0x00, or 0xfe when it ends rows under DEPRECATE_EOF).

    With CLIENT_SESSION_TRACK, ``info`` is a lenenc string and
    ``session_state`` (raw, unparsed) follows when ``status`` has
    SERVER_SESSION_STATE_CHANGED; without it, ``info`` is the rest of the packet.
    """

    affected_rows: int = 0
    last_insert_id: int = 0
    status: int = 0
    warnings: int = 0
    info: bytes = b""
    session_state: bytes = b""

    @classmethod
    def parse(cls, payload: bytes, caps: int) -> OkPacket:
        """Decode an OK packet; raise RemoteProtocolError if malformed."""
        if not payload or payload[0] not in (0x00, 0xFE):
            raise RemoteProtocolError("not an OK packet")
        affected, pos = read_lenenc_int(payload, 1)
        last_id, pos = read_lenenc_int(payload, pos)
        status = warnings = 0
        if caps & CLIENT_PROTOCOL_41:
            status, pos = read_int(payload, pos, 2)
            warnings, pos = read_int(payload, pos, 2)
        elif caps & CLIENT_TRANSACTIONS:
            status, pos = read_int(payload, pos, 2)
        info = state = b""
        if caps & CLIENT_SESSION_TRACK:
            # Servers omit the (empty) info string when nothing follows it.
            if pos < len(payload):
                info, pos = read_lenenc_bytes(payload, pos)
            if status & SERVER_SESSION_STATE_CHANGED and pos < len(payload):
                state, pos = read_lenenc_bytes(payload, pos)
            if pos != len(payload):
                raise RemoteProtocolError("trailing bytes in OK packet")
        else:
            info = payload[pos:]
        return cls(affected, last_id, status, warnings, info, state)

    @local_errors
    def build(self, caps: int, header: int = 0x00) -> bytes:
        """Encode for a peer with capabilities ``caps``; header 0x00 or 0xfe."""
        if header not in (0x00, 0xFE):
            raise LocalProtocolError("OK header must be 0x00 or 0xfe")
        parts = [bytes((header,)), lenenc_int(self.affected_rows), lenenc_int(self.last_insert_id)]
        if caps & CLIENT_PROTOCOL_41:
            parts += (self.status.to_bytes(2, "little"), self.warnings.to_bytes(2, "little"))
        elif caps & CLIENT_TRANSACTIONS:
            parts.append(self.status.to_bytes(2, "little"))
        changed = self.status & SERVER_SESSION_STATE_CHANGED
        if self.session_state and not (changed and caps & CLIENT_SESSION_TRACK):
            raise LocalProtocolError("session_state needs SESSION_TRACK and SERVER_SESSION_STATE_CHANGED")
        if caps & CLIENT_SESSION_TRACK:
            if self.info or changed:
                parts.append(lenenc_bytes(self.info))
            if changed:
                parts.append(lenenc_bytes(self.session_state))
        else:
            parts.append(self.info)
        return b"".join(parts)


@dataclass(frozen=True, slots=True)
class ErrPacket:
    """ERR packet: ``0xff code<2> ['#' sqlstate<5>] message``.

    ``sqlstate`` is ``""`` when the marker is absent (pre-handshake errors,
    or peers without PROTOCOL_41); :meth:`build` then uses ``HY000``.
    """

    code: int
    sqlstate: str
    message: str

    @classmethod
    def parse(cls, payload: bytes, caps: int) -> ErrPacket:
        """Decode an ERR packet; raise RemoteProtocolError if malformed."""
        if not payload or payload[0] != 0xFF:
            raise RemoteProtocolError("not an ERR packet")
        code, pos = read_int(payload, 1, 2)
        if code == 0xFFFF:
            # MariaDB progress report: only sent with the (never negotiated) PROGRESS cap.
            raise RemoteProtocolError("unexpected MariaDB progress report")
        state = b""
        if caps & CLIENT_PROTOCOL_41 and payload[pos : pos + 1] == b"#":
            if len(payload) < pos + 6:
                raise RemoteProtocolError("truncated SQLSTATE in ERR packet")
            state, pos = payload[pos + 1 : pos + 6], pos + 6
        return cls(code, state.decode("latin-1"), decode_str(payload[pos:]))

    @local_errors
    def build(self, caps: int = CLIENT_PROTOCOL_41) -> bytes:
        """Encode; the ``#sqlstate`` marker is written only with PROTOCOL_41."""
        head = b"\xff" + self.code.to_bytes(2, "little")
        if caps & CLIENT_PROTOCOL_41:
            state = (self.sqlstate or "HY000").encode("ascii", "replace")
            if len(state) != 5:
                raise LocalProtocolError(f"SQLSTATE must be 5 characters, got {self.sqlstate!r}")
            head += b"#" + state
        return head + encode_str(self.message)


@local_errors
def build_eof(warnings: int = 0, status: int = 0) -> bytes:
    """Classic EOF packet: ``0xfe warnings<2> status<2>``."""
    return b"\xfe" + warnings.to_bytes(2, "little") + status.to_bytes(2, "little")


def parse_eof(payload: bytes) -> tuple[int, int]:
    """Decode a classic EOF packet into ``(warnings, status)`` (zeros for pre-4.1)."""
    if not is_eof(payload):
        raise RemoteProtocolError("not an EOF packet")
    if len(payload) == 1:
        return 0, 0
    if len(payload) != 5:
        raise RemoteProtocolError(f"EOF packet of {len(payload)} bytes")
    return int.from_bytes(payload[1:3], "little"), int.from_bytes(payload[3:5], "little")


def status_of_terminator(payload: bytes, caps: int) -> int:
    """Server status of a 0xfe terminator: a 5-byte EOF or an OK with header 0xfe.

    Decided by length, not by DEPRECATE_EOF, because MariaDB answers some
    commands (SET_OPTION, FIELD_LIST) with either form: a PROTOCOL_41 OK is
    never shorter than 7 bytes, an EOF is 5 (1 before 4.1).
    """
    if len(payload) in (1, 5):
        return parse_eof(payload)[1]
    return OkPacket.parse(payload, caps).status


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


@dataclass(frozen=True, slots=True)
class PrepareOk:
    """COM_STMT_PREPARE_OK: ``0x00 stmt_id<4> ncols<2> nparams<2> 0x00 warnings<2>``."""

    stmt_id: int
    num_columns: int
    num_params: int
    warnings: int = 0

    @classmethod
    def parse(cls, payload: bytes) -> PrepareOk:
        """Decode; raise RemoteProtocolError if malformed."""
        # MySQL may append a metadata_follows byte (only with the stripped
        # OPTIONAL_RESULTSET_METADATA cap), so accept 12 or 13 bytes.
        if len(payload) not in (12, 13) or payload[0] != 0x00:
            raise RemoteProtocolError("malformed COM_STMT_PREPARE_OK")
        return cls(
            int.from_bytes(payload[1:5], "little"),
            payload[5] | payload[6] << 8,
            payload[7] | payload[8] << 8,
            payload[10] | payload[11] << 8,
        )

    @local_errors
    def build(self) -> bytes:
        """Encode the 12-byte packet."""
        return (
            b"\x00"
            + self.stmt_id.to_bytes(4, "little")
            + self.num_columns.to_bytes(2, "little")
            + self.num_params.to_bytes(2, "little")
            + b"\x00"
            + self.warnings.to_bytes(2, "little")
        )


def build_column_count(n: int) -> bytes:
    """The packet that opens a result set: lenenc column count."""
    return lenenc_int(n)


def parse_column_count(payload: bytes) -> int:
    """Decode a column-count packet (the whole payload is one lenenc int > 0)."""
    n, pos = read_lenenc_int(payload, 0)
    if pos != len(payload) or n == 0:
        raise RemoteProtocolError("malformed column-count packet")
    return n


_STMT_ID_COMMANDS = frozenset(
    {COM_STMT_EXECUTE, COM_STMT_CLOSE, COM_STMT_RESET, COM_STMT_FETCH, COM_STMT_SEND_LONG_DATA}
)


def _check_command(payload: bytes, allowed: frozenset[int] | int) -> None:
    # A wrong command byte means our own dispatch is broken, hence Local.
    if not payload:
        raise RemoteProtocolError("empty command packet")
    ok = payload[0] in allowed if isinstance(allowed, frozenset) else payload[0] == allowed
    if not ok:
        raise LocalProtocolError(f"unexpected command byte 0x{payload[0]:02x}")


def parse_stmt_id(payload: bytes) -> int:
    """Statement id of COM_STMT_EXECUTE/CLOSE/RESET/FETCH/SEND_LONG_DATA (with command byte)."""
    _check_command(payload, _STMT_ID_COMMANDS)
    if len(payload) < 5:
        raise RemoteProtocolError("truncated statement id")
    return int.from_bytes(payload[1:5], "little")


def parse_stmt_execute(payload: bytes) -> tuple[int, int]:
    """``(stmt_id, flags)`` of a COM_STMT_EXECUTE (``flags & 1``: read-only cursor)."""
    _check_command(payload, COM_STMT_EXECUTE)
    if len(payload) < 10:  # cmd, stmt_id<4>, flags<1>, iterations<4>
        raise RemoteProtocolError("truncated COM_STMT_EXECUTE")
    return int.from_bytes(payload[1:5], "little"), payload[5]


def parse_stmt_fetch(payload: bytes) -> tuple[int, int]:
    """``(stmt_id, num_rows)`` of a COM_STMT_FETCH."""
    _check_command(payload, COM_STMT_FETCH)
    if len(payload) != 9:
        raise RemoteProtocolError("COM_STMT_FETCH must be 9 bytes")
    return int.from_bytes(payload[1:5], "little"), int.from_bytes(payload[5:9], "little")
