"""SSH protocol plugin: users keep ``ssh``/``scp``/``sftp``; the bastion judges and records.

Entry point ``bastion.protocols: ssh = plugins.ssh:plugin``. One greenlet per client
connection runs :meth:`SSHPlugin.serve`: paramiko server transport with the bastion's
host keys (``hostkeys``), authentication and the access decision (``server``), then a
loop accepting channels, each handled in its own greenlet (``driver``) with the
upstream transport opened on first use (``upstream``). The loop also enforces the
authentication deadline, the idle timeout and the maximum session length.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Mapping
from typing import Any

import gevent
import paramiko

from bastion.context import PluginContext
from bastion.core.types import Session
from bastion.credentials import rotate as rotation
from bastion.session import audit_refused
from plugins.ssh import channels, refusal
from plugins.ssh.hostkeys import ensure_host_keys
from plugins.ssh.options import SSHOptions, listener_problems, target_problems
from plugins.ssh.server import BastionServer
from plugins.ssh.session import SSHSession
from plugins.ssh.upstream import UpstreamLink

log = logging.getLogger("bastion.ssh")


class SSHPlugin:
    name = "ssh"
    default_port = 2222

    def validate_target(self, options: Mapping[str, Any]) -> list[str]:
        return target_problems(options)

    def validate_listener(self, options: Mapping[str, Any]) -> list[str]:
        return listener_problems(options)

    def __init__(self) -> None:
        self.host_keys: list[paramiko.PKey] | None = None
        """The bastion's host keys (made or loaded by :meth:`prepare`)."""

    def prepare(self, ctx: PluginContext) -> None:
        """Called once by the runtime before the listener accepts: host keys and their fingerprints."""
        self.host_keys = list(ensure_host_keys(ctx.settings.state_dir))
        rotation.start_worker(ctx)  # `bastion credentials rotate` requests and rotate_every schedules

    def refuse(self, sock: Any, address: tuple[str, int], reason: str) -> None:
        """Turn a new connection away before the key exchange (this node is not ready)."""
        del address
        refusal.refuse(sock, f"bastion: this node does not take new connections now ({reason}); "
                             "try again or another node")

    def serve(self, sock: Any, address: tuple[str, int], ctx: PluginContext) -> None:
        opts = SSHOptions.from_listener(ctx.listener("ssh"))
        if self.host_keys is None:
            self.prepare(ctx)
        keys = self.host_keys or []
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        transport = paramiko.Transport(sock)
        transport.banner_timeout = opts.handshake_timeout
        transport.handshake_timeout = opts.handshake_timeout
        transport.local_version = "SSH-2.0-bastion"
        for key in keys:
            transport.add_server_key(key)
        iface = BastionServer(ctx, opts, address, transport, lambda s: _new_session(ctx, opts, s),
                              channels.judge_forward)
        try:
            # A client that stalls inside the key exchange is dropped at the handshake
            # deadline (paramiko's own timeouts cover the banner only).
            with gevent.Timeout(opts.handshake_timeout, TimeoutError("key exchange timed out")):
                transport.start_server(server=iface)
        except (paramiko.SSHException, EOFError, OSError) as exc:
            log.info("ssh handshake failed: %s", exc, extra={"client": address[0]})
            transport.close()
            return
        if opts.keepalive:
            transport.set_keepalive(opts.keepalive)
        try:
            _run(transport, iface, opts, ctx, address)
        finally:
            transport.close()


def _new_session(ctx: PluginContext, opts: SSHOptions, session: Session) -> SSHSession:
    sess = SSHSession(ctx=ctx, opts=opts, session=session)
    sess.upstream = UpstreamLink(sess)
    sess.begin()
    return sess


def _run(transport: paramiko.Transport, iface: BastionServer, opts: SSHOptions, ctx: PluginContext,
         address: tuple[str, int]) -> None:
    auth_deadline = time.monotonic() + opts.handshake_timeout
    greenlets: list[gevent.Greenlet] = []
    ended = "client disconnected"
    try:
        while transport.is_active():
            chan = transport.accept(timeout=1.0)
            sess = iface.ensure_session()
            if sess is None:
                if iface.waiting_for_link:
                    auth_deadline = time.monotonic() + opts.handshake_timeout
                if iface.exhausted or time.monotonic() > auth_deadline:
                    break
                continue
            if chan is not None:
                req = iface.requests.get(chan.get_id())
                if req is None:
                    chan.close()
                else:
                    sess.touch()
                    req.channel = chan
                    greenlets.append(gevent.spawn(channels.handle, sess, chan, req))
            greenlets = [g for g in greenlets if not g.dead]
            for chanid in [c for c, r in iface.requests.items() if r.done]:
                del iface.requests[chanid]
            expired = _expired(sess, opts)
            if expired:
                ended = expired
                _notify(iface, f"bastion: {expired}, closing the connection")
                break
    finally:
        sess = iface.sess
        if sess is None:
            _audit_refused(ctx, iface, address)
        else:
            sess.upstream.close()
            gevent.joinall(greenlets, timeout=2)
            gevent.killall(greenlets, timeout=2)
            sess.end(ended, sess.end_data())


def _expired(sess: SSHSession, opts: SSHOptions) -> str:
    """Why the connection must end now ("" if it may go on); checked about once a second."""
    if sess.end_request is not None:
        return sess.end_request
    if sess.ctx.audit_failure is not None:
        # Fail closed: keystrokes and output of an open shell are not judged one by one, so
        # the session itself ends when its audit trail cannot be written.
        return "the audit trail cannot be written"
    now = time.monotonic()
    if opts.idle_timeout and now - sess.last_activity > opts.idle_timeout:
        return f"idle timeout ({opts.idle_timeout:g}s without input)"
    if opts.max_session_seconds and now - sess.opened_at > opts.max_session_seconds:
        return f"maximum session length reached ({opts.max_session_seconds:g}s)"
    return ""


def _notify(iface: BastionServer, message: str) -> None:
    """Tell every open terminal why the connection ends (best effort)."""
    for req in list(iface.requests.values()):
        chan = req.channel
        if chan is not None and req.kind == "session" and not chan.closed:
            try:
                chan.send_stderr(f"\r\n{message}\r\n".encode())
            except (OSError, EOFError, paramiko.SSHException):
                pass


def _audit_refused(ctx: PluginContext, iface: BastionServer, address: tuple[str, int]) -> None:
    if not iface.failures:
        return
    audit_refused(ctx, "ssh", f"{address[0]}:{address[1]}", reasons=iface.failures[-10:],
                  client_version=str(iface.transport.remote_version))


plugin = SSHPlugin()

__all__ = ["SSHPlugin", "plugin"]
