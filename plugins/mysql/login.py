"""The MySQL connection phase through the bastion: greet the client inside TLS, check its
bastion token and the access rules (:func:`authorize`), log in upstream as the granted
account (:func:`connect`; a per-session user when the target is ephemeral), or refuse
with an ERR the client shows and a ``login.refused`` record (:func:`refuse`).
"""

from __future__ import annotations

import dataclasses
import logging
import ssl
import time

from bastion.context import PluginContext
from bastion.core.selector import parse_username
from bastion.core.types import Session
from bastion.session import audit_refused
from bastion.session import authorize as authorize_session
from bastion.state.throttle import keys as throttle_keys
from plugins.mysql import ephemeral
from plugins.mysql.codec import CLIENT_PROTOCOL_41, OkPacket
from plugins.mysql.options import MySQLOptions
from plugins.mysql.packetconn import Conn, ConnectionClosed, PacketConn
from plugins.mysql.server import ClientHello, LoginRefused, err, greet, verify_token
from plugins.mysql.session import MySQLSession
from plugins.mysql.upstream import UpstreamError, dial
from policies.sql.charsets import charset_of, client_charset_problem

log = logging.getLogger("bastion.mysql")


def login(client: PacketConn, conn_id: int, address: tuple[str, int], ctx: PluginContext, opts: MySQLOptions,
           tls: ssl.SSLContext) -> MySQLSession:
    hello = greet(client, tls, opts.server_version, opts.handshake_timeout, conn_id, opts.auth_plugins)
    session = authorize(hello, address, ctx)
    try:
        lease = ephemeral.acquire(ctx, session)
    except ephemeral.EphemeralError as exc:
        log.warning("%s", exc, extra={"session_id": session.id, "target": session.target.name})
        raise LoginRefused(err(2003, "HY000", f"bastion: {exc} (session {session.id[:12]})"),
                           hello.seq, str(exc)) from exc
    try:
        return connect(client, ctx, opts, hello, session, lease)
    except BaseException:
        ephemeral.release(ctx, session.id)  # a login that did not become a session leaves no user
        raise


def connect(client: Conn, ctx: PluginContext, opts: MySQLOptions, hello: ClientHello, session: Session,
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


def authorize(hello: ClientHello, address: tuple[str, int], ctx: PluginContext) -> Session:
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
    granted, decision, event = authorize_session(ctx, session)
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


def refuse(client: Conn, refused: LoginRefused, address: tuple[str, int], ctx: PluginContext) -> None:
    log.info("login refused: %s", refused.reason, extra={"client": address[0]})
    audit_refused(ctx, "mysql", f"{address[0]}:{address[1]}", reason=refused.reason)
    try:
        client.send(refused.err.build(CLIENT_PROTOCOL_41), refused.seq)
    except (ConnectionClosed, OSError):
        pass
