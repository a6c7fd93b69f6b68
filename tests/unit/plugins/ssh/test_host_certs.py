"""Host certificate checks, on certificates made by the real ``ssh-keygen -s`` (and, for
critical options, which ssh-keygen only puts in user certificates, by ``cryptography``'s
certificate builder)."""

from __future__ import annotations

import base64
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import paramiko
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from cryptography.hazmat.primitives.serialization import SSHCertificateBuilder, SSHCertificateType

from plugins.ssh.host_certs import (
    CERT_ALGORITHMS,
    CertificateTransport,
    CertTrust,
    HostCertificateRefused,
    check_certificate,
)
from plugins.ssh.known_hosts import HostMarkers

HOST = "db1.example.org"
ED = "ssh-ed25519-cert-v01@openssh.com"


def keygen(path: Path, kind: str = "ed25519") -> Path:
    if not path.exists():
        size = ["-b", "2048"] if kind == "rsa" else []
        subprocess.run(["ssh-keygen", "-q", "-t", kind, *size, "-N", "", "-C", path.name, "-f", str(path)],
                       check=True)
    return path


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """CA and host keys, made once (RSA key generation is slow); certificates vary per test."""
    directory = tmp_path_factory.mktemp("host-certs")
    for name, kind in (("ca", "ed25519"), ("other-ca", "ed25519"), ("rsa-ca", "rsa"), ("host", "ed25519"),
                       ("host-ecdsa", "ecdsa"), ("host-rsa", "rsa")):
        keygen(directory / name, kind)
    return directory


def blob_of(pub: Path) -> bytes:
    return base64.b64decode(pub.read_text().split()[1])


def sign(tmp: Path, *args: str, ca: str = "ca", key: str = "host") -> bytes:
    """ssh-keygen's certificate of the public key ``key`` by ``ca``, with ``args``."""
    cert = tmp / f"{key}-cert.pub"
    cert.unlink(missing_ok=True)
    subprocess.run(["ssh-keygen", "-q", "-s", str(tmp / ca), "-I", "web-1 key", *args, f"{tmp / key}.pub"],
                   check=True, capture_output=True)
    return blob_of(cert)


def trust(tmp: Path, *cas: str, revoked: tuple[str, ...] = ()) -> HostMarkers:
    return HostMarkers([blob_of(tmp / f"{ca}.pub") for ca in cas], {blob_of(tmp / f"{k}.pub") for k in revoked})


GOOD = ("-h", "-n", f"other.example.org,{HOST}", "-V", "-5m:+1h")


@pytest.mark.parametrize(("key", "ca", "algorithm", "key_type"), [
    ("host", "ca", ED, "ssh-ed25519"),
    ("host-ecdsa", "ca", "ecdsa-sha2-nistp256-cert-v01@openssh.com", "ecdsa-sha2-nistp256"),
    ("host-rsa", "ca", "rsa-sha2-512-cert-v01@openssh.com", "ssh-rsa"),
    ("host-rsa", "ca", "rsa-sha2-256-cert-v01@openssh.com", "ssh-rsa"),
    ("host", "rsa-ca", ED, "ssh-ed25519"),  # an RSA CA signs with rsa-sha2-512 by default
])
def test_a_valid_host_certificate_is_accepted(keys: Path, key: str, ca: str, algorithm: str, key_type: str) -> None:
    blob = sign(keys, *GOOD, ca=ca, key=key)
    checked = check_certificate(blob, algorithm, trust(keys, "other-ca", ca), HOST, time.time())
    assert checked.key_blob == blob_of(keys / f"{key}.pub")
    assert checked.key_id == "web-1 key" and checked.ca_fingerprint.startswith("SHA256:")
    assert checked.key_type == key_type


def test_the_principal_may_be_the_upper_case_spelling_of_a_lower_case_name(keys: Path) -> None:
    blob = sign(keys, *GOOD)
    assert check_certificate(blob, ED, trust(keys, "ca"), HOST.upper(), time.time()).key_id == "web-1 key"


def _critical_option_cert(tmp: Path) -> bytes:
    ca = serialization.load_ssh_private_key((tmp / "ca").read_bytes(), None)
    now = int(time.time())
    cert = (SSHCertificateBuilder().public_key(ed25519.Ed25519PrivateKey.generate().public_key()).serial(7)
            .type(SSHCertificateType.HOST).key_id(b"crit").valid_principals([HOST.encode()])
            .valid_after(now - 60).valid_before(now + 3600).add_critical_option(b"verify-required", b"")
            .sign(ca))  # type: ignore[arg-type]
    return base64.b64decode(cert.public_bytes().split()[1])


def _flip(blob: bytes, at: int) -> bytes:
    return blob[:at] + bytes([blob[at] ^ 1]) + blob[at + 1:]


