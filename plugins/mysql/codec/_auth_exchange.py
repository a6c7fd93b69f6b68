"""Authentication exchange after the handshake: AuthSwitchRequest and AuthMoreData."""

from __future__ import annotations

from ._wire import decode_str, encode_str, read_nul_str
from .constants.packet_headers import AUTH_MORE_DATA_HEADER, AUTH_SWITCH_HEADER
from .errors import RemoteProtocolError

__all__ = ["build_auth_more_data", "build_auth_switch", "parse_auth_more_data", "parse_auth_switch"]


def build_auth_switch(plugin: str, data: bytes) -> bytes:
    """AuthSwitchRequest: ``0xfe plugin NUL data``.

    ``data`` goes out verbatim: servers conventionally end the scramble with
    a NUL (``salt + b"\\0"``), so pass it if the client expects it.
    """
    return b"\xfe" + encode_str(plugin) + b"\x00" + data


def parse_auth_switch(payload: bytes) -> tuple[str, bytes]:
    """Decode an AuthSwitchRequest into ``(plugin, data)`` (data verbatim)."""
    if not payload or payload[0] != AUTH_SWITCH_HEADER:
        raise RemoteProtocolError("not an AuthSwitchRequest")
    if len(payload) == 1:  # pre-4.1 "use the old password scramble"
        return "mysql_old_password", b""
    plugin, pos = read_nul_str(payload, 1)
    return decode_str(plugin), payload[pos:]


def build_auth_more_data(data: bytes) -> bytes:
    """AuthMoreData: ``0x01 data`` (e.g. ``b"\\x04"`` = perform full authentication)."""
    return b"\x01" + data


def parse_auth_more_data(payload: bytes) -> bytes:
    """Decode AuthMoreData and return the data after the ``0x01`` header."""
    if not payload or payload[0] != AUTH_MORE_DATA_HEADER:
        raise RemoteProtocolError("not an AuthMoreData packet")
    return payload[1:]
