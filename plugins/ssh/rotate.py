"""Rotation of a vaulted SSH key (driven by :mod:`bastion.credentials.rotate`).

A new ed25519 key's public line is appended to the account's ``authorized_keys`` through
the current key, a login with the new key verifies it, and then the old key's line is
removed through the new one (never leaving the file without the new key). The file is
``~/.ssh/authorized_keys`` unless the target's ``authorized_keys`` option names another
(``%u``: the OS user). The host key is checked against known_hosts as for sessions.
Vaulted SSH passwords are not rotated (use a key, or ``credential: ssh-certificate``).
"""

from __future__ import annotations

import re
import socket
import time

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from bastion.core.types import Target
from bastion.credentials.rotate import RotationError
from plugins.ssh import upstream, upstream_transport

_PATH = re.compile(r"^[A-Za-z0-9_./%~-]+$")


def authorized_keys_path(target: Target, username: str) -> str:
    """The shell word for the account's authorized_keys file (``"$HOME"/…`` for ``~/``)."""
    path = str(target.options.get("authorized_keys", "~/.ssh/authorized_keys")).replace("%u", username)
    if not _PATH.match(path):
        raise RotationError("authorized_keys must be a plain path (letters, digits, _ . / % ~ -)")
    return '"$HOME"/' + path[2:] if path.startswith("~/") else path


def _username(target: Target, account: str) -> str:
    return str((target.options.get("users") or {}).get(account, account))


def _login(target: Target, account: str, kind: str, value: bytes) -> paramiko.Transport:
    known = upstream_transport.known_hosts(target)
    timeout = float(target.options.get("connect_timeout", 10))
    sock = socket.create_connection((target.host, target.port), timeout=timeout)
    transport = upstream_transport.handshake(target, sock, timeout, known)
    try:
        upstream._authenticate(transport, target, account, kind, value)
    except BaseException:
        transport.close()
        raise
    return transport


def _run(target: Target, account: str, kind: str, login: bytes, command: str) -> None:
    try:
        transport = _login(target, account, kind, login)
    except (upstream_transport.UpstreamError, paramiko.SSHException, OSError) as exc:
        raise RotationError(f"cannot log in to {target.name} as {account}: {getattr(exc, 'message', exc)}") from exc
    try:
        chan = transport.open_session(timeout=30)
        chan.exec_command(command)
        status = chan.recv_exit_status()
        if status != 0:
            raise RotationError(f"updating authorized_keys on {target.name} failed (exit status {status})")
    finally:
        transport.close()


def _blob(private: bytes) -> str:
    return upstream.load_private_key(private).get_base64()


class SSHRotator:
    def fresh(self, kind: str, current: bytes) -> bytes:
        if kind != "ssh-key":
            raise RotationError("only vaulted SSH keys are rotated (not passwords; or use ssh-certificate)")
        return ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption())

    def works(self, target: Target, account: str, kind: str, value: bytes) -> bool:
        try:
            _login(target, account, kind, value).close()
            return True
        except (upstream_transport.UpstreamError, paramiko.SSHException, OSError, ValueError):
            return False

    def apply(self, target: Target, account: str, kind: str, current: bytes, new: bytes) -> None:
        path = authorized_keys_path(target, _username(target, account))
        line = f"ssh-ed25519 {_blob(new)} bastion-rotated-{time.strftime('%Y%m%d%H%M%S', time.gmtime())}"
        _run(target, account, kind, current,
             f"umask 077; f={path}; mkdir -p \"$(dirname \"$f\")\" && printf '%s\\n' '{line}' >> \"$f\"")

    def retire(self, target: Target, account: str, kind: str, current: bytes, new: bytes) -> None:
        self._remove(target, account, kind, login=new, remove=_blob(current), keep=_blob(new))

    def undo(self, target: Target, account: str, kind: str, current: bytes, new: bytes) -> None:
        self._remove(target, account, kind, login=current, remove=_blob(new), keep=_blob(current))

    def _remove(self, target: Target, account: str, kind: str, *, login: bytes, remove: str, keep: str) -> None:
        path = authorized_keys_path(target, _username(target, account))
        # rewritten in place (the directory may not be writable); never without the key kept
        _run(target, account, kind, login,
             f"f={path}; content=$(grep -vF '{remove}' \"$f\"); "
             f"case \"$content\" in *'{keep}'*) printf '%s\\n' \"$content\" > \"$f\" ;; *) exit 3 ;; esac")


ROTATOR = SSHRotator()