def _refusal_cases() -> list[tuple[str, Callable[[Path], bytes], str]]:
    """(case, how to make the blob from tmp, expected reason fragment)."""
    return [
        ("another CA", lambda t: sign(t, *GOOD, ca="other-ca"), "not a trusted @cert-authority"),
        ("expired", lambda t: sign(t, "-h", "-n", HOST, "-V", "20200101:20200102"),
         "not valid now (valid from 20"),
        ("terminal escapes in the principals", lambda t: sign(t, "-h", "-n", "db2\x1b[2J\nfake", "-V", "-5m:+1h"),
         "(principals: db2?[2J?fake)"),
        ("not yet valid", lambda t: sign(t, "-h", "-n", HOST, "-V", "+1d:+2d"), "not valid now"),
        ("wrong principal", lambda t: sign(t, "-h", "-n", "db2.example.org", "-V", "-5m:+1h"),
         "not valid for 'db1.example.org'"),
        ("principal is a pattern", lambda t: sign(t, "-h", "-n", "*.example.org", "-V", "-5m:+1h"), "not valid for"),
        ("no principals (valid for any host)", lambda t: sign(t, "-h", "-V", "-5m:+1h"), "principals: none"),
        ("user certificate", lambda t: sign(t, "-n", HOST, "-V", "-5m:+1h"), "user certificate"),
        ("SHA-1 CA signature", lambda t: sign(t, *GOOD, "-t", "ssh-rsa", ca="rsa-ca"), "SHA-1"),
        ("critical option", _critical_option_cert, "unknown critical options ['verify-required']"),
        ("tampered body", lambda t: _flip(sign(t, *GOOD), 60), "CA signature does not verify"),
        ("tampered signature", lambda t: _flip(sign(t, *GOOD), -3), "CA signature does not verify"),
        ("truncated", lambda t: sign(t, *GOOD)[:-10], "unreadable host certificate"),
        ("trailing bytes", lambda t: sign(t, *GOOD) + b"\0\0\0\0", "unreadable host certificate"),
        ("plain key for a certificate algorithm", lambda t: blob_of(t / "host.pub"),
         "blob was sent for"),
    ]


@pytest.mark.parametrize(("case", "make", "reason"), _refusal_cases(), ids=[c[0] for c in _refusal_cases()])
def test_a_bad_host_certificate_is_refused(keys: Path, case: str, make: Callable[[Path], bytes], reason: str) -> None:
    blob = make(keys)
    with pytest.raises(HostCertificateRefused) as refused:
        check_certificate(blob, ED, trust(keys, "ca", "rsa-ca"), HOST, time.time())
    assert reason in refused.value.reason, (case, refused.value.reason)


@pytest.mark.parametrize(("algorithm", "reason"), [
    ("ecdsa-sha2-nistp256-cert-v01@openssh.com", "blob was sent for"),  # an ed25519 cert under another name
    ("ssh-rsa-cert-v01@openssh.com", "not accepted"),  # SHA-1 host key signatures
    ("ssh-ed25519", "not accepted"),
])
def test_the_blob_must_match_the_negotiated_algorithm(keys: Path, algorithm: str, reason: str) -> None:
    blob = sign(keys, *GOOD)
    with pytest.raises(HostCertificateRefused) as refused:
        check_certificate(blob, algorithm, trust(keys, "ca"), HOST, time.time())
    assert reason in refused.value.reason


@pytest.mark.parametrize("revoked", ["host", "ca"])
def test_a_revoked_host_key_or_ca_is_refused(keys: Path, revoked: str) -> None:
    blob = sign(keys, *GOOD)
    with pytest.raises(HostCertificateRefused) as refused:
        check_certificate(blob, ED, trust(keys, "ca", revoked=(revoked,)), HOST, time.time())
    assert "@revoked" in refused.value.reason


def test_what_the_target_chose_reaches_the_user_printable(keys: Path) -> None:
    blob = sign(keys, "-h", "-n", HOST, "-V", "always:forever", "-I", "web\x1b]0;owned\x07-1")
    checked = check_certificate(blob, ED, trust(keys, "ca"), HOST, time.time())
    assert checked.key_id == "web?]0;owned?-1"
    with pytest.raises(HostCertificateRefused) as refused:
        check_certificate(blob, ED, trust(keys, "ca"), "db2.example.org", time.time())
    assert refused.value.reason.isprintable()


def test_the_validity_window_is_inclusive_of_its_start_and_exclusive_of_its_end(keys: Path) -> None:
    blob = sign(keys, "-h", "-n", HOST, "-V", "20300101000000Z:20300102000000Z")
    start = 1893456000  # 2030-01-01T00:00:00Z
    markers = trust(keys, "ca")
    assert check_certificate(blob, ED, markers, HOST, start).serial == 0
    for now in (start - 1, start + 86400):
        with pytest.raises(HostCertificateRefused):
            check_certificate(blob, ED, markers, HOST, now)


