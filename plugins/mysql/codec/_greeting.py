"""The server greeting, HandshakeV10 (connection phase, first packet).

Layout (all integers little-endian), as measured against MariaDB 10.11 and five
client stacks (libmariadb, libmysqlclient, PyMySQL, mysql-connector pure and C):
``0x0a``, version NUL, ``conn_id<4>``, ``auth[0:8]``, ``0x00``, ``caps_lo<2>``,
``collation<1>``, ``status<2>``, ``caps_hi<2>``, ``auth_len<1>``, 6 reserved,
``mariadb_ext_caps<4>``, ``auth[8:]`` + NUL, plugin NUL.

The MariaDB extended-caps word only counts when ``CLIENT_MYSQL`` (bit 0) is
clear, so parsers report 0 when it is set and builders write zeros then
(:func:`ext_caps`, shared with the client's packets). Strings are decoded with
:func:`decode_str` (lossless UTF-8).
"""

from __future__ import annotations

from dataclasses import dataclass

from ._wire import decode_str, encode_str, local_errors, read_fixed, read_int, read_nul_str
from .constants.capabilities import CLIENT_MYSQL, CLIENT_PLUGIN_AUTH, CLIENT_SECURE_CONNECTION
from .errors import LocalProtocolError, RemoteProtocolError

__all__ = ["HandshakeV10"]

_MARIADB_PREFIX = "5.5.5-"


def ext_caps(caps: int, ext: int) -> bytes:
    """The MariaDB extended-caps word as written: zeros when ``CLIENT_MYSQL`` is set."""
    return (0 if caps & CLIENT_MYSQL else ext).to_bytes(4, "little")


@dataclass(frozen=True, slots=True)
class HandshakeV10:
    """The server greeting (protocol version 10).

    ``auth_data`` is the 20-byte scramble (without the trailing NUL).
    ``server_version`` is kept verbatim, including MariaDB's ``5.5.5-`` prefix;
    :attr:`display_version` strips it.
    """

    server_version: str
    connection_id: int
    auth_data: bytes
    capabilities: int
    collation: int
    status: int
    auth_plugin: str
    mariadb_ext_caps: int = 0

    @property
    def display_version(self) -> str:
        """The version without the ``5.5.5-`` MariaDB replication-compat prefix."""
        v = self.server_version
        if v.startswith(_MARIADB_PREFIX) and "mariadb" in v.lower():
            return v[len(_MARIADB_PREFIX) :]
        return v

    @local_errors
    def build(self) -> bytes:
        """Encode the greeting payload (layout in the module docstring)."""
        auth = self.auth_data
        if len(auth) != 20:
            raise LocalProtocolError("HandshakeV10 auth_data must be 20 bytes")
        caps = self.capabilities
        return b"".join(
            (
                b"\x0a",
                encode_str(self.server_version),
                b"\x00",
                self.connection_id.to_bytes(4, "little"),
                auth[:8],
                b"\x00",
                (caps & 0xFFFF).to_bytes(2, "little"),
                bytes((self.collation,)),
                self.status.to_bytes(2, "little"),
                (caps >> 16 & 0xFFFF).to_bytes(2, "little"),
                bytes((len(auth) + 1,)),
                b"\x00" * 6,
                ext_caps(caps, self.mariadb_ext_caps),
                auth[8:],
                b"\x00",
                encode_str(self.auth_plugin),
                b"\x00",
            )
        )

    @classmethod
    def parse(cls, payload: bytes) -> HandshakeV10:
        """Decode an upstream greeting; raise RemoteProtocolError if malformed."""
        if not payload or payload[0] != 0x0A:
            raise RemoteProtocolError("not a HandshakeV10 greeting")
        version, pos = read_nul_str(payload, 1)
        conn_id, pos = read_int(payload, pos, 4)
        auth1, pos = read_fixed(payload, pos, 8)
        pos += 1  # filler
        caps, pos = read_int(payload, pos, 2)
        collation = status = auth_len = ext = 0
        auth2, plugin = b"", b""
        if pos < len(payload):  # pre-4.1 servers stop after caps_lo
            collation, pos = read_int(payload, pos, 1)
            status, pos = read_int(payload, pos, 2)
            caps_hi, pos = read_int(payload, pos, 2)
            caps |= caps_hi << 16
            auth_len, pos = read_int(payload, pos, 1)
            pos += 6
            ext, pos = read_int(payload, pos, 4)
            if caps & CLIENT_MYSQL:
                ext = 0
            if caps & CLIENT_SECURE_CONNECTION:
                # max(13, auth_len - 8) bytes; the last is a NUL terminator.
                auth2, pos = read_fixed(payload, pos, max(13, auth_len - 8))
                auth2 = auth2[:-1]
            if caps & CLIENT_PLUGIN_AUTH:
                end = payload.find(0, pos)
                # Some servers omit the final NUL (MySQL bug #59453).
                plugin = payload[pos:] if end < 0 else payload[pos:end]
        elif pos != len(payload):
            raise RemoteProtocolError("trailing bytes in greeting")
        return cls(
            server_version=decode_str(version),
            connection_id=conn_id,
            auth_data=auth1 + auth2,
            capabilities=caps,
            collation=collation,
            status=status,
            auth_plugin=decode_str(plugin),
            mariadb_ext_caps=ext,
        )
