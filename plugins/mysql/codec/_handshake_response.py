"""The client's connection-phase packets: SSLRequest and HandshakeResponse41.

Layouts (all integers little-endian), as measured against MariaDB 10.11 and five
client stacks (libmariadb, libmysqlclient, PyMySQL, mysql-connector pure and C):

* SSLRequest: ``caps<4> max_packet<4> collation<1>`` + 23 filler bytes whose
  last 4 are MariaDB extended caps (32 bytes in all).
* HandshakeResponse41: the SSLRequest fields, then username NUL, auth
  response, [database NUL], [plugin NUL], [connect attrs].

The MariaDB extended-caps word only counts when ``CLIENT_MYSQL`` (bit 0) is
clear (see :func:`._greeting.ext_caps`). Strings are decoded with
:func:`decode_str` (lossless UTF-8).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ._greeting import ext_caps
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
from .errors import LocalProtocolError, RemoteProtocolError

__all__ = [
    "SSL_REQUEST_LEN",
    "HandshakeResponse41",
    "build_ssl_request",
    "is_ssl_request",
    "parse_ssl_request",
]

SSL_REQUEST_LEN = 32


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
        + ext_caps(caps, mariadb_ext_caps)
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
            ext_caps(caps, self.mariadb_ext_caps),
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
