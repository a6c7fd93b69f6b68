"""MySQL protocol plugin: a terminating MySQL proxy real clients use unchanged.

Entry point ``bastion.protocols: mysql = plugins.mysql:plugin``. One greenlet per client
connection runs :meth:`MySQLPlugin.serve`: TLS-first connection phase with the user's
bastion token (``server``), access decision (pipeline ``Connect``), the bastion's own
upstream login with the vaulted credential (``upstream``), then the judged command
phase (``relay``/``commands``) until the client leaves.
"""

from __future__ import annotations

import logging
import socket
import ssl
from collections.abc import Mapping
from typing import Any

import gevent

from bastion.context import PluginContext
from bastion.core.types import Session
from bastion.credentials import rotate as rotation
from bastion.runtime import busypoll
from bastion.runtime.tls import listener_context
from plugins.mysql import change_user, cluster, commands, ephemeral, executions, login
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
from plugins.mysql.server import PLUGIN, ClientHello, LoginRefused, err
from plugins.mysql.session import MySQLSession
from plugins.mysql.upstream import Upstream
from policies.sql.charsets import charset_of

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
                mysql_session = login.login(client, conn_id, address, ctx, opts, self.tls)
        except LoginRefused as refused:
            login.refuse(client, refused, address, ctx)
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
            session = login.authorize(hello, address, ctx)
            same = (session.target.name, session.account) == (s.session.target.name, s.session.account)
            if same and ephemeral.template_for(session.target, session.account) is None:
                return _reset(s, session, hello)
            lease = ephemeral.acquire(ctx, session)
            return login.connect(s.client, ctx, opts, hello, session, lease)
    except (LoginRefused, ephemeral.EphemeralError, RemoteProtocolError) as refused:
        if isinstance(refused, ephemeral.EphemeralError):
            refused = LoginRefused(err(2003, "HY000", f"bastion: {refused}"), change.seq + 1, str(refused))
        elif isinstance(refused, RemoteProtocolError):  # a malformed change packet: refused, connection ends
            refused = LoginRefused(err(1835, "08S01", "bastion: malformed COM_CHANGE_USER packet"), change.seq + 1,
                                   f"malformed COM_CHANGE_USER: {refused}")
        login.refuse(s.client, refused, address, ctx)
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
