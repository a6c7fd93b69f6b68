"""The bastion's private CA and the leaf it signs: strict verifiers accept the chain, renewal keeps the CA."""

from __future__ import annotations

import datetime
import ipaddress
import shutil
import ssl
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from bastion.config.model import BastionConfig, ListenerConfig, TLSConfig
from bastion.runtime import tls as tlsmod
from bastion.runtime.tls import (
    ca_certificate,
    certificate_hosts,
    ensure_certificate,
    listener_certificate,
    listener_context,
    server_context,
)


def strict_client(ca: Path) -> ssl.SSLContext:
    """A client as strict as rustls on the points that matter here: X509_STRICT (a CA
    without keyCertSign/SKI, a leaf without AKI are refused) plus hostname checking."""
    ctx = ssl.create_default_context(cafile=str(ca))
    ctx.verify_flags |= ssl.VERIFY_X509_STRICT
    return ctx


class CaUsedAsEndEntity(Exception):
    """webpki's (rustls's) refusal of a server certificate with CA:TRUE; OpenSSL accepts
    such a certificate when it is itself the trust anchor, even with X509_STRICT."""


def handshake(server: ssl.SSLContext, client: ssl.SSLContext, hostname: str) -> x509.Certificate:
    """Run a TLS handshake in memory, then apply webpki's end-entity rule; returns the
    certificate the server presented."""
    c_in, c_out, s_in, s_out = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    cli = client.wrap_bio(c_in, c_out, server_hostname=hostname)
    srv = server.wrap_bio(s_in, s_out, server_side=True)
    done = [False, False]
    for _ in range(20):
        for i, (obj, out, peer_in) in enumerate(((cli, c_out, s_in), (srv, s_out, c_in))):
            if not done[i]:
                try:
                    obj.do_handshake()
                    done[i] = True
                except ssl.SSLWantReadError:
                    pass
            peer_in.write(out.read())
        if all(done):
            der = cli.getpeercert(binary_form=True)
            assert der is not None
            presented = x509.load_der_x509_certificate(der)
            if presented.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
                raise CaUsedAsEndEntity(presented.subject.rfc4514_string())
            return presented
    raise AssertionError("handshake did not finish")


def config(state: Path, hostnames: list[str], binds: dict[str, str]) -> BastionConfig:
    return BastionConfig(state_dir=str(state), tls=TLSConfig(hostnames=hostnames),
                         listeners={name: ListenerConfig(port=0, bind=b) for name, b in binds.items()})


def test_leaf_is_an_end_entity_signed_by_the_private_ca(tmp_path: Path) -> None:
    cfg = config(tmp_path, ["bastion.corp.example", "127.0.0.1"], {"mysql": "10.1.2.3", "web": "0.0.0.0"})
    cert_path, key_path = listener_certificate(cfg, tmp_path)
    ca = x509.load_pem_x509_certificate((tmp_path / "tls" / "ca.crt").read_bytes())
    leaf = x509.load_pem_x509_certificate(cert_path.read_bytes())
    ext = leaf.extensions
    assert ext.get_extension_for_class(x509.BasicConstraints).value.ca is False
    ku = ext.get_extension_for_class(x509.KeyUsage).value
    assert ku.digital_signature and ku.key_encipherment and not ku.key_cert_sign
    assert list(ext.get_extension_for_class(x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.SERVER_AUTH]
    sans = ext.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["bastion.corp.example"]
    assert set(sans.get_values_for_type(x509.IPAddress)) == {ipaddress.ip_address("127.0.0.1"),
                                                             ipaddress.ip_address("10.1.2.3")}
    ca_ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert ext.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier == ca_ski.digest
    assert ext.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest != ca_ski.digest
    assert leaf.issuer == ca.subject and leaf.subject != ca.subject
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert ca.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    for private in (key_path, tmp_path / "tls" / "ca.key"):
        assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert ca_certificate(cfg.tls, tmp_path) == tmp_path / "tls" / "ca.crt"


@pytest.mark.parametrize("hostname", ["bastion.corp.example", "127.0.0.1", "10.1.2.3"])
def test_strict_client_verifies_every_listener_name(tmp_path: Path, hostname: str) -> None:
    cfg = config(tmp_path, ["bastion.corp.example", "127.0.0.1"], {"mysql": "10.1.2.3"})
    presented = handshake(listener_context(cfg, tmp_path), strict_client(tmp_path / "tls" / "ca.crt"), hostname)
    assert presented.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False


def test_strict_client_refuses_other_names(tmp_path: Path) -> None:
    cfg = config(tmp_path, ["localhost"], {})
    with pytest.raises(ssl.SSLCertVerificationError, match="mismatch|doesn't match"):
        handshake(listener_context(cfg, tmp_path), strict_client(tmp_path / "tls" / "ca.crt"), "db.example.org")


def legacy_self_signed(tls_dir: Path) -> None:
    """What older bastions left in state_dir/tls: one self-signed CA:TRUE certificate as the server's."""
    tls_dir.mkdir(parents=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=825))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    (tls_dir / "bastion.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tls_dir / "bastion.key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                            serialization.PrivateFormat.PKCS8,
                                                            serialization.NoEncryption()))


