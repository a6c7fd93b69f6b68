"""MySQL protocol plugin: a terminating MySQL proxy real clients use unchanged.

Entry point ``bastion.protocols: mysql = plugins.mysql:plugin``. One greenlet per client
connection runs :meth:`MySQLPlugin.serve`: TLS-first connection phase with the user's
bastion token (``server``), access decision (pipeline ``Connect``), the bastion's own
upstream login with the vaulted credential (``upstream``), then the judged command
phase (``relay``/``commands``) until the client leaves.
"""

from __future__ import annotations

import dataclasses
import logging
import socket
import ssl
import time
from collections.abc import Mapping
from typing import Any

import gevent

from bastion.context import PluginContext
from bastion.core.selector import parse_username
from bastion.core.types import Session
from bastion.credentials import rotate as rotation
from bastion.runtime import busypoll
from bastion.runtime.tls import listener_context
from bastion.session import audit_refused, authorize
from bastion.state.throttle import keys as throttle_keys
from plugins.mysql import change_user, cluster, commands, ephemeral, executions
from plugins.mysql.change_user import ChangeUser
from plugins.mysql.codec import (
    CLIENT_PROTOCOL_41,
    COM_INIT_DB,
    COM_RESET_CONNECTION,
    ErrPacket,
    HandshakeResponse41,
    OkPacket,
    RemoteProtocolError,
)
from plugins.mysql.connections import REGISTRY, Registered
from plugins.mysql.options import MySQLOptions, listener_problems, target_problems
from plugins.mysql.packetconn import Conn, ConnectionClosed, PacketConn
from plugins.mysql.response import SessionKilled
from plugins.mysql.server import PLUGIN, ClientHello, LoginRefused, err, greet, verify_token
from plugins.mysql.session import MySQLSession
from plugins.mysql.upstream import Upstream, UpstreamError, dial
from policies.sql.charsets import charset_of, client_charset_problem

log = logging.getLogger("bastion.mysql")


class MySQLPlugin:
    name = "mysql"
    default_port = 3307

    def __init__(self) -> None:
        self.tls: ssl.SSLContext | None = None
        """The client leg's TLS context (made by :meth:`prepare`)."""
        self.sweeper: gevent.Greenlet | None = None
        """Drops orphaned per-session users (``account_mode: ephemeral``) periodically."""
        self.participant: gevent.Greenlet | None = None
        """Carries out KILLs other processes received for this one's connections (plugins.mysql.cluster)."""

    def validate_target(self, options: Mapping[str, Any]) -> list[str]:
        return target_problems(options)

    def validate_listener(self, options: Mapping[str, Any]) -> list[str]:
        return listener_problems(options)

    def prepare(self, ctx: PluginContext) -> None:
        """Called once by the runtime before the listener accepts: TLS context, busy polling."""
        cfg = ctx.settings.config
        self.tls = listener_context(cfg, ctx.settings.state_dir)  # renewed by the CA before it expires
        busypoll.enable(MySQLOptions.from_listener(ctx.listener("mysql")).busy_poll_us)
        if self.sweeper is None:  # per-session users a killed predecessor left behind go now
            self.sweeper = ephemeral.start_sweeper(
                ctx, MySQLOptions.from_listener(ctx.listener("mysql")).ephemeral_sweep_seconds)
        rotation.start_worker(ctx)  # `bastion credentials rotate` requests and rotate_every schedules
        if self.participant is None:  # connection ids and KILLs shared with other processes and nodes
            self.participant = cluster.start(ctx)

    def refuse(self, sock: Any, address: tuple[str, int], reason: str) -> None:
        """Turn a new connection away before the greeting (this node is not ready): an ERR
        packet in place of the greeting, as a server that is shutting down answers."""
        del address
        client = PacketConn(sock, name="refused")
        try:
            client.send(err(1053, "08S01", f"bastion: this node does not take new connections now ({reason}); "
                                           "try again or another node").build(0), 0)  # no #SQLSTATE before a greeting
        except (ConnectionClosed, OSError):
            pass

    def serve(self, sock: Any, address: tuple[str, int], ctx: PluginContext) -> None:
        listener = ctx.listener("mysql")
        if listener is None:
            return
        if self.tls is None:
            self.prepare(ctx)
        assert self.tls is not None
        opts = MySQLOptions.from_listener(listener)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client = PacketConn(sock, name=f"client {address[0]}:{address[1]}")
        try:
            conn_id = REGISTRY.allocate(f"{address[0]}:{address[1]}")
        except Exception:  # noqa: BLE001 - no id without the state store: refuse (fail closed)
            log.warning("no connection id (state store unavailable)", exc_info=True, extra={"client": address[0]})
            self.refuse(sock, address, "the state store is unavailable")
            return
        try:
            self._serve(client, conn_id, address, ctx, opts)
        finally:
            try:
                REGISTRY.release(conn_id)
            except Exception:  # noqa: BLE001 - the next start of this node forgets it
                log.warning("connection id %d not released", conn_id, exc_info=True)

    def _serve(self, client: PacketConn, conn_id: int, address: tuple[str, int], ctx: PluginContext,
               opts: MySQLOptions) -> None:
        assert self.tls is not None
        mysql_session: MySQLSession | None = None
        try:
            with gevent.Timeout(opts.handshake_timeout, LoginRefused(
                    err(1159, "08S01", "bastion: handshake timed out"), 2, "handshake timeout")):
                mysql_session = _login(client, conn_id, address, ctx, opts, self.tls)
        except LoginRefused as refused:
            _refuse(client, refused, address, ctx)
            return
        except (ConnectionClosed, RemoteProtocolError, OSError) as exc:
            log.info("connection phase failed: %s", exc, extra={"client": address[0]})
            return
        current: MySQLSession | None = mysql_session
        while current is not None:  # COM_CHANGE_USER replaces the session on this connection
            try:
                current = _run(current, address)
            finally:
                ephemeral.release(ctx, mysql_session.session.id)
                mysql_session = current or mysql_session


