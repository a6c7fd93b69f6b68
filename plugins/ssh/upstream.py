"""Upstream leg: the bastion is the SSH client of the target. :func:`connect` dials, has
the key exchange prove a host key the bastion trusts (:mod:`plugins.ssh.upstream_transport`)
and logs in with the vaulted credential of ``target/account`` (an OpenSSH/PEM private key
or a password; the user never sees it) or with a fresh certificate of the bastion's user
CA. :class:`UpstreamLink` is a session's one upstream connection, opened on first use;
channels open on it only with an :class:`~bastion.guard.Admission`.
"""

from __future__ import annotations

import io
import logging
import socket
from typing import TYPE_CHECKING, Any

import gevent.lock
import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from paramiko.common import cMSG_CHANNEL_REQUEST

from bastion.core import records
from bastion.core.types import Session, Target
from bastion.guard import Admission
from bastion.state.vault import VaultError
from plugins.ssh import certificate
from plugins.ssh.upstream_transport import UpstreamError, UpstreamTransport, handshake, known_hosts

if TYPE_CHECKING:
    from bastion.context import PluginContext
    from plugins.ssh.session import SSHSession

log = logging.getLogger("bastion.ssh")


def load_private_key(data: bytes) -> paramiko.PKey:
    """A paramiko key from OpenSSH or PEM private key bytes (never touches the disk)."""
    try:
        loaded: Any = serialization.load_ssh_private_key(data, None)
    except ValueError:
        loaded = serialization.load_pem_private_key(data, None)
    cls: type[paramiko.PKey]
    if isinstance(loaded, rsa.RSAPrivateKey):
        cls = paramiko.RSAKey
    elif isinstance(loaded, ed25519.Ed25519PrivateKey):
        cls = paramiko.Ed25519Key
    elif isinstance(loaded, ec.EllipticCurvePrivateKey):
        cls = paramiko.ECDSAKey
    else:
        raise ValueError(f"unsupported private key type {type(loaded).__name__}")
    return cls.from_private_key(io.StringIO(data.decode("ascii")))


def connect(ctx: PluginContext, target: Target, account: str, timeout: float, keepalive: int,
            session: Session | None = None) -> UpstreamTransport:
    """An authenticated transport to ``target`` as ``account`` (with the vaulted credential,
    or a fresh certificate naming ``session``: ``credential: ssh-certificate``); raises
    :class:`UpstreamError`."""
    known = known_hosts(target)
    secret = None
    try:
        if not certificate.wants_certificate(target):
            secret = ctx.vault.get(target.name, account)
    except VaultError as exc:
        raise UpstreamError(f"the bastion holds no usable credential for {target.name}/{account}",
                            str(exc)) from exc
    timeout = float(target.options.get("connect_timeout", timeout))
    try:
        sock = socket.create_connection((target.host, target.port), timeout=timeout)
    except OSError as exc:
        raise UpstreamError(f"cannot reach target {target.name}", f"connect: {exc}") from exc
    try:
        transport = handshake(target, sock, timeout, known)
    except (paramiko.SSHException, EOFError, OSError) as exc:
        raise UpstreamError(f"cannot open an SSH session on target {target.name}", f"ssh: {exc!r}") from exc
    try:
        if secret is None:
            _authenticate_certificate(ctx, transport, target, account, session, sock)
        else:
            _authenticate(transport, target, account, secret.kind, secret.value)
    except UpstreamError:
        transport.close()
        raise
    except (paramiko.SSHException, EOFError, OSError) as exc:
        transport.close()
        raise UpstreamError(f"cannot open an SSH session on target {target.name}", f"ssh: {exc!r}") from exc
    if keepalive:
        transport.set_keepalive(keepalive)
    return transport


def _authenticate(transport: paramiko.Transport, target: Target, account: str, kind: str, value: bytes) -> None:
    users = target.options.get("users") or {}
    username = str(users.get(account, account))
    try:
        if kind == "ssh-key":
            transport.auth_publickey(username, load_private_key(value))
        else:
            transport.auth_password(username, value.decode("utf-8"))
    except paramiko.AuthenticationException as exc:
        raise UpstreamError(f"the bastion's credential for {target.name}/{account} was rejected by the target",
                            f"upstream authentication failed for {username}") from exc
    except ValueError as exc:
        raise UpstreamError(f"the bastion's credential for {target.name}/{account} is not usable",
                            f"credential unusable: {type(exc).__name__}") from exc


