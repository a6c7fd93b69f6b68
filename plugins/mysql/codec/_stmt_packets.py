"""Prepared-statement packets: COM_STMT_PREPARE_OK and the fixed headers of the
``COM_STMT_*`` client commands (payloads passed **with** their leading command byte)."""

from __future__ import annotations

from dataclasses import dataclass

from ._wire import local_errors
from .constants import COM_STMT_CLOSE, COM_STMT_EXECUTE, COM_STMT_FETCH, COM_STMT_RESET, COM_STMT_SEND_LONG_DATA
from .errors import LocalProtocolError, RemoteProtocolError

__all__ = ["PrepareOk", "parse_stmt_execute", "parse_stmt_fetch", "parse_stmt_id"]


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