def _offered(cert_trust: CertTrust | None, key_types: list[str]) -> tuple[str, ...]:
    transport = CertificateTransport(socket.socketpair()[0])
    try:
        transport.get_security_options().key_types = key_types
        transport.cert_trust = cert_trust
        return tuple(transport.preferred_keys)
    finally:
        transport.close()


def test_certificate_algorithms_are_offered_first_only_when_a_ca_is_trusted() -> None:
    ca = HostMarkers([b"ca"], set())
    assert _offered(None, ["ssh-ed25519"]) == ("ssh-ed25519",)
    assert _offered(CertTrust(HostMarkers(), HOST, pinned=True), ["ssh-ed25519"]) == ("ssh-ed25519",)
    assert _offered(CertTrust(ca, HOST, pinned=True), ["ssh-ed25519"]) == (*CERT_ALGORITHMS, "ssh-ed25519")
    assert _offered(CertTrust(ca, HOST, pinned=False), ["ssh-ed25519", "rsa-sha2-512"]) == CERT_ALGORITHMS


@pytest.mark.parametrize(("key", "ca", "algorithm"), [
    ("host", "ca", ED),
    ("host-ecdsa", "ca", "ecdsa-sha2-nistp256-cert-v01@openssh.com"),
    ("host-rsa", "rsa-ca", "rsa-sha2-512-cert-v01@openssh.com"),
])
def test_every_flipped_bit_of_a_certificate_is_refused(keys: Path, key: str, ca: str, algorithm: str) -> None:
    blob = sign(keys, *GOOD, key=key, ca=ca)
    markers = trust(keys, ca)
    check_certificate(blob, algorithm, markers, HOST, time.time())  # the control
    for at in range(len(blob)):  # every byte is signed, is the CA key or is the signature
        for bit in (0x01, 0x80):
            bad = blob[:at] + bytes([blob[at] ^ bit]) + blob[at + 1:]
            with pytest.raises(HostCertificateRefused):
                check_certificate(bad, algorithm, markers, HOST, time.time())


def _exchange(keys: Path, algorithm: str, key: str, cert_trust: CertTrust | None) -> CertificateTransport:
    """A client transport as paramiko leaves it after the key exchange computed H."""
    transport = CertificateTransport(socket.socketpair()[0])
    transport.cert_trust = cert_trust
    transport.host_key_type = algorithm
    transport.H = b"exchange hash"
    return transport


def _sign_exchange(private: Path, algorithm: str | None) -> bytes:
    """The server's signature over the exchange hash (paramiko no longer signs SHA-1
    ``ssh-rsa``; cryptography makes that one)."""
    if algorithm != "ssh-rsa":
        return paramiko.PKey.from_path(private).sign_ssh_data(b"exchange hash", algorithm).asbytes()
    key = serialization.load_ssh_private_key(private.read_bytes(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    m = paramiko.Message()
    m.add_string("ssh-rsa")
    m.add_string(key.sign(b"exchange hash", padding.PKCS1v15(), hashes.SHA1()))
    return m.asbytes()


@pytest.mark.parametrize(("key", "algorithm", "signer", "sign_as", "accepted"), [
    ("host", ED, "host", None, True),
    ("host-rsa", "rsa-sha2-512-cert-v01@openssh.com", "host-rsa", "rsa-sha2-512", True),
    ("host", ED, "host-ecdsa", None, False),  # another key signed the exchange
    ("host-rsa", "rsa-sha2-512-cert-v01@openssh.com", "host-rsa", "ssh-rsa", False),  # downgraded to SHA-1
    ("host-rsa", "rsa-sha2-512-cert-v01@openssh.com", "host-rsa", "rsa-sha2-256", False),  # not what was agreed
])
def test_the_exchange_must_be_signed_by_the_certified_key(keys: Path, key: str, algorithm: str, signer: str,
                                                          sign_as: str | None, accepted: bool) -> None:
    blob = sign(keys, *GOOD, key=key)
    transport = _exchange(keys, algorithm, key, CertTrust(trust(keys, "ca"), HOST, pinned=False))
    sig = _sign_exchange(keys / signer, sign_as)
    try:
        if accepted:
            transport._verify_key(blob, sig)
            assert transport.host_certificate is not None and transport.host_certificate.key_id == "web-1 key"
            assert transport.host_key.asbytes() == blob_of(keys / f"{key}.pub")
        else:
            with pytest.raises(HostCertificateRefused):
                transport._verify_key(blob, sig)
            assert transport.host_certificate is None
    finally:
        transport.close()


def test_a_certificate_is_refused_when_no_ca_is_trusted(keys: Path) -> None:
    blob = sign(keys, *GOOD)
    sig = _sign_exchange(keys / "host", None)
    for cert_trust in (None, CertTrust(HostMarkers(), HOST, pinned=True)):
        transport = _exchange(keys, ED, "host", cert_trust)
        try:
            with pytest.raises(HostCertificateRefused, match="no CA is trusted"):
                transport._verify_key(blob, sig)
        finally:
            transport.close()
