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
from bastion.core.types import Connect, Session, Verdict
from bastion.runtime import busypoll, metrics
from bastion.runtime.tls import listener_context
from plugins.mysql import commands, executions, relay
from plugins.mysql.codec import CLIENT_PROTOCOL_41, ErrPacket, OkPacket, RemoteProtocolError
from plugins.mysql.driver import ConnectionClosed, PacketConn
from plugins.mysql.kills import REGISTRY, Registered
from plugins.mysql.server import (
    DEFAULT_VERSION,
    ClientHello,
    LoginRefused,
    auth_plugins,
    err,
    greet,
    validate_auth_plugins,
    verify_token,
)
from plugins.mysql.session import MySQLSession
from plugins.mysql.upstream import Upstream, UpstreamError, dial

log = logging.getLogger("bastion.mysql")

TARGET_OPTIONS = {"users", "connect_timeout"}
LISTENER_OPTIONS = {"server_version", "busy_poll_us", "auth_plugins"}
MAX_BUSY_POLL_US = 10_000


class MySQLPlugin:
    name = "mysql"
    default_port = 3307

    def validate_target(self, options: Mapping[str, Any]) -> list[str]:
        problems = [f"unknown option {k!r} (expected one of: {', '.join(sorted(TARGET_OPTIONS))})"
                    for k in options if k not in TARGET_OPTIONS]
        users = options.get("users", {})
        if not isinstance(users, dict) or not all(isinstance(v, str) for v in users.values()):
            problems.append("users must map account names to upstream MySQL user names")
        return problems

    def validate_listener(self, options: Mapping[str, Any]) -> list[str]:
        problems = [f"unknown option {k!r} (expected one of: {', '.join(sorted(LISTENER_OPTIONS))})"
                    for k in options if k not in LISTENER_OPTIONS]
        if not isinstance(options.get("server_version", ""), str):
            problems.append("server_version must be a string")
        poll = options.get("busy_poll_us", 0)
        if isinstance(poll, bool) or not isinstance(poll, int) or not 0 <= poll <= MAX_BUSY_POLL_US:
            problems.append(f"busy_poll_us must be an integer from 0 (off) to {MAX_BUSY_POLL_US}")
        return problems + validate_auth_plugins(options)

    def prepare(self, ctx: PluginContext) -> None:
        """Called once by the runtime before the listener accepts."""
        listener = ctx.listener("mysql")
        busypoll.enable(int(listener.options.get("busy_poll_us", 0)) if listener is not None else 0)

    def serve(self, sock: Any, address: tuple[str, int], ctx: PluginContext) -> None:
        listener = ctx.listener("mysql")
        if listener is None:
            return
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client = PacketConn(sock, name=f"client {address[0]}:{address[1]}")
        mysql_session: MySQLSession | None = None
        try:
            with gevent.Timeout(listener.handshake_timeout, LoginRefused(
                    err(1159, "08S01", "bastion: handshake timed out"), 2, "handshake timeout")):
                mysql_session = _login(client, address, ctx)
        except LoginRefused as refused:
            _refuse(client, refused, address, ctx)
            return
        except (ConnectionClosed, RemoteProtocolError, OSError) as exc:
            log.info("connection phase failed: %s", exc, extra={"client": address[0]})
            return
        _run(mysql_session)


def _tls_context(ctx: PluginContext) -> ssl.SSLContext:
    tls = ctx.services.get("mysql_tls")
    if tls is None:
        tls = listener_context(ctx.settings.config, ctx.settings.state_dir)
        ctx.services["mysql_tls"] = tls
    return tls


