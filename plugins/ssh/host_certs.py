"""Host trust from a host CA: OpenSSH host certificates on the bastion's upstream leg.

A target whose known_hosts has an ``@cert-authority`` line for its name is trusted when
it proves a key certified by that CA, instead of (or besides) a pinned key. paramiko's
client neither prefers the certificate host-key algorithms nor checks a certificate (it
takes the certified key and ignores CA, principals and validity), so
:class:`CertificateTransport` — the base of the bastion's upstream Transport, and only
of it — does both:

* :attr:`preferred_keys` offers the ``*-cert-v01@openssh.com`` algorithms first when a
  CA is trusted (only them when no key is pinned), and none of them otherwise;
* :meth:`_verify_key`, which paramiko calls during the key exchange with the server's
  host-key blob and its signature over the exchange hash, checks the certificate
  (:func:`check_certificate`) and then the signature with the certified key.

The certificate format is PROTOCOL.certkeys; ``cryptography``'s parser reads it (it
rejects trailing bytes, mismatched key and signature types) and verifies the CA
signature. Everything else is checked here, and any failure refuses the connection.
"""

from __future__ import annotations

import base64
import hashlib
import time
from dataclasses import dataclass

import paramiko
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import SSHCertificate, SSHCertificateType
from paramiko.message import Message

from plugins.ssh.known_hosts import HostMarkers, openssh_blob

CERT_SUFFIX = "-cert-v01@openssh.com"
CERT_ALGORITHMS = (
    "ssh-ed25519-cert-v01@openssh.com",
    "ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "ecdsa-sha2-nistp384-cert-v01@openssh.com",
    "ecdsa-sha2-nistp521-cert-v01@openssh.com",
    "rsa-sha2-512-cert-v01@openssh.com",
    "rsa-sha2-256-cert-v01@openssh.com",
)
"""Offered in this order; ``ssh-rsa-cert-v01`` (SHA-1 signatures) never is."""
SHA1_SIGNATURE = "ssh-rsa"
"""A CA signature OpenSSH no longer accepts by default (``CASignatureAlgorithms``); nor do we."""


class HostCertificateRefused(paramiko.SSHException):
    """The target's host certificate is not acceptable; ``reason`` says why (no secrets)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class CertTrust:
    """What the upstream Transport of one connection may accept as the target's host key."""

    markers: HostMarkers
    principal: str
    """The target's configured host: the certificate must name it."""
    pinned: bool
    """Whether known_hosts also pins plain keys for the target (then they are offered too)."""


@dataclass(frozen=True)
class CheckedCertificate:
    key_type: str
    """The certified key's own type (``ssh-ed25519``, ``ecdsa-sha2-nistp256``, ``ssh-rsa``)."""
    key_blob: bytes
    key_id: str
    serial: int
    ca_fingerprint: str


def blob_type(algorithm: str) -> str:
    """The key type a certificate negotiated as ``algorithm`` names inside its blob."""
    return "ssh-rsa" + CERT_SUFFIX if algorithm.startswith("rsa-sha2-") else algorithm


def _parse(blob: bytes, algorithm: str) -> tuple[SSHCertificate, bytes, bytes]:
    """The certificate, its key's blob and its CA key's blob (keys parse lazily: here)."""
    if algorithm not in CERT_ALGORITHMS:
        raise HostCertificateRefused(f"host key algorithm {algorithm} is not accepted")
    try:
        name = Message(blob).get_text()
        if name != blob_type(algorithm):
            raise HostCertificateRefused(f"a {name[:60]!r} blob was sent for {algorithm}")
        cert = serialization.load_ssh_public_identity(f"{name} {base64.b64encode(blob).decode()}".encode())
        if not isinstance(cert, SSHCertificate):
            raise HostCertificateRefused("the host key is not a certificate")
        return cert, openssh_blob(cert.public_key()), openssh_blob(cert.signature_key())
    except (ValueError, UnicodeDecodeError, UnsupportedAlgorithm, IndexError, NotImplementedError) as exc:
        raise HostCertificateRefused(f"unreadable host certificate ({type(exc).__name__}: {exc})") from exc


def _signature_algorithm(blob: bytes) -> str:
    """The CA signature's algorithm: the name inside the blob's last field (the parser has
    checked the structure, so the fields before it are skipped by their known shapes)."""
    m = Message(blob)
    key_type = m.get_text()
    m.get_string()  # nonce
    if key_type.startswith("ssh-rsa"):
        m.get_mpint(), m.get_mpint()
    elif key_type.startswith("ecdsa-"):
        m.get_string(), m.get_string()
    else:
        m.get_string()
    m.get_int64(), m.get_int()  # serial, type
    m.get_string(), m.get_string()  # key id, principals
    m.get_int64(), m.get_int64()  # valid after, valid before
    m.get_string(), m.get_string(), m.get_string(), m.get_string()  # critical, extensions, reserved, CA key
    return Message(m.get_binary()).get_text()