def test_strict_client_refuses_the_legacy_ca_as_leaf_and_the_state_dir_is_upgraded(tmp_path: Path) -> None:
    legacy_self_signed(tmp_path / "tls")
    old = tmp_path / "tls" / "bastion.crt"
    with pytest.raises(CaUsedAsEndEntity):
        handshake(server_context(old, tmp_path / "tls" / "bastion.key"), strict_client(old), "localhost")
    cert, key = ensure_certificate(TLSConfig(hostnames=["localhost"]), tmp_path)
    handshake(server_context(cert, key), strict_client(tmp_path / "tls" / "ca.crt"), "localhost")


def test_openssl_x509_strict_verifies_the_chain(tmp_path: Path) -> None:
    openssl = shutil.which("openssl")
    assert openssl, "openssl is needed (apt-get install openssl)"
    cert, _ = ensure_certificate(TLSConfig(hostnames=["localhost", "127.0.0.1"]), tmp_path)
    ca = tmp_path / "tls" / "ca.crt"
    ok = subprocess.run([openssl, "verify", "-x509_strict", "-purpose", "sslserver", "-verify_hostname", "localhost",
                         "-CAfile", str(ca), str(cert)], capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.strip().endswith(": OK"), ok.stdout + ok.stderr
    # The leaf is no CA: nothing verifies against it as a trust anchor for another name.
    bad = subprocess.run([openssl, "verify", "-x509_strict", "-verify_hostname", "db.example.org",
                          "-CAfile", str(ca), str(cert)], capture_output=True, text=True)
    assert bad.returncode != 0


def test_unchanged_settings_keep_the_leaf(tmp_path: Path) -> None:
    cert, _ = ensure_certificate(TLSConfig(hostnames=["localhost"]), tmp_path)
    first = cert.read_bytes()
    ensure_certificate(TLSConfig(hostnames=["localhost"]), tmp_path)
    assert cert.read_bytes() == first


def test_renewal_near_expiry_keeps_the_ca(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cert, _ = ensure_certificate(TLSConfig(hostnames=["localhost"]), tmp_path)
    ca_before = (tmp_path / "tls" / "ca.crt").read_bytes()
    ca_key_before = (tmp_path / "tls" / "ca.key").read_bytes()
    old = x509.load_pem_x509_certificate(cert.read_bytes())
    # Pretend the leaf has less than the renewal margin left.
    monkeypatch.setattr(tlsmod, "RENEW_BEFORE", datetime.timedelta(days=tlsmod.LEAF_DAYS + 1))
    cert, key = ensure_certificate(TLSConfig(hostnames=["localhost"]), tmp_path)
    new = x509.load_pem_x509_certificate(cert.read_bytes())
    assert new.serial_number != old.serial_number
    assert (tmp_path / "tls" / "ca.crt").read_bytes() == ca_before
    assert (tmp_path / "tls" / "ca.key").read_bytes() == ca_key_before
    handshake(server_context(cert, key), strict_client(tmp_path / "tls" / "ca.crt"), "localhost")


def test_new_hostname_reissues_the_leaf_with_the_same_ca(tmp_path: Path) -> None:
    ensure_certificate(TLSConfig(hostnames=["localhost"]), tmp_path)
    ca_before = (tmp_path / "tls" / "ca.crt").read_bytes()
    cert, key = ensure_certificate(TLSConfig(hostnames=["localhost", "db-gw.corp.example"]), tmp_path)
    assert (tmp_path / "tls" / "ca.crt").read_bytes() == ca_before
    handshake(server_context(cert, key), strict_client(tmp_path / "tls" / "ca.crt"), "db-gw.corp.example")


def test_running_listener_renews_without_restart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = config(tmp_path, ["localhost"], {})
    server = listener_context(cfg, tmp_path)
    client = strict_client(tmp_path / "tls" / "ca.crt")
    first = handshake(server, client, "localhost")
    assert handshake(server, client, "localhost").serial_number == first.serial_number
    monkeypatch.setattr(tlsmod, "RECHECK_SECONDS", -1.0)
    monkeypatch.setattr(tlsmod, "RENEW_BEFORE", datetime.timedelta(days=tlsmod.LEAF_DAYS + 1))
    assert handshake(server, client, "localhost").serial_number != first.serial_number


def test_configured_certificate_is_used_as_is(tmp_path: Path) -> None:
    own = TLSConfig(cert_file=str(tmp_path / "own.crt"), key_file=str(tmp_path / "own.key"))
    assert ensure_certificate(own, tmp_path) == (tmp_path / "own.crt", tmp_path / "own.key")
    assert ca_certificate(own, tmp_path) == tmp_path / "own.crt"
    assert not (tmp_path / "tls").exists()


@pytest.mark.parametrize(("hostnames", "binds", "expected"), [
    (["localhost", "127.0.0.1"], {"mysql": "127.0.0.1", "web": "127.0.0.1"}, ["localhost", "127.0.0.1"]),
    (["gw.example"], {"mysql": "0.0.0.0", "ssh": "::"}, ["gw.example"]),
    (["gw.example"], {"mysql": "10.0.0.5", "web": "fd00::5"}, ["gw.example", "10.0.0.5", "fd00::5"]),
    ([], {"mysql": "10.0.0.5"}, ["10.0.0.5"]),
])
def test_certificate_hosts(tmp_path: Path, hostnames: list[str], binds: dict[str, str], expected: list[str]) -> None:
    assert certificate_hosts(config(tmp_path, hostnames, binds)) == expected