def _login(client: PacketConn, address: tuple[str, int], ctx: PluginContext) -> MySQLSession:
    listener = ctx.listener("mysql")
    assert listener is not None
    version = str(listener.options.get("server_version", DEFAULT_VERSION))
    hello = greet(client, _tls_context(ctx), version, listener.handshake_timeout, auth_plugins(listener.options))
    session = _authorize(hello, address, ctx)
    try:
        upstream = dial(ctx, session.target, session.account, client_caps=hello.caps,
                        database=hello.response.database, collation=hello.response.collation,
                        attrs={"program_name": "bastion", "bastion_user": session.identity.subject,
                               "bastion_session": session.id})
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
    s = MySQLSession(ctx=ctx, listener=listener, session=session, client=client, upstream=upstream,
                     caps=hello.caps, connection_id=hello.connection_id, schema=hello.response.database or "")
    metrics.AUTH.labels(protocol="mysql", result="ok").inc()
    return s


def _authorize(hello: ClientHello, address: tuple[str, int], ctx: PluginContext) -> Session:
    def refuse(reason: str, message: str) -> LoginRefused:
        return LoginRefused(err(1045, "28000", f"bastion: {message}"), hello.seq, reason)

    selector = parse_username(hello.response.username)
    if selector is None:
        raise refuse("bad user name", "the user name must name a target: <target> or <target>/<role>")
    info = verify_token(hello, ctx.tokens, selector.user)
    if info is None:
        raise refuse("invalid token", "access denied: invalid, expired or revoked bastion token")
    if selector.user and selector.user != info.user:
        raise refuse("user mismatch", "access denied: the token belongs to another user")
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
    event = Connect(session=session)
    outcome = ctx.pipeline.decide(event)
    if outcome.verdict is not Verdict.ALLOW or not outcome.decision.account:
        raise refuse(f"denied by {outcome.decision.rule}",
                     f"access to {target.name} denied ({outcome.decision.message or outcome.decision.reason}; "
                     f"ref {event.id})")
    return dataclasses.replace(session, account=outcome.decision.account)


def _refuse(client: PacketConn, refused: LoginRefused, address: tuple[str, int], ctx: PluginContext) -> None:
    metrics.AUTH.labels(protocol="mysql", result="refused").inc()
    log.info("login refused: %s", refused.reason, extra={"client": address[0]})
    from bastion.core.contracts import AuditEvent

    ctx.emit(AuditEvent(type="auth", session_id="", at=time.time(),
                        data={"protocol": "mysql", "result": "refused", "reason": refused.reason,
                              "client_addr": f"{address[0]}:{address[1]}"}))
    try:
        client.send(refused.err.build(CLIENT_PROTOCOL_41), refused.seq)
    except (ConnectionClosed, OSError):
        pass


def _run(s: MySQLSession) -> None:
    session = s.session
    REGISTRY.add(s.connection_id, Registered(session.identity.subject, session.target.name, session.account,
                                             s.upstream.thread_id))
    s.emit("session.start", _start_data(s))
    ended = "error"
    try:
        ended = commands.command_loop(s)
    except relay.SessionKilled as exc:
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
        s.upstream.conn.close()
        s.client.close()
        executions.flush_all(s)
        s.emit("session.end", {"reason": ended, "commands": s.commands, "fast_lane": s.fast_lane,
                               "bytes_in": s.client.bytes_in, "bytes_out": s.client.bytes_out,
                               "duration_s": round(time.time() - session.started_at, 3)})


def _start_data(s: MySQLSession) -> dict[str, Any]:
    session = s.session
    return {"protocol": "mysql", "user": session.identity.subject, "email": session.identity.email,
            "groups": sorted(session.identity.groups), "target": session.target.name, "account": session.account,
            "client_addr": session.client_addr, "reason": session.reason, **dict(session.protocol_info),
            "upstream_thread": s.upstream.thread_id, "upstream_tls": s.upstream.tls}


def _try_send(conn: PacketConn, payload: bytes) -> None:
    try:
        conn.send(payload, 1)
    except (ConnectionClosed, OSError):
        pass


plugin = MySQLPlugin()

__all__ = ["MySQLPlugin", "Upstream", "plugin"]