def _authenticate_certificate(ctx: PluginContext, transport: paramiko.Transport, target: Target, account: str,
                              session: Session | None, sock: socket.socket) -> None:
    username = str((target.options.get("users") or {}).get(account, account))
    try:
        key = certificate.certified_key(ctx, target, username, session, sock)
    except (OSError, ValueError) as exc:
        raise UpstreamError("the bastion cannot sign an SSH certificate", f"user CA: {type(exc).__name__}: {exc}") \
            from exc
    try:
        transport.auth_publickey(username, key)
    except paramiko.AuthenticationException as exc:
        raise UpstreamError(f"the target {target.name} refused the bastion's certificate for {account} (does it "
                            f"trust the bastion's user CA? see `bastion ssh-ca export`)",
                            f"upstream certificate authentication failed for {username}") from exc


def request_pty(chan: paramiko.Channel, term: bytes, width: int, height: int, width_px: int, height_px: int,
                modes: bytes) -> None:
    """``pty-req`` with the client's terminal modes (paramiko's ``get_pty`` drops them)."""
    m = paramiko.Message()
    m.add_byte(cMSG_CHANNEL_REQUEST)
    m.add_int(chan.remote_chanid)
    m.add_string("pty-req")
    m.add_boolean(True)
    m.add_string(term)
    for value in (width, height, width_px, height_px):
        m.add_int(value)
    m.add_string(modes)
    chan._event_pending()
    chan.transport._send_user_message(m)
    chan._wait_for_event()


class UpstreamLink:
    """The session's one upstream transport, connected on first use (audited either way)."""

    def __init__(self, sess: SSHSession) -> None:
        self.sess = sess
        self.lock = gevent.lock.Semaphore()
        self.transport: UpstreamTransport | None = None
        self._home: str | None = None

    def _get(self) -> UpstreamTransport:
        with self.lock:
            if self.transport is None or not self.transport.is_active():
                s = self.sess.session
                try:
                    self.transport = connect(self.sess.ctx, s.target, s.account, self.sess.opts.upstream_timeout,
                                             self.sess.opts.keepalive, session=s)
                except UpstreamError as exc:
                    log.warning("upstream refused: %s", exc.reason, extra={"session_id": s.id})
                    self.sess.emit(records.UPSTREAM, {"result": "refused", "target": s.target.name,
                                                "account": s.account, "reason": exc.reason})
                    raise
                event = {"result": "connected", "target": s.target.name, "account": s.account,
                         "credential": str(s.target.options.get("credential", "vault")),
                         "server_version": str(self.transport.remote_version),
                         "cipher": str(self.transport.remote_cipher)}
                cert = self.transport.host_certificate
                if cert is not None:  # which host certificate vouched for the target
                    event["host_certificate"] = f"{cert.key_id[:120]!r} serial {cert.serial} signed by " \
                                                f"{cert.ca_fingerprint}"
                self.sess.emit(records.UPSTREAM, event)
            return self.transport

    def open_session(self, admission: Admission) -> paramiko.Channel:
        """A session channel on the target for an admitted exec, shell or subsystem."""
        _check(admission)
        try:
            return self._get().open_session(timeout=self.sess.opts.upstream_timeout)
        except (paramiko.SSHException, EOFError, OSError) as exc:
            raise UpstreamError(f"the target {self.sess.session.target.name} refused a new channel",
                                f"open_session: {exc!r}") from exc

    def open_forward(self, admission: Admission, dest: tuple[str, int], origin: tuple[str, int]) -> paramiko.Channel:
        """A ``direct-tcpip`` channel from the target to ``dest`` for an admitted forward;
        raises UpstreamError or paramiko's errors."""
        _check(admission)
        return self._get().open_channel("direct-tcpip", dest, origin, timeout=self.sess.opts.upstream_timeout)

    def home(self) -> str:
        """The account's home directory on the target, as its SFTP server resolves ``.``
        (asked once per session); "" when it cannot be known (file rules then fail closed
        on relative paths)."""
        if self._home is None:
            try:
                sftp = paramiko.SFTPClient.from_transport(self._get())
                if sftp is None:
                    raise paramiko.SSHException("no sftp subsystem")
                try:
                    self._home = str(sftp.normalize("."))
                finally:
                    sftp.close()
            except (UpstreamError, paramiko.SSHException, EOFError, OSError) as exc:
                log.info("home directory unknown: %r", exc, extra={"session_id": self.sess.session.id})
                self._home = ""
        return self._home

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def _check(admission: Admission) -> None:
    if not isinstance(admission, Admission):  # a Refusal must never open anything, whatever the caller did
        raise TypeError("a request reaches the target only with an Admission")
