"""OK, ERR and EOF packets: the generic command-phase answers and terminators.

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
    SERVER_SESSION_STATE_CHANGED,
)
from .errors import LocalProtocolError, RemoteProtocolError

__all__ = [
    "ErrPacket",
    "OkPacket",
    "build_eof",
    "is_eof",
    "is_err",
    "is_ok",
    "parse_eof",
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
