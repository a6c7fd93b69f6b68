"""COM_CHANGE_USER: a connection pool (PHP ``mysqli`` persistent links, Connector/J
``changeUser``) resets a connection it reuses, possibly for another user or target.

The bastion treats it as a new login on the same TLS connection: the client proves a
bastion token again (``caching_sha2_password`` full authentication, the secret inside
TLS), the access rules decide again, the old session ends and a new one starts. The
upstream connection is reset (``COM_RESET_CONNECTION``) and kept when target and account
are unchanged, replaced otherwise. A refused change ends the connection.
"""

from __future__ import annotations

from dataclasses import dataclass

from plugins.mysql.codec import (
    CLIENT_CONNECT_ATTRS,
    CLIENT_PLUGIN_AUTH,
    CLIENT_SECURE_CONNECTION,
    RemoteProtocolError,
    build_auth_more_data,
    build_auth_switch,
    read_lenenc_bytes,
    read_lenenc_int,
)
from plugins.mysql.packetconn import Conn
from plugins.mysql.server import CLEAR_PASSWORD_CLIENTS, CLEAR_PLUGIN, PLUGIN, _salt


class ChangeUser(Exception):  # noqa: N818 - a request, not an error
    """Raised by the command handler: the session loop performs the change."""

    def __init__(self, seq: int, payload: bytes) -> None:
        super().__init__("COM_CHANGE_USER")
        self.seq = seq
        self.payload = payload


@dataclass(frozen=True, slots=True)
class ChangeRequest:
    """What a COM_CHANGE_USER packet asks for."""

    username: str
    database: str
    collation: int
    attrs: dict[str, str]


def _nul(payload: bytes, pos: int) -> tuple[bytes, int]:
    end = payload.find(b"\0", pos)
    if end < 0:
        raise RemoteProtocolError("COM_CHANGE_USER: unterminated string")
    return payload[pos:end], end + 1


def parse(payload: bytes, caps: int, default_collation: int) -> ChangeRequest:
    """Decode a COM_CHANGE_USER packet (0x11 user NUL auth db NUL [charset<2> [plugin NUL [attrs]]])."""
    user, pos = _nul(payload, 1)
    if caps & CLIENT_SECURE_CONNECTION:
        if pos >= len(payload):
            raise RemoteProtocolError("COM_CHANGE_USER: truncated")
        pos += 1 + payload[pos]
    else:
        _, pos = _nul(payload, pos)
    database, pos = _nul(payload, pos)
    collation = default_collation
    if pos + 2 <= len(payload):
        collation = payload[pos] | payload[pos + 1] << 8
        pos += 2
    if caps & CLIENT_PLUGIN_AUTH and pos < len(payload):
        _, pos = _nul(payload, pos)
    attrs: dict[str, str] = {}
    if caps & CLIENT_CONNECT_ATTRS and pos < len(payload):
        size, pos = read_lenenc_int(payload, pos)
        end = pos + size
        while pos < end:
            key, pos = read_lenenc_bytes(payload, pos)
            value, pos = read_lenenc_bytes(payload, pos)
            attrs[key.decode("utf-8", "replace")] = value.decode("utf-8", "replace")
    if pos > len(payload):
        raise RemoteProtocolError("COM_CHANGE_USER: truncated")
    return ChangeRequest(user.decode("utf-8", "replace"), database.decode("utf-8", "replace"), collation, attrs)


def full_auth(conn: Conn, seq: int, timeout: float, client_name: str = "") -> tuple[bytes, int]:
    """Ask for the token again: switch to caching_sha2_password with a fresh salt, then
    "perform full authentication" (the client answers in clear inside TLS). Clients that
    cannot finish that exchange with our server version (``client_name`` in
    CLEAR_PASSWORD_CLIENTS: MySQL Connector/J's ``changeUser``) are switched to
    mysql_clear_password instead, as at login. Returns the token and the sequence id for
    the final OK/ERR."""
    if client_name in CLEAR_PASSWORD_CLIENTS:
        conn.send(build_auth_switch(CLEAR_PLUGIN, _salt() + b"\0"), seq + 1)
        seq, payload = conn.read(timeout)
        return (payload[:-1] if payload.endswith(b"\0") else payload), seq + 1
    conn.send(build_auth_switch(PLUGIN, _salt() + b"\0"), seq + 1)
    seq, scramble = conn.read(timeout)
    if not scramble:
        return b"", seq + 1
    conn.send(build_auth_more_data(b"\x04"), seq + 1)
    seq, payload = conn.read(timeout)
    return (payload[:-1] if payload.endswith(b"\0") else payload), seq + 1