def _login(client: PacketConn, conn_id: int, address: tuple[str, int], ctx: PluginContext, opts: MySQLOptions,
           tls: ssl.SSLContext) -> MySQLSession:
    hello = greet(client, tls, opts.server_version, opts.handshake_timeout, conn_id, opts.auth_plugins)
    session = _authorize(hello, address, ctx)
    try:
        lease = ephemeral.acquire(ctx, session)
    except ephemeral.EphemeralError as exc:
        log.warning("%s", exc, extra={"session_id": session.id, "target": session.target.name})
        raise LoginRefused(err(2003, "HY000", f"bastion: {exc} (session {session.id[:12]})"),
                           hello.seq, str(exc)) from exc
    try:
        return _connect(client, ctx, opts, hello, session, lease)
    except BaseException:
        ephemeral.release(ctx, session.id)  # a login that did not become a session leaves no user
        raise


def _connect(client: Conn, ctx: PluginContext, opts: MySQLOptions, hello: ClientHello, session: Session,
             lease: ephemeral.Lease | None) -> MySQLSession:
    if lease is not None:  # the session runs as its own user: the records name it
        session = dataclasses.replace(session, protocol_info={**session.protocol_info, "upstream_user": lease.user})
    try:
        upstream = dial(ctx, session.target, session.account, client_caps=hello.caps,
                        database=hello.response.database, collation=upstream_collation(hello.response.collation),
                        attrs={"program_name": "bastion", "bastion_user": session.identity.subject,
                               "bastion_session": session.id},
                        login=(lease.user, lease.password) if lease is not None else None)
    except UpstreamError as exc:
        log.warning("upstream login failed: %s", exc, extra={"session_id": session.id, "target": session.target.name})
        reason = exc.err.message if exc.err is not None and exc.err.code == 1049 else "upstream login failed"
        raise LoginRefused(err(exc.err.code if exc.err and exc.err.code == 1049 else 1045, "28000",
                               f"bastion: {reason} (session {session.id[:12]})"), hello.seq, str(exc)) from exc
    except Exception as exc:  # noqa: BLE001 - vault or network: tell the client, keep the secret out
        log.warning("upstream unreachable: %s", type(exc).__name__, extra={"session_id": session.id})
        raise LoginRefused(err(2003, "HY000", f"bastion: cannot reach target {session.target.name}"),
                           hello.seq, f"upstream: {exc}") from exc
    client.send(OkPacket(0, 0, upstream.status, 0).build(hello.caps), hello.seq)
    return MySQLSession(ctx=ctx, opts=opts, session=session, client=client, upstream=upstream, caps=hello.caps,
                        connection_id=hello.connection_id, schema=hello.response.database or "",
                        results_binary=charset_of(hello.response.collation) == "binary",
                        collation=hello.response.collation)


