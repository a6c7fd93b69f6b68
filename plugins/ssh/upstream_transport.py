"""The upstream SSH transport and whom it trusts: the target's host key must already be in
the target's ``known_hosts`` file — unknown or changed keys are refused (no trust on first
use); only the key types listed there are offered in the key exchange, so a server cannot
steer us to an unpinned type. Instead of (or besides) pinned keys, an ``@cert-authority``
line may trust a host CA: the target then proves a host certificate of that CA naming its
configured host (:mod:`plugins.ssh.host_certs`); ``@revoked`` keys are refused either way.
``exit-signal`` is not handled by paramiko's client side, so :class:`UpstreamTransport`
records it on the channel.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

import paramiko
from paramiko.common import MSG_CHANNEL_REQUEST
from paramiko.ssh_exception import IncompatiblePeer

from bastion.core.types import Target
from bastion.state.directory import ssh_fingerprint
from plugins.ssh.host_certs import CertificateTransport, CertTrust, HostCertificateRefused
from plugins.ssh.known_hosts import HostMarkers, KnownHostsError, host_name, parse_markers

FAST_CIPHERS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com")
"""Preferred on the upstream leg: GCM needs no separate MAC pass (measured ~15 % more
throughput than aes128-ctr with hmac-sha2-256 through the bastion)."""


class UpstreamError(Exception):
    """The target cannot be used; ``message`` is safe to show the user (no secrets)."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(reason)
        self.message = message
        self.reason = reason


class HostKeyRejected(UpstreamError):
    """The target's host key is unknown or differs from its known_hosts entry."""


def _handle_request(chan: paramiko.Channel, m: paramiko.Message) -> None:
    start = m.packet.tell()
    if m.get_text() == "exit-signal":
        m.get_boolean()  # want_reply: exit-signal never wants one
        signal_name, core_dumped, message = m.get_text(), m.get_boolean(), m.get_text()
        chan.bastion_exit_signal = (signal_name, core_dumped, message)
        chan.status_event.set()
        return
    m.packet.seek(start)
    paramiko.Channel._handle_request(chan, m)


class UpstreamTransport(CertificateTransport):
    """A client Transport whose channels also keep ``exit-signal`` (``bastion_exit_signal``)
    and which checks host certificates (:class:`CertificateTransport`)."""

    _channel_handler_table = {**paramiko.Transport._channel_handler_table, MSG_CHANNEL_REQUEST: _handle_request}


def exit_signal(chan: paramiko.Channel) -> tuple[str, bool, str] | None:
    return getattr(chan, "bastion_exit_signal", None)


@dataclass(frozen=True)
class KnownHosts:
    """What the target's known_hosts file trusts for it."""

    pinned: dict[str, paramiko.PKey]
    markers: HostMarkers


def _pinned(text: str) -> paramiko.HostKeys:
    """The plain lines of a known_hosts file (``HostKeys.load`` would choke on marker
    lines); a line paramiko cannot decode is an error, not skipped."""
    hostkeys = paramiko.HostKeys()
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", "@")):
            continue
        try:
            entry = paramiko.hostkeys.HostKeyEntry.from_line(line, lineno)
        except (paramiko.SSHException, paramiko.hostkeys.InvalidHostKey, ValueError) as exc:
            raise KnownHostsError(f"line {lineno}: not a usable host key") from exc
        for name in entry.hostnames if entry is not None else ():  # None: a key type paramiko does not know
            hostkeys.add(name, entry.key.get_name(), entry.key)
    return hostkeys


def known_hosts(target: Target) -> KnownHosts:
    """What ``target``'s known_hosts file trusts for it; :class:`HostKeyRejected` if nothing."""
    path = str(target.options.get("known_hosts", ""))
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    except OSError as exc:
        raise HostKeyRejected(f"the bastion has no known_hosts file for target {target.name}; refusing to connect",
                              f"known_hosts unreadable: {exc.strerror}") from exc
    try:
        hostkeys = _pinned(text)
        markers = parse_markers(text, host_name(target.host, target.port))
    except KnownHostsError as exc:
        raise HostKeyRejected(f"the bastion's known_hosts file for target {target.name} has a line it cannot "
                              f"read; refusing to connect — an administrator must fix it",
                              f"known_hosts unusable: {exc}") from exc
    name = target.host if target.port == 22 else f"[{target.host}]:{target.port}"
    found = hostkeys.lookup(name)
    if not found and not markers.authorities:
        raise HostKeyRejected(f"the host key of target {target.name} is unknown to the bastion (not in its "
                              f"known_hosts); refusing to connect — an administrator must add it",
                              "unknown host key")
    return KnownHosts({k: found[k] for k in found.keys()} if found else {}, markers)


def _key_types(known: dict[str, paramiko.PKey]) -> list[str]:
    types: list[str] = []
    for name in known:
        types += ["rsa-sha2-512", "rsa-sha2-256"] if name == "ssh-rsa" else [name]
    return types


def _verify(target: Target, transport: UpstreamTransport, known: KnownHosts) -> None:
    """Accept the host key the key exchange proved: a host certificate (already checked
    during the exchange) or a pinned, unrevoked plain key."""
    if transport.host_certificate is not None:
        return
    key = transport.get_remote_server_key()
    got = ssh_fingerprint(key.get_name(), key.asbytes())
    if key.asbytes() in known.markers.revoked:
        raise HostKeyRejected(f"the host key of target {target.name} ({got}) is marked @revoked in the bastion's "
                              f"known_hosts; the connection was refused", f"host key revoked: {key.get_name()} {got}")
    expected = known.pinned.get(key.get_name())
    if expected is None or expected.asbytes() != key.asbytes():
        raise HostKeyRejected(
            f"WARNING: the host key of target {target.name} has CHANGED (it presented {key.get_name()} {got}, "
            f"which is not in the bastion's known_hosts). This may be a man-in-the-middle attack; the "
            f"connection was refused. Ask an administrator to verify and update the key.",
            f"host key mismatch: {key.get_name()} {got}")


def handshake(target: Target, sock: socket.socket, timeout: float, known: KnownHosts) -> UpstreamTransport:
    """A transport on ``sock`` whose key exchange proved a host key ``known`` trusts (not
    yet authenticated); raises :class:`HostKeyRejected` or paramiko's errors, closing it."""
    transport = UpstreamTransport(sock)
    try:
        options = transport.get_security_options()
        options.key_types = [t for t in _key_types(known.pinned) if t in options.key_types] or options.key_types
        options.ciphers = [c for c in FAST_CIPHERS if c in options.ciphers] + [
            c for c in options.ciphers if c not in FAST_CIPHERS]
        transport.cert_trust = CertTrust(known.markers, target.host, pinned=bool(known.pinned))
        transport.start_client(timeout=timeout)
        _verify(target, transport, known)
    except HostCertificateRefused as exc:
        transport.close()
        raise HostKeyRejected(f"the host certificate of target {target.name} was refused: {exc.reason}. The "
                              f"connection was refused; ask an administrator to check the target's host "
                              f"certificate and the bastion's known_hosts", f"host certificate refused: "
                              f"{exc.reason}") from exc
    except IncompatiblePeer as exc:
        transport.close()
        if known.pinned or "host key" not in str(exc):
            raise
        raise HostKeyRejected(f"the target {target.name} presented no host certificate, and the bastion's "
                              f"known_hosts trusts it only through a host CA; refusing to connect",
                              "no host certificate offered") from exc
    except BaseException:
        transport.close()
        raise
    return transport
