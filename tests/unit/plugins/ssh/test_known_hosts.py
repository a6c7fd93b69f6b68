"""Marker lines of known_hosts: OpenSSH's host patterns and fail-closed parsing."""

from __future__ import annotations

import base64

import paramiko
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from plugins.ssh.known_hosts import KnownHostsError, host_matches, host_name, parse_markers


def _line() -> tuple[str, bytes]:
    line = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    return line, base64.b64decode(line.split()[1])


@pytest.mark.parametrize(("patterns", "name", "matches"), [
    ("db1.example.org", "db1.example.org", True),
    ("DB1.Example.ORG", "db1.example.org", True),
    ("*.example.org", "db1.example.org", True),
    ("*.example.org", "example.org", False),
    ("*.example.org", "db1.example.org.evil.test", False),  # the whole name must match
    ("db?.example.org", "db1.example.org", True),
    ("db?.example.org", "db12.example.org", False),
    ("*.example.org,!db1.example.org", "db1.example.org", False),  # a negation wins
    ("!db1.example.org,*.example.org", "db1.example.org", False),
    ("*.example.org,!db1.example.org", "db2.example.org", True),
    ("!db2.example.org", "db1.example.org", False),  # only negations: nothing matches
    ("[10.0.0.5]:2222", "[10.0.0.5]:2222", True),  # brackets are literal, not a character class
    ("[10.0.0.5]:2222", "1", False),
    ("10.0.0.5", "[10.0.0.5]:2222", False),  # a port other than 22 needs the [host]:port form
    ("[10.0.0.*]:*", "[10.0.0.5]:2222", True),
    ("a.b", "axb", False),  # dots are literal
])
def test_host_patterns(patterns: str, name: str, matches: bool) -> None:
    assert host_matches(patterns, name) is matches


def test_hashed_host_names() -> None:
    hashed = paramiko.HostKeys.hash_host("[10.0.0.5]:2222")
    assert host_matches(hashed, "[10.0.0.5]:2222")
    assert not host_matches(hashed, "[10.0.0.5]:2223")


def test_host_name_form() -> None:
    assert host_name("DB1.example.org", 22) == "db1.example.org"
    assert host_name("10.0.0.5", 2222) == "[10.0.0.5]:2222"


def test_markers_for_a_name() -> None:
    ca_line, ca = _line()
    other_line, other = _line()
    revoked_line, revoked = _line()
    plain_line, _ = _line()
    text = (f"# comment\n\n[10.0.0.5]:2222 {plain_line}\n@cert-authority *.example.org,[10.0.0.*]:2222 {ca_line} ca\n"
            f"@cert-authority other.test {other_line}\n  @revoked * {revoked_line} retired\n")
    markers = parse_markers(text, "[10.0.0.5]:2222")
    assert markers.authorities == [ca] and markers.revoked == {revoked}
    assert parse_markers(text, "other.test").authorities == [other]
    assert parse_markers(text, "x.test").authorities == [] and parse_markers(text, "x.test").revoked == {revoked}


@pytest.mark.parametrize(("line", "error"), [
    ("@cert-authority *.example.org ssh-ed25519", "expected"),
    ("@cert-authority *.example.org ssh-ed25519 AAAA", "not a usable public key"),
    ("@cert-authority *.example.org ssh-dss AAAAB3NzaC1kc3MAAACBAP", "not a usable public key"),
    ("@revoked * ssh-ed25519 !!!", "not a usable public key"),
    ("@revoke * {key}", "unknown marker"),
    ("@cert-authority * {cert}", "not a usable public key"),  # a certificate is not a CA key
])
def test_unreadable_marker_lines_are_errors_whatever_host_they_name(line: str, error: str) -> None:
    key, _ = _line()
    private = ed25519.Ed25519PrivateKey.generate()
    cert = (serialization.SSHCertificateBuilder().public_key(private.public_key()).type(
        serialization.SSHCertificateType.HOST).valid_for_all_principals().valid_after(0).valid_before(2 ** 40)
        .sign(private).public_bytes().decode())
    text = line.format(key=key, cert=cert)
    with pytest.raises(KnownHostsError) as exc:
        parse_markers(text, "unrelated.test")
    assert error in str(exc.value) and "line 1" in str(exc.value)