def _authorize(hello: ClientHello, address: tuple[str, int], ctx: PluginContext) -> Session:
    def refuse(reason: str, message: str) -> LoginRefused:
        return LoginRefused(err(1045, "28000", f"bastion: {message}"), hello.seq, reason)

    selector = parse_username(hello.response.username)
    if selector is None:
        raise refuse("bad user name", "the user name must name a target: <target> or <target>/<role>")
    charset = charset_of(upstream_collation(hello.response.collation))
    problem = client_charset_problem(charset) if charset else f"unknown collation {hello.response.collation}"
    if problem:
        raise LoginRefused(err(1115, "42000", f"bastion: {problem}; connect with --default-character-set=utf8mb4"),
                           hello.seq, f"client charset refused: {problem}")
    attempt = throttle_keys(address[0], selector.user)
    wait = ctx.throttle.wait(attempt) if ctx.throttle is not None else 0.0
    if wait > 0:
        raise refuse("throttled", f"too many failed logins; try again in {wait:.0f} s")
    try:
        info = verify_token(hello, ctx.tokens, selector.user)
    except LoginRefused:
        if ctx.throttle is not None:
            ctx.throttle.failed(attempt)
        raise
    if info is None or (selector.user and selector.user != info.user):
        if ctx.throttle is not None:
            ctx.throttle.failed(attempt)
        if info is None:
            raise refuse("invalid token", "access denied: invalid, expired or revoked bastion token")
        raise refuse("user mismatch", "access denied: the token belongs to another user")
    if ctx.throttle is not None:
        ctx.throttle.succeeded(attempt)
    target = ctx.target(selector.target)
    if target is None or target.protocol != "mysql":
        raise refuse("unknown target", f"access denied: no MySQL target named {selector.target!r}")
    attrs = hello.response.attrs
    session = Session(
        id=Session.new_id(), identity=info.identity(), target=target, account="",
        client_addr=f"{address[0]}:{address[1]}", started_at=time.time(), reason=info.reason,
        protocol_info={"role": selector.role, "token_id": info.id, "tls": hello.tls_version,
                       "program": attrs.get("program_name", attrs.get("_client_name", "")),
                       "client_version": attrs.get("_client_version", ""), "connection_id": str(hello.connection_id)})
    granted, decision, event = authorize(ctx, session)
    if granted is None:
        raise refuse(f"denied by {decision.rule}",
                     f"access to {target.name} denied ({decision.message or decision.reason}; ref {event.id})")
    return granted


MYSQL8_UTF8MB4 = range(255, 324)
"""Collation ids of MySQL 8's utf8mb4 (``utf8mb4_0900_*``), which MariaDB does not know:
the client speaks utf8mb4."""
UTF8MB4_GENERAL_CI = 45


def upstream_collation(collation: int) -> int:
    """The collation the upstream leg announces for the client's: MySQL 8 clients' utf8mb4
    collations become MariaDB's utf8mb4_general_ci, so the target lexes and answers in the
    charset the client really speaks (an id it does not know would mean its default)."""
    return UTF8MB4_GENERAL_CI if charset_of(collation) is None and collation in MYSQL8_UTF8MB4 else collation


def _refuse(client: Conn, refused: LoginRefused, address: tuple[str, int], ctx: PluginContext) -> None:
    log.info("login refused: %s", refused.reason, extra={"client": address[0]})
    audit_refused(ctx, "mysql", f"{address[0]}:{address[1]}", reason=refused.reason)
    try:
        client.send(refused.err.build(CLIENT_PROTOCOL_41), refused.seq)
    except (ConnectionClosed, OSError):
        pass