def check_certificate(blob: bytes, algorithm: str, markers: HostMarkers, principal: str,
                      now: float) -> CheckedCertificate:
    """The certificate ``blob`` (host key negotiated as ``algorithm``) when it is a valid
    host certificate for ``principal`` at ``now`` signed by one of ``markers.authorities``
    with neither its key nor its CA revoked; raises :class:`HostCertificateRefused`."""
    cert, key, ca = _parse(blob, algorithm)
    ca_fingerprint = "SHA256:" + base64.b64encode(hashlib.sha256(ca).digest()).decode().rstrip("=")
    if ca not in markers.authorities:
        raise HostCertificateRefused(f"signed by {ca_fingerprint}, which is not a trusted @cert-authority")
    if _signature_algorithm(blob) == SHA1_SIGNATURE:
        raise HostCertificateRefused("the CA signed with ssh-rsa (SHA-1)")
    try:
        cert.verify_cert_signature()
    except (InvalidSignature, ValueError) as exc:  # ValueError: a malformed ECDSA signature
        raise HostCertificateRefused("the CA signature does not verify") from exc
    if key in markers.revoked or ca in markers.revoked:
        raise HostCertificateRefused("the certified key or its CA is @revoked")
    if not _is_host(cert):
        raise HostCertificateRefused("a user certificate was presented as a host certificate")
    names = [p.decode("utf-8", "replace") for p in cert.valid_principals]
    if principal not in names and principal.lower() not in names:
        raise HostCertificateRefused(f"the certificate is not valid for {principal!r} (principals: "
                                     f"{_printable(', '.join(names))[:200] or 'none'})")
    if not cert.valid_after <= now < cert.valid_before:
        raise HostCertificateRefused(f"the certificate is not valid now (valid from {_when(cert.valid_after)} to "
                                     f"{_when(cert.valid_before)}, now {_when(int(now))})")
    if cert.critical_options:
        options = sorted(_printable(o.decode("utf-8", "replace"))[:60] for o in cert.critical_options)
        raise HostCertificateRefused(f"unknown critical options {options}")
    return CheckedCertificate(Message(key).get_text(), key, _printable(cert.key_id.decode("utf-8", "replace")),
                              cert.serial, ca_fingerprint)


def _is_host(cert: SSHCertificate) -> bool:
    try:
        return cert.type == SSHCertificateType.HOST
    except ValueError:  # a type number that is neither user (1) nor host (2)
        return False


def _printable(text: str) -> str:
    """The target chose this text: it reaches the user's terminal and the audit log."""
    return "".join(c if c.isprintable() else "?" for c in text)


def _when(timestamp: int) -> str:
    if timestamp >= 2**63:
        return "forever"  # ssh-keygen's "always"/"forever" is 2^64-1
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


class CertificateTransport(paramiko.Transport):
    """A client Transport that accepts a host certificate only when it is valid for
    :attr:`cert_trust` (set before ``start_client``); plain host keys are left to the
    caller's comparison with the pinned keys, as before."""

    cert_trust: CertTrust | None = None
    host_certificate: CheckedCertificate | None = None
    """The checked certificate, when the target authenticated with one."""

    @property
    def preferred_keys(self) -> tuple[str, ...]:
        plain = tuple(k for k in super().preferred_keys if not k.endswith(CERT_SUFFIX))
        trust = self.cert_trust
        if trust is None or not trust.markers.authorities:
            return plain  # a certificate could not be checked: never negotiate one
        disabled = self.disabled_algorithms.get("keys", [])
        return tuple(a for a in CERT_ALGORITHMS if a not in disabled) + (plain if trust.pinned else ())

    def _verify_key(self, host_key: bytes, sig: bytes) -> None:
        algorithm = str(self.host_key_type)
        if not algorithm.endswith(CERT_SUFFIX):
            super()._verify_key(host_key, sig)
            return
        trust = self.cert_trust
        if trust is None or not trust.markers.authorities:
            raise HostCertificateRefused("a host certificate was negotiated but no CA is trusted")
        try:
            checked = check_certificate(host_key, algorithm, trust.markers, trust.principal, time.time())
            key = paramiko.PKey.from_type_string(checked.key_type, checked.key_blob)
            # The exchange hash must be signed by the certified key with the negotiated
            # algorithm (rsa-sha2-512-cert → rsa-sha2-512; no downgrade to SHA-1 "ssh-rsa").
            signed = Message(sig).get_text() == algorithm.removesuffix(CERT_SUFFIX) and key.verify_ssh_sig(
                self.H, Message(sig))
        except HostCertificateRefused:
            raise
        except Exception as exc:  # whatever a hostile blob provokes in a parser: refuse, with a clear error
            raise HostCertificateRefused(f"the host certificate could not be checked ({type(exc).__name__})") from exc
        if not signed:
            raise HostCertificateRefused("the key exchange is not signed by the certified host key")
        self.host_key = key
        self.host_certificate = checked
