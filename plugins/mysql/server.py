"""Client leg, connection phase: the bastion is the MySQL server the user's client sees.

Order is security-critical: greeting -> the client MUST send SSLRequest -> TLS -> only
then the handshake response and any secret. Without TLS the client gets ERR 3159 before
anything is asked. Authentication runs ``caching_sha2_password`` *full* authentication
(``0x01 0x04``), so the client sends its password — the bastion token — in clear inside
TLS; every current stack supports this (libmariadb, libmysqlclient, PyMySQL, mysql-connector,
the JDBC drivers, go-sql-driver).

Older drivers speak only ``mysql_native_password`` (Node ``mysql`` 2.x). A listener that
lists it in ``auth_plugins`` accepts a handshake response made with it: the 20-byte
scramble is checked against the token's stored SHA1(SHA1(token)) (see
:meth:`bastion.state.tokens.TokenStore.verify_native`); TLS stays mandatory. Otherwise
such a client is switched to ``caching_sha2_password`` as before.
"""

from __future__ import annotations

import secrets
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from plugins.mysql.codec import (
    ADVERTISED_CAPS,
    CLIENT_PLUGIN_AUTH,
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

if TYPE_CHECKING:
    from bastion.state.tokens import TokenInfo

PLUGIN = "caching_sha2_password"
NATIVE_PLUGIN = "mysql_native_password"
AUTH_PLUGINS = (PLUGIN, NATIVE_PLUGIN)
"""What ``auth_plugins`` may list; ``caching_sha2_password`` is the greeting's plugin
and the fallback, so it must be listed."""

CLEAR_PLUGIN = "mysql_clear_password"
CLEAR_PASSWORD_CLIENTS = frozenset({"MySQL Connector/J"})
"""Clients (connect attribute ``_client_name``) switched to ``mysql_clear_password``.
MySQL Connector/J parses the ``5.5.5-`` version as 5.5.5, and below 5.5.16 it reads
the AuthMoreData marker byte as auth data, so its caching_sha2 plugin rejects ``0x01
0x04`` ("Unknown server response after fast auth"). TLS is already up at this point,
and Connector/J refuses clear-text plugins without it."""

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
    """The token in clear (empty for ``mysql_native_password``: see ``scramble``)."""
    seq: int
    """Sequence id for our next packet (the final OK or ERR)."""
    tls_version: str
    plugin: str = PLUGIN
    """The auth plugin the client proved its token with."""
    salt: bytes = b""
    scramble: bytes = b""
    """The client's ``mysql_native_password`` answer to ``salt`` (when ``plugin`` is that)."""


class TokenVerifier(Protocol):
    def verify(self, token: str) -> TokenInfo | None: ...

    def verify_native(self, salt: bytes, scramble: bytes, user: str | None = None) -> TokenInfo | None: ...


def auth_plugins(options: Mapping[str, Any]) -> frozenset[str]:
    """The listener's ``auth_plugins`` option (validated by :func:`validate_auth_plugins`)."""
    return frozenset(options.get("auth_plugins", (PLUGIN,)))


def validate_auth_plugins(options: Mapping[str, Any]) -> list[str]:
    value = options.get("auth_plugins", [PLUGIN])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or PLUGIN not in value:
        return [f"auth_plugins must be a list including {PLUGIN} (allowed: {', '.join(AUTH_PLUGINS)})"]
    return [f"auth_plugins: unknown plugin {v!r} (allowed: {', '.join(AUTH_PLUGINS)})"
            for v in value if v not in AUTH_PLUGINS]


NATIVE_REFUSED = ("access denied: invalid, expired or revoked bastion token (with mysql_native_password, "
                  "tokens issued before this bastion supported it cannot be used: issue a new token)")


def verify_token(hello: ClientHello, tokens: TokenVerifier, claimed_user: str = "") -> TokenInfo | None:
    """The token's info, or None (unknown, expired, revoked); for ``mysql_native_password``
    raise LoginRefused with a message that says which tokens that plugin cannot use."""
    if hello.plugin != NATIVE_PLUGIN:
        return tokens.verify(hello.password.decode("utf-8", errors="replace"))
    info = tokens.verify_native(hello.salt, hello.scramble, claimed_user or None)
    if info is None:
        raise LoginRefused(err(1045, "28000", f"bastion: {NATIVE_REFUSED}"), hello.seq,
                           "invalid token (mysql_native_password)")
    return info


def err(code: int, state: str, message: str) -> ErrPacket:
    return ErrPacket(code, state, message)


def greet(conn: PacketConn, tls_context: ssl.SSLContext, server_version: str, timeout: float, conn_id: int,
          plugins: frozenset[str] = frozenset({PLUGIN})) -> ClientHello:
    """Run the connection phase up to (not including) the final OK; raise LoginRefused.
    ``conn_id``: the id the greeting gives out (unique across processes and nodes:
    bastion.state.connections); ``plugins``: the listener's ``auth_plugins`` (see the
    module docstring)."""
    salt = _salt()
    greeting = HandshakeV10(server_version=server_version, connection_id=conn_id, auth_data=salt,
                            capabilities=ADVERTISED_CAPS, collation=45, status=SERVER_STATUS_AUTOCOMMIT,
                            auth_plugin=PLUGIN)
    conn.send(greeting.build(), 0)
    seq, payload = conn.read_exact(timeout)
    if not is_ssl_request(payload):
        # Never ask for a secret in clear: refuse before any auth exchange (some clients send
        # the password in clear for caching_sha2 without TLS).
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
    if NATIVE_PLUGIN in plugins and _client_plugin(response) == NATIVE_PLUGIN \
            and response.attrs.get("_client_name") not in CLEAR_PASSWORD_CLIENTS:
        # Verified against the stored double SHA1 later (verify_token); TLS is already up.
        scramble, seq = _native_scramble(conn, response, salt, seq, timeout)
        return ClientHello(conn_id, response, effective, b"", seq + 1, conn.tls_version, NATIVE_PLUGIN, salt,
                           scramble)
    password, seq = _full_auth(conn, response, salt, seq, timeout)
    return ClientHello(conn_id, response, effective, password, seq + 1, conn.tls_version, salt=salt)


def _native_scramble(conn: PacketConn, response: HandshakeResponse41, salt: bytes, seq: int,
                     timeout: float) -> tuple[bytes, int]:
    """The client's mysql_native_password answer to ``salt``; returns (scramble, seq of its packet).

    libmariadb with ``--default-auth=mysql_native_password`` answers a greeting that names
    another plugin with an empty response and waits for an AuthSwitchRequest carrying the
    salt (as MySQL servers send); clients without CLIENT_PLUGIN_AUTH cannot be switched,
    so an empty answer from them stays empty (and fails)."""
    if response.auth_response or not response.capabilities & CLIENT_PLUGIN_AUTH:
        return response.auth_response, seq
    conn.send(build_auth_switch(NATIVE_PLUGIN, salt + b"\0"), seq + 1)
    seq, scramble = conn.read(timeout)
    return scramble, seq


def _client_plugin(response: HandshakeResponse41) -> str:
    """The plugin the client's auth response was made with: the one it names, else
    (no CLIENT_PLUGIN_AUTH, e.g. Node ``mysql`` 2.x) the 4.1 protocol's native one."""
    if response.capabilities & CLIENT_PLUGIN_AUTH and response.auth_plugin:
        return response.auth_plugin
    return NATIVE_PLUGIN


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
