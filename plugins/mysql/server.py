"""Client leg, connection phase: the bastion is the MySQL server the user's client sees.

Order is security-critical: greeting -> the client MUST send SSLRequest -> TLS -> only
then the handshake response and any secret. Without TLS the client gets ERR 3159 before
anything is asked. Authentication always runs ``caching_sha2_password`` *full*
authentication (``0x01 0x04``), so the client sends its password — the bastion token —
in clear inside TLS; every stack tested supports this (protocols.md D2).
"""

from __future__ import annotations

import itertools
import os
import secrets
import ssl
from dataclasses import dataclass

from plugins.mysql.codec import (
    ADVERTISED_CAPS,
    CLIENT_PROTOCOL_41,
    CLIENT_SSL,
    SERVER_STATUS_AUTOCOMMIT,
    ErrPacket,
    HandshakeResponse41,
    HandshakeV10,
    build_auth_more_data,
    build_auth_switch,
    is_ssl_request,
    parse_ssl_request,
)
from plugins.mysql.packetconn import PacketConn

PLUGIN = "caching_sha2_password"

CLEAR_PLUGIN = "mysql_clear_password"
CLEAR_PASSWORD_CLIENTS = frozenset({"MySQL Connector/J"})
"""Clients (connect attribute ``_client_name``) switched to ``mysql_clear_password``.
MySQL Connector/J parses the ``5.5.5-`` version as 5.5.5, and below 5.5.16 it reads
the AuthMoreData marker byte as auth data, so its caching_sha2 plugin rejects ``0x01
0x04`` ("Unknown server response after fast auth"). TLS is already up at this point,
and Connector/J refuses clear-text plugins without it."""

# A random base keeps ids of different bastion processes apart in practice.
_ids = itertools.count(int.from_bytes(os.urandom(2), "big") * 1000 + 1)


class LoginRefused(Exception):
    """Send ``err`` to the client and close; nothing was sent upstream."""

    def __init__(self, err: ErrPacket, seq: int, reason: str) -> None:
        super().__init__(reason)
        self.err = err
        self.seq = seq
        self.reason = reason


@dataclass
class ClientHello:
    """What the client told us during the connection phase."""

    connection_id: int
    response: HandshakeResponse41
    caps: int
    """Effective capabilities: what the client asked for, limited to what we offered."""
    password: bytes
    seq: int
    """Sequence id for our next packet (the final OK or ERR)."""
    tls_version: str


def next_connection_id() -> int:
    return next(_ids) & 0xFFFFFFFF


def err(code: int, state: str, message: str) -> ErrPacket:
    return ErrPacket(code, state, message)


def greet(conn: PacketConn, tls_context: ssl.SSLContext, server_version: str, timeout: float) -> ClientHello:
    """Run the connection phase up to (not including) the final OK; raise LoginRefused."""
    conn_id = next_connection_id()
    salt = _salt()
    greeting = HandshakeV10(server_version=server_version, connection_id=conn_id, auth_data=salt,
                            capabilities=ADVERTISED_CAPS, collation=45, status=SERVER_STATUS_AUTOCOMMIT,
                            auth_plugin=PLUGIN)
    conn.send(greeting.build(), 0)
    seq, payload = conn.read_exact(timeout)
    if not is_ssl_request(payload):
        # Never ask for a secret in clear: refuse before any auth exchange (D2).
        raise LoginRefused(err(3159, "08004", "bastion: TLS is required; connect with --ssl "
                                                "(ssl-mode=REQUIRED)"), seq + 1, "client did not start TLS")
    caps, _max_packet, _collation = parse_ssl_request(payload)
    if not caps & CLIENT_PROTOCOL_41:
        raise LoginRefused(err(1043, "08S01", "bastion: protocol 4.1 required"), seq + 1, "old protocol")
    try:
        conn.start_tls(tls_context, server_side=True)
    except (ssl.SSLError, OSError) as exc:
        raise LoginRefused(err(2026, "HY000", "bastion: TLS handshake failed"), seq + 1,
                           f"TLS handshake failed: {exc}") from exc
    seq, payload = conn.read(timeout)
    response = HandshakeResponse41.parse(payload)
    effective = response.capabilities & ADVERTISED_CAPS | CLIENT_SSL
    password, seq = _full_auth(conn, response, salt, seq, timeout)
    return ClientHello(conn_id, response, effective, password, seq + 1, conn.tls_version)


def _full_auth(conn: PacketConn, response: HandshakeResponse41, salt: bytes, seq: int,
               timeout: float) -> tuple[bytes, int]:
    """Get the clear-text password over TLS; returns (password, seq of its packet)."""
    scramble = response.auth_response
    if response.attrs.get("_client_name") in CLEAR_PASSWORD_CLIENTS and scramble:
        # caching_sha2 full auth cannot finish with these clients (see CLEAR_PASSWORD_CLIENTS):
        # switch them to mysql_clear_password, which sends the same secret over the same TLS.
        conn.send(build_auth_switch(CLEAR_PLUGIN, salt + b"\0"), seq + 1)
        seq, payload = conn.read(timeout)
        return (payload[:-1] if payload.endswith(b"\0") else payload), seq
    if response.auth_plugin != PLUGIN:
        # The client started with another plugin: switch it to ours (it answers with a scramble).
        conn.send(build_auth_switch(PLUGIN, salt + b"\0"), seq + 1)
        seq, scramble = conn.read(timeout)
    if not scramble:
        # An empty scramble means an empty password: clients then expect OK/ERR at once.
        return b"", seq
    conn.send(build_auth_more_data(b"\x04"), seq + 1)  # "perform full authentication"
    seq, payload = conn.read(timeout)
    password = payload[:-1] if payload.endswith(b"\0") else payload
    return password, seq


def _salt() -> bytes:
    # 20 printable, NUL-free bytes: some clients treat the scramble as a C string.
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&()*+,-./:;<=>?@[]^_{|}~"
    return bytes(secrets.choice(alphabet) for _ in range(20))
