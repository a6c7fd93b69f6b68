"""Connection-phase packets: greeting, SSLRequest, handshake response, auth.

Layouts (all integers little-endian), as measured against MariaDB 10.11 and
five client stacks (libmariadb, libmysqlclient, PyMySQL, mysql-connector pure and C):

* HandshakeV10: ``0x0a``, version NUL, ``conn_id<4>``, ``auth[0:8]``, ``0x00``,
  ``caps_lo<2>``, ``collation<1>``, ``status<2>``, ``caps_hi<2>``,
  ``auth_len<1>``, 6 reserved, ``mariadb_ext_caps<4>``, ``auth[8:]`` + NUL,
  plugin NUL.
* SSLRequest: ``caps<4> max_packet<4> collation<1>`` + 23 filler bytes whose
  last 4 are MariaDB extended caps (32 bytes in all).
* HandshakeResponse41: the SSLRequest fields, then username NUL, auth
  response, [database NUL], [plugin NUL], [connect attrs].

The MariaDB extended-caps word only counts when ``CLIENT_MYSQL`` (bit 0) is
clear, so parsers report 0 when it is set and builders write zeros then.
Strings are decoded with :func:`decode_str` (lossless UTF-8).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ._wire import (
    decode_str,
    encode_str,
    lenenc_bytes,
    local_errors,
    read_fixed,
    read_int,
    read_lenenc_bytes,
    read_lenenc_int,
    read_nul_str,
)
from .constants.capabilities import (
    CLIENT_CONNECT_ATTRS,
    CLIENT_CONNECT_WITH_DB,
    CLIENT_MYSQL,
    CLIENT_PLUGIN_AUTH,
    CLIENT_PLUGIN_AUTH_LENENC_DATA,
    CLIENT_PROTOCOL_41,
    CLIENT_SECURE_CONNECTION,
    CLIENT_SSL,
)
from .constants.packet_headers import AUTH_MORE_DATA_HEADER, AUTH_SWITCH_HEADER
from .errors import LocalProtocolError, RemoteProtocolError

__all__ = [
    "SSL_REQUEST_LEN",
    "HandshakeResponse41",
    "HandshakeV10",
    "build_auth_more_data",
    "build_auth_switch",
    "build_ssl_request",
    "is_ssl_request",
    "parse_auth_more_data",
    "parse_auth_switch",
    "parse_ssl_request",
]

_MARIADB_PREFIX = "5.5.5-"
SSL_REQUEST_LEN = 32


def _ext_caps(caps: int, ext: int) -> bytes:
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
                _ext_caps(caps, self.mariadb_ext_caps),
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


def is_ssl_request(payload: bytes, caps: int | None = None) -> bool:
    """True if ``payload`` is an SSLRequest (32 bytes with CLIENT_SSL).

    ``caps`` defaults to the capability word in the first 4 bytes. A full
    HandshakeResponse41 is never 32 bytes (it has at least a username NUL).
    """
    if len(payload) != SSL_REQUEST_LEN:
        return False
    if caps is None:
        caps = int.from_bytes(payload[:4], "little")
    return bool(caps & CLIENT_SSL)


def parse_ssl_request(payload: bytes) -> tuple[int, int, int]:
    """Decode an SSLRequest; return ``(caps, max_packet, collation)``."""
    if len(payload) != SSL_REQUEST_LEN:
        raise RemoteProtocolError(f"SSLRequest must be 32 bytes, got {len(payload)}")
    caps = int.from_bytes(payload[0:4], "little")
    if not caps & CLIENT_SSL:
        raise RemoteProtocolError("SSLRequest without CLIENT_SSL")
    return caps, int.from_bytes(payload[4:8], "little"), payload[8]


@local_errors
def build_ssl_request(caps: int, max_packet: int, collation: int, mariadb_ext_caps: int = 0) -> bytes:
    """Encode an SSLRequest (for the upstream leg); CLIENT_SSL is added to ``caps``."""
    caps |= CLIENT_SSL
    return (
        caps.to_bytes(4, "little")
        + max_packet.to_bytes(4, "little")
        + bytes((collation,))
        + b"\x00" * 19
        + _ext_caps(caps, mariadb_ext_caps)
    )


@dataclass(frozen=True, slots=True)
class HandshakeResponse41:
    """The client's handshake response (CLIENT_PROTOCOL_41 layout only).

    Optional fields follow the flags in :attr:`capabilities`: ``database`` is
    present iff CONNECT_WITH_DB, ``auth_plugin`` iff PLUGIN_AUTH, ``attrs`` iff
    CONNECT_ATTRS. A flag whose field the client left out parses as ``None``
    (or ``{}``) rather than failing, as several real clients do that.
    """

    capabilities: int
    max_packet: int
    collation: int
    username: str
    auth_response: bytes
    database: str | None = None
    auth_plugin: str | None = None
    attrs: dict[str, str] = field(default_factory=dict)
    mariadb_ext_caps: int = 0

    @classmethod
    def parse(cls, payload: bytes) -> HandshakeResponse41:
        """Decode a HandshakeResponse41; raise RemoteProtocolError if malformed."""
        caps, pos = read_int(payload, 0, 4)
        if not caps & CLIENT_PROTOCOL_41:
            raise RemoteProtocolError("HandshakeResponse320 (no CLIENT_PROTOCOL_41) is not supported")
        max_packet, pos = read_int(payload, pos, 4)
        collation, pos = read_int(payload, pos, 1)
        ext, pos = read_int(payload, pos + 19, 4)
        user, pos = read_nul_str(payload, pos)
        if caps & CLIENT_PLUGIN_AUTH_LENENC_DATA:
            auth, pos = read_lenenc_bytes(payload, pos)
        elif caps & CLIENT_SECURE_CONNECTION:
            n, pos = read_int(payload, pos, 1)
            auth, pos = read_fixed(payload, pos, n)
        else:
            auth, pos = read_nul_str(payload, pos)
        database = plugin = None
        if caps & CLIENT_CONNECT_WITH_DB and pos < len(payload):
            raw, pos = read_nul_str(payload, pos)
            database = decode_str(raw)
        if caps & CLIENT_PLUGIN_AUTH and pos < len(payload):
            raw, pos = read_nul_str(payload, pos)
            plugin = decode_str(raw)
        attrs: dict[str, str] = {}
        if caps & CLIENT_CONNECT_ATTRS and pos < len(payload):
            attrs, pos = _parse_attrs(payload, pos)
        if pos != len(payload):
            raise RemoteProtocolError("trailing bytes in handshake response")
        return cls(
            capabilities=caps,
            max_packet=max_packet,
            collation=collation,
            username=decode_str(user),
            auth_response=auth,
            database=database,
            auth_plugin=plugin,
            attrs=attrs,
            mariadb_ext_caps=0 if caps & CLIENT_MYSQL else ext,
        )

    @local_errors
    def build(self) -> bytes:
        """Encode, honouring this response's own capability flags."""
        caps = self.capabilities
        if not caps & CLIENT_PROTOCOL_41:
            raise LocalProtocolError("HandshakeResponse41 needs CLIENT_PROTOCOL_41")
        parts = [
            caps.to_bytes(4, "little"),
            self.max_packet.to_bytes(4, "little"),
            bytes((self.collation,)),
            b"\x00" * 19,
            _ext_caps(caps, self.mariadb_ext_caps),
            encode_str(self.username),
            b"\x00",
        ]
        auth = self.auth_response
        if caps & CLIENT_PLUGIN_AUTH_LENENC_DATA:
            parts.append(lenenc_bytes(auth))
        elif caps & CLIENT_SECURE_CONNECTION:
            if len(auth) > 255:
                raise LocalProtocolError("auth response > 255 bytes needs PLUGIN_AUTH_LENENC_DATA")
            parts += (bytes((len(auth),)), auth)
        else:
            if 0 in auth:
                raise LocalProtocolError("NUL in auth response without SECURE_CONNECTION")
            parts += (auth, b"\x00")
        if caps & CLIENT_CONNECT_WITH_DB:
            parts += (encode_str(self.database or ""), b"\x00")
        if caps & CLIENT_PLUGIN_AUTH:
            parts += (encode_str(self.auth_plugin or ""), b"\x00")
        if caps & CLIENT_CONNECT_ATTRS:
            body = b"".join(lenenc_bytes(encode_str(k)) + lenenc_bytes(encode_str(v)) for k, v in self.attrs.items())
            parts.append(lenenc_bytes(body))
        return b"".join(parts)


def _parse_attrs(payload: bytes, pos: int) -> tuple[dict[str, str], int]:
    total, pos = read_lenenc_int(payload, pos)
    end = pos + total
    if end > len(payload):
        raise RemoteProtocolError("truncated connect attributes")
    attrs: dict[str, str] = {}
    while pos < end:
        key, pos = read_lenenc_bytes(payload, pos)
        value, pos = read_lenenc_bytes(payload, pos)
        if pos > end:
            raise RemoteProtocolError("connect attribute overruns its block")
        attrs[decode_str(key)] = decode_str(value)
    return attrs, end


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
