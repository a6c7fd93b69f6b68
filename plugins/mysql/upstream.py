"""The bastion's own client connection to the target (upstream leg).

The bastion logs in with the vaulted credential; the user's client never sees it.
Supported upstream auth plugins: ``mysql_native_password``, ``caching_sha2_password``
(fast path, full auth over TLS, or RSA without TLS) and MariaDB ``client_ed25519``,
with auth-switch and more-data rounds handled as a loop. TLS per target:
``disabled``/``preferred``/``required``/``verify-full``. Capabilities requested are
what the client negotiated, minus everything the bastion never negotiates (codec.constants ADVERTISED_CAPS).
"""

from __future__ import annotations

import os
import socket
import ssl
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pymysql import _auth as pyauth

from bastion.core.types import Target
from plugins.mysql.codec import (
    ADVERTISED_CAPS,
    CLIENT_CONNECT_ATTRS,
    CLIENT_CONNECT_WITH_DB,
    CLIENT_DEPRECATE_EOF,
    CLIENT_LONG_PASSWORD,
    CLIENT_PLUGIN_AUTH,
    CLIENT_PROTOCOL_41,
    CLIENT_SECURE_CONNECTION,
    CLIENT_SESSION_TRACK,
    CLIENT_SSL,
    ErrPacket,
    HandshakeResponse41,
    HandshakeV10,
    OkPacket,
    build_ssl_request,
    parse_auth_switch,
    strip_forbidden_caps,
)
from plugins.mysql.ephemeral import live_login
from plugins.mysql.packetconn import Conn, PacketConn

if TYPE_CHECKING:
    from bastion.context import PluginContext

BASE_CAPS = CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH | CLIENT_LONG_PASSWORD


class UpstreamError(Exception):
    """The target refused or broke the login; ``err`` holds its ERR packet if any."""

    def __init__(self, message: str, err: ErrPacket | None = None) -> None:
        super().__init__(message)
        self.err = err


@dataclass
class Upstream:
    conn: Conn
    greeting: HandshakeV10
    caps: int
    """Capabilities in effect on the upstream leg."""
    thread_id: int
    status: int
    tls: bool