def _run(s: MySQLSession, address: tuple[str, int]) -> MySQLSession | None:
    """Serve ``s`` until it ends; returns its successor after a COM_CHANGE_USER, else None."""
    session = s.session
    # KILL from another connection logs in as the victim's account: its per-session user if it has one
    account = str(session.protocol_info.get("upstream_user") or session.account)
    try:
        REGISTRY.add(s.connection_id, Registered(session.identity.subject, session.target.name, account,
                                                 s.upstream.thread_id), s)
    except Exception:  # noqa: BLE001 - a connection KILL could not find must not run: fail closed
        log.warning("connection not registered (state store unavailable)", exc_info=True,
                    extra={"session_id": session.id})
        _try_send(s.client, ErrPacket(1053, "08S01", "bastion: the state store is unavailable; "
                                                    "try again").build(s.caps))
        s.upstream.conn.close()
        s.client.close()
        return None
    s.begin()
    ended = "error"
    successor: MySQLSession | None = None
    try:
        ended = commands.command_loop(s)
    except ChangeUser as change:
        successor = _change_user(s, change, address)
        ended = "user changed (COM_CHANGE_USER)" if successor is not None else "COM_CHANGE_USER refused"
    except SessionKilled as exc:
        ended = f"killed: {exc}"
        log.warning("session killed: %s", exc, extra={"session_id": session.id})
        _try_send(s.client, ErrPacket(1927, "08S01", f"bastion: session ended: {exc}").build(s.caps))
    except RemoteProtocolError as exc:
        ended = f"protocol error: {exc}"
        log.info("protocol error: %s", exc, extra={"session_id": session.id})
        _try_send(s.client, ErrPacket(1047, "08S01", "bastion: malformed packet; closing").build(s.caps))
    except ConnectionClosed as exc:
        ended = f"connection closed: {exc}"
    finally:
        REGISTRY.remove(s.connection_id)
        if successor is None or successor.upstream is not s.upstream:
            s.upstream.conn.close()
        if successor is None:
            s.client.close()
        executions.flush_all(s)
        s.end(ended, s.end_data())
    return successor


def _change_user(s: MySQLSession, change: ChangeUser, address: tuple[str, int]) -> MySQLSession | None:
    """A new login on this connection (plugins.mysql.change_user); None when refused (the
    client got the ERR and the connection ends)."""
    ctx, opts = s.ctx, s.opts
    try:
        with gevent.Timeout(opts.handshake_timeout, LoginRefused(
                err(1159, "08S01", "bastion: COM_CHANGE_USER timed out"), change.seq + 1, "change user timeout")):
            request = change_user.parse(change.payload, s.caps, s.collation)
            # the change packet's connect attributes name the client; without them, the login's
            client = request.attrs.get("_client_name") or str(s.session.protocol_info.get("program", ""))
            password, seq = change_user.full_auth(s.client, change.seq, opts.handshake_timeout, client)
            response = HandshakeResponse41(s.caps, 0, request.collation, request.username, b"",
                                           request.database or None, PLUGIN, request.attrs)
            tls = s.session.protocol_info.get("tls", "")
            hello = ClientHello(s.connection_id, response, s.caps, password, seq, tls)
            session = _authorize(hello, address, ctx)
            same = (session.target.name, session.account) == (s.session.target.name, s.session.account)
            if same and ephemeral.template_for(session.target, session.account) is None:
                return _reset(s, session, hello)
            lease = ephemeral.acquire(ctx, session)
            return _connect(s.client, ctx, opts, hello, session, lease)
    except (LoginRefused, ephemeral.EphemeralError) as refused:
        if isinstance(refused, ephemeral.EphemeralError):
            refused = LoginRefused(err(2003, "HY000", f"bastion: {refused}"), change.seq + 1, str(refused))
        _refuse(s.client, refused, address, ctx)
        return None


def _reset(s: MySQLSession, session: Session, hello: ClientHello) -> MySQLSession:
    """Same target and account: keep the upstream connection, reset its session state."""
    up = s.upstream
    for payload in [bytes([COM_RESET_CONNECTION])] + (
            [bytes([COM_INIT_DB]) + hello.response.database.encode()] if hello.response.database else []):
        up.conn.send(payload, 0)
        _seq, answer = up.conn.read(30)
        if answer[:1] == b"\xff":
            failure = ErrPacket.parse(answer, CLIENT_PROTOCOL_41)
            raise LoginRefused(err(failure.code, failure.sqlstate, f"bastion: {failure.message}"), hello.seq,
                               f"upstream reset failed: {failure.code}")
    s.client.send(OkPacket(0, 0, up.status, 0).build(hello.caps), hello.seq)
    return MySQLSession(ctx=s.ctx, opts=s.opts, session=session, client=s.client, upstream=up, caps=s.caps,
                        connection_id=s.connection_id, schema=hello.response.database or "",
                        results_binary=charset_of(hello.response.collation) == "binary",
                        collation=hello.response.collation)


def _try_send(conn: Conn, payload: bytes) -> None:
    try:
        conn.send(payload, 1)
    except (ConnectionClosed, OSError):
        pass


plugin = MySQLPlugin()

__all__ = ["MySQLPlugin", "Upstream", "plugin"]
