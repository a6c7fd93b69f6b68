"""The marker lines of a target's known_hosts file: ``@cert-authority`` and ``@revoked``.

Plain lines (pinned host keys) are read by paramiko's ``HostKeys``, which skips marker
lines; this module reads only those, with OpenSSH's semantics (sshd(8) "SSH_KNOWN_HOSTS
FILE FORMAT")::

    @cert-authority *.db.example.org,[10.0.0.5]:2222 ssh-ed25519 AAAA... host-ca
    @revoked * ssh-ed25519 AAAA... retired web-3 key

The host field is a comma-separated list of patterns (``*`` and ``?`` wildcards, ``!``
negation, ``[host]:port`` for a port other than 22, or one hashed ``|1|salt|hash`` name),
matched case-insensitively against the name the bastion dials. A marker line that
cannot be read is an error, never skipped: a skipped ``@revoked`` line would trust a key
its administrator retired.
"""

from __future__ import annotations

import base64
import hmac
import re
from dataclasses import dataclass, field

import paramiko
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

CERT_AUTHORITY = "@cert-authority"
REVOKED = "@revoked"

PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey


class KnownHostsError(ValueError):
    """A marker line of the known_hosts file cannot be read (the file is then not used)."""


def openssh_blob(key: PublicKey) -> bytes:
    """The key's SSH wire blob (what keys are compared by)."""
    line = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return base64.b64decode(line.split()[1])


@dataclass
class HostMarkers:
    """What the marker lines say about one host name."""

    authorities: list[bytes] = field(default_factory=list)
    """Blobs of the CA keys whose host certificates are trusted for this name."""
    revoked: set[bytes] = field(default_factory=set)
    """Blobs of keys (host keys or CA keys) that must never be accepted for this name."""


def host_name(host: str, port: int) -> str:
    """The name a known_hosts line is matched against (OpenSSH's form)."""
    return host.lower() if port == 22 else f"[{host.lower()}]:{port}"


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    # Only * and ? are special (not fnmatch's [...], which would break "[host]:port").
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern), re.DOTALL)


def host_matches(patterns: str, name: str) -> bool:
    """OpenSSH ``match_hostname``: some positive pattern matches and no negated one does."""
    name = name.lower()
    matched = False
    for pattern in patterns.split(","):
        negated = pattern.startswith("!")
        pattern = pattern[1:] if negated else pattern
        if pattern.startswith("|1|"):
            hit = hmac.compare_digest(paramiko.HostKeys.hash_host(name, pattern), pattern)
        else:
            hit = _pattern_regex(pattern.lower()).fullmatch(name) is not None
        if hit and negated:
            return False
        matched = matched or hit
    return matched


def _public_key(key_type: str, data: str, lineno: int) -> PublicKey:
    if key_type.endswith("-cert-v01@openssh.com"):  # cryptography would quietly take the certified key
        raise KnownHostsError(f"line {lineno}: not a usable public key (a certificate, not a key)")
    try:
        key = serialization.load_ssh_public_key(f"{key_type} {data}".encode("ascii"))
    except (ValueError, UnicodeEncodeError, UnsupportedAlgorithm) as exc:
        raise KnownHostsError(f"line {lineno}: not a usable public key ({exc})") from exc
    if not isinstance(key, ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        raise KnownHostsError(f"line {lineno}: unsupported key type {key_type}")
    return key


def parse_markers(text: str, name: str) -> HostMarkers:
    """The CA keys and revoked keys that ``text`` (a known_hosts file) gives ``name``;
    raises :class:`KnownHostsError` on a marker line it cannot read."""
    markers = HostMarkers()
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line.startswith("@"):
            continue  # a pinned key, a comment or a blank line: paramiko's business
        fields = line.split()
        if fields[0] not in (CERT_AUTHORITY, REVOKED):
            raise KnownHostsError(f"line {lineno}: unknown marker {fields[0][:40]!r}")
        if len(fields) < 4:
            raise KnownHostsError(f"line {lineno}: expected '{fields[0]} <patterns> <key type> <base64 key>'")
        key = openssh_blob(_public_key(fields[2], fields[3], lineno))
        if not host_matches(fields[1], name):
            continue
        if fields[0] == CERT_AUTHORITY:
            markers.authorities.append(key)
        else:
            markers.revoked.add(key)
    return markers