def connect(target: Target, user: str, password: bytes, *, client_caps: int, database: str | None,
            collation: int, attrs: dict[str, str], timeout: float = 10.0) -> Upstream:
    """Dial ``target`` and log in as ``user``; raises UpstreamError or OSError."""
    sock = socket.create_connection((target.host, target.port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conn = PacketConn(sock, name=f"upstream {target.name}")
    try:
        _seq, payload = conn.read(timeout)
        if payload[:1] == b"\xff":
            raise UpstreamError("target refused the connection", ErrPacket.parse(payload, 0))
        greeting = HandshakeV10.parse(payload)
        caps = _caps(client_caps, greeting.capabilities, database)
        seq = 1
        tls = _want_tls(target, greeting.capabilities)
        if tls:
            caps |= CLIENT_SSL
            seq = conn.send(build_ssl_request(caps, 16 << 20, collation), seq)
            conn.start_tls(_client_context(target), server_side=False,
                           server_hostname=target.tls.server_name or target.host)
        plugin = greeting.auth_plugin or "mysql_native_password"
        response = HandshakeResponse41(
            capabilities=caps, max_packet=16 << 20, collation=collation, username=user,
            auth_response=_scramble(plugin, password, greeting.auth_data), database=database or None,
            auth_plugin=plugin, attrs=attrs)
        seq = conn.send(response.build(), seq)
        status = _auth_loop(conn, plugin, password, greeting.auth_data, tls, caps)
        conn.set_timeout(None)
        return Upstream(conn, greeting, caps, greeting.connection_id, status, tls)
    except BaseException:
        conn.close()
        raise


def _caps(client_caps: int, server_caps: int, database: str | None) -> int:
    caps = (strip_forbidden_caps(client_caps) & ADVERTISED_CAPS & ~CLIENT_SSL) | BASE_CAPS
    caps &= server_caps | CLIENT_LONG_PASSWORD
    caps |= CLIENT_CONNECT_ATTRS & server_caps
    if database:
        caps |= CLIENT_CONNECT_WITH_DB
    else:
        caps &= ~CLIENT_CONNECT_WITH_DB
    # These two change packet layouts; the relay forwards packets unchanged, so both legs
    # must agree (MariaDB >= 10.2 and MySQL >= 5.7 have both).
    missing = client_caps & ADVERTISED_CAPS & (CLIENT_DEPRECATE_EOF | CLIENT_SESSION_TRACK) & ~server_caps
    if missing:
        raise UpstreamError(f"target lacks capabilities the client negotiated (0x{missing:x})")
    return caps


def _want_tls(target: Target, server_caps: int) -> bool:
    mode = target.tls.mode
    if mode == "disabled":
        return False
    if server_caps & CLIENT_SSL:
        return True
    if mode == "preferred":
        return False
    raise UpstreamError(f"target {target.name} does not offer TLS but tls.mode is {mode}")


_CONTEXTS: dict[tuple[bool, str | None, float], ssl.SSLContext] = {}


def _client_context(target: Target) -> ssl.SSLContext:
    """One context per verification setting, kept: building one parses the CA store (the
    system one took 18 ms on the development VM), on the hub, for every session. The host
    name is checked per connection (``server_hostname``); a CA file that changed on disk
    gets a new context."""
    verify = target.tls.mode == "verify-full"
    ca_file = target.tls.ca_file if verify else None
    try:
        stamp = os.stat(ca_file).st_mtime if ca_file else 0.0
    except OSError:
        stamp = -1.0  # missing: building the context below fails with the clear error
    key = (verify, ca_file, stamp)
    ctx = _CONTEXTS.get(key)
    if ctx is None:
        ctx = _new_context(verify, ca_file)
        _CONTEXTS[key] = ctx
    return ctx


def _new_context(verify: bool, ca_file: str | None) -> ssl.SSLContext:
    if verify:
        ctx = ssl.create_default_context(cafile=ca_file)
        ctx.check_hostname = True
        return ctx
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # "required"/"preferred": encrypted, not authenticated (documented)
    return ctx


def _scramble(plugin: str, password: bytes, salt: bytes) -> bytes:
    if not password:
        return b""
    if plugin == "mysql_native_password":
        return bytes(pyauth.scramble_native_password(password, salt[:20]))
    if plugin == "caching_sha2_password":
        return bytes(pyauth.scramble_caching_sha2(password, salt[:20]))
    if plugin == "client_ed25519":
        return bytes(pyauth.ed25519_password(password, salt[:32]))
    if plugin == "mysql_clear_password":
        return password + b"\0"
    raise UpstreamError(f"target asks for unsupported auth plugin {plugin!r}")


def _auth_loop(conn: PacketConn, plugin: str, password: bytes, salt: bytes, tls: bool, caps: int) -> int:
    """Answer auth-switch and more-data rounds until OK; returns the server status."""
    for _ in range(8):
        seq, payload = conn.read(30)
        head = payload[:1]
        if head == b"\x00":
            return OkPacket.parse(payload, caps).status
        if head == b"\xff":
            raise UpstreamError("target refused the bastion's credential", ErrPacket.parse(payload, caps))
        if head == b"\xfe":
            plugin, salt = parse_auth_switch(payload)
            if plugin == "mysql_clear_password" and not tls:
                raise UpstreamError("target asks for a clear-text password without TLS; refused")
            conn.send(_scramble(plugin, password, salt), seq + 1)
        elif head == b"\x01" and plugin == "caching_sha2_password":
            _caching_sha2_more(conn, payload, seq, password, salt, tls)
        else:
            raise UpstreamError(f"unexpected packet 0x{payload[:1].hex()} during upstream login")
    raise UpstreamError("too many upstream authentication rounds")


def _caching_sha2_more(conn: PacketConn, payload: bytes, seq: int, password: bytes, salt: bytes,
                       tls: bool) -> None:
    if payload[1:2] == b"\x03":  # fast auth succeeded; the OK follows
        return
    if payload[1:2] != b"\x04":
        raise UpstreamError("unexpected caching_sha2_password message")
    if tls:
        conn.send(password + b"\0", seq + 1)
        return
    seq = conn.send(b"\x02", seq + 1)  # ask for the server's RSA public key
    seq, key = conn.read(30)
    conn.send(bytes(pyauth.sha2_rsa_encrypt(password, salt[:20], key[1:])), seq + 1)


def dial(ctx: PluginContext, target: Target, account: str, *, client_caps: int, database: str | None,
         collation: int, attrs: dict[str, str], login: tuple[str, bytes] | None = None) -> Upstream:
    """Log in to ``target`` as ``account`` with the vaulted credential, or with ``login``
    (a per-session user's name and password); ``account`` may also name a live per-session
    user of this process (a ``KILL`` from another connection of its session)."""
    login = login or live_login(target.name, account)
    if login is not None:
        user, password = login
    else:
        user = str(target.options.get("users", {}).get(account, account))
        password = ctx.vault.get(target.name, account).value
    timeout = float(target.options.get("connect_timeout", 10))
    return connect(target, user, password, client_caps=client_caps, database=database,
                   collation=collation, attrs=attrs, timeout=timeout)
