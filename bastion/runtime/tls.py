"""The bastion's own TLS certificates: configured, or issued by a private CA kept in state_dir.

Without ``tls.cert_file`` the bastion keeps, in ``state_dir/tls``:

* ``ca.key`` (0600) and ``ca.crt``: a private CA made once and never changed by the
  bastion. Clients verify against ``ca.crt`` (the portal offers it for download).
* ``bastion.key`` (0600) and ``bastion.crt``: the server (leaf) certificate the CA signs:
  ``CA:FALSE``, keyUsage digitalSignature+keyEncipherment, extendedKeyUsage serverAuth,
  subjectAltNames for ``tls.hostnames`` plus every listener's bind address, subject and
  authority key identifiers. Strict verifiers (rustls/webpki, OpenSSL ``-x509_strict``)
  refuse a leaf that is itself a CA (``CaUsedAsEndEntity``), hence the two certificates.

The leaf is reissued, with the same CA, when it is missing, has fewer than
:data:`RENEW_BEFORE` left, names another set of hosts, or was not signed by the current
CA (e.g. a state dir from before the CA existed). Every process computes the same host
set from the configuration (:func:`certificate_hosts`) and regenerates under a file lock
with atomic renames, so the MySQL listener and the web process agree on one leaf.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import ipaddress
import os
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from bastion.config.model import BastionConfig, TLSConfig

CA_DAYS = 3650
LEAF_DAYS = 397
"""The longest lifetime public CAs may issue; some clients refuse longer ones."""
RENEW_BEFORE = datetime.timedelta(days=30)
RECHECK_SECONDS = 3600.0
"""How often a long-running listener re-checks its leaf (renewal happens without restart)."""
_WILDCARD_BINDS = frozenset({"", "0.0.0.0", "::", "*"})  # noqa: S104 - names, not a bind


def tls_dir(state_dir: Path) -> Path:
    return state_dir / "tls"


def ca_certificate(tls: TLSConfig, state_dir: Path) -> Path:
    """The file clients verify the bastion with: ``tls.cert_file`` if configured (its
    chain is the operator's), else the private CA's certificate ``ca.crt``."""
    return Path(tls.cert_file) if tls.cert_file else tls_dir(state_dir) / "ca.crt"


def certificate_hosts(config: BastionConfig) -> list[str]:
    """``tls.hostnames`` plus the enabled listeners' specific bind addresses, in order, once."""
    hosts = list(config.tls.hostnames)
    hosts += [lc.bind for lc in config.listeners.values() if lc.enabled and lc.bind not in _WILDCARD_BINDS]
    return list(dict.fromkeys(h.strip() for h in hosts if h.strip()))


def listener_certificate(config: BastionConfig, state_dir: Path) -> tuple[Path, Path]:
    """(cert, key) for the bastion's TLS listeners: :func:`ensure_certificate` with the
    hosts of :func:`certificate_hosts` (the same in every process)."""
    return ensure_certificate(config.tls, state_dir, certificate_hosts(config))


def ensure_certificate(tls: TLSConfig, state_dir: Path, hosts: Iterable[str] = ()) -> tuple[Path, Path]:
    """Return (cert, key) paths: the configured pair, or a CA-signed leaf in state_dir/tls
    for ``tls.hostnames`` + ``hosts``, made or renewed as the module docstring says."""
    if tls.cert_file and tls.key_file:
        return Path(tls.cert_file), Path(tls.key_file)
    names = list(dict.fromkeys([*tls.hostnames, *hosts])) or ["localhost"]
    d = tls_dir(state_dir)
    d.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = d / "bastion.crt", d / "bastion.key"
    with _locked(d / ".lock"):
        ca_cert, ca_key = _ensure_ca(d, names[0])
        if _leaf_needs_renewal(cert_path, key_path, ca_cert, names):
            key = _load_rsa_key(key_path)
            if key is None:
                key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
                _write_private(key_path, key)
            # A renewal keeps the leaf key: only the certificate file changes (atomically),
            # so a process loading the pair meanwhile never sees a key of another certificate.
            _write_atomic(cert_path, _leaf(key, names, ca_cert, ca_key).public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(str(cert), str(key))
    return ctx


class RenewingContext(ssl.SSLContext):
    """A server context that re-runs its certificate source every :data:`RECHECK_SECONDS`
    and loads the (possibly renewed) pair, so a listener that runs for a year renews its
    leaf without a restart. Handshakes already running keep the old certificate."""

    _source: Callable[[], tuple[Path, Path]]
    _checked: float
    _lock: threading.Lock

    def wrap_bio(self, incoming: ssl.MemoryBIO, outgoing: ssl.MemoryBIO, server_side: bool = False,
                 server_hostname: str | bytes | None = None, session: ssl.SSLSession | None = None) -> ssl.SSLObject:
        if time.monotonic() - self._checked > RECHECK_SECONDS:
            with self._lock:
                if time.monotonic() - self._checked > RECHECK_SECONDS:
                    self._checked = time.monotonic()
                    cert, key = self._source()
                    self.load_cert_chain(str(cert), str(key))
        return super().wrap_bio(incoming, outgoing, server_side, server_hostname, session)


def listener_context(config: BastionConfig, state_dir: Path) -> ssl.SSLContext:
    """The server context of the bastion's TLS listeners (certificate of
    :func:`listener_certificate`, renewed while running)."""
    ctx = RenewingContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx._source = lambda: listener_certificate(config, state_dir)
    ctx._lock = threading.Lock()
    ctx._checked = time.monotonic()
    ctx.load_cert_chain(*(str(p) for p in ctx._source()))
    return ctx


def _ensure_ca(d: Path, common_name: str) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    cert_path, key_path = d / "ca.crt", d / "ca.key"
    if cert_path.exists() and key_path.exists():
        key = _load_rsa_key(key_path)
        if key is None:
            raise ValueError(f"{key_path} is not a readable RSA private key")
        return x509.load_pem_x509_certificate(cert_path.read_bytes()), key
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "bastion"),
                         x509.NameAttribute(NameOID.COMMON_NAME, f"bastion private CA ({common_name})")])
    now = datetime.datetime.now(datetime.UTC)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(ski, critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
            .sign(key, hashes.SHA256()))
    _write_private(key_path, key)
    _write_atomic(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return cert, key


def _leaf(key: rsa.RSAPrivateKey, names: list[str], ca_cert: x509.Certificate,
          ca_key: rsa.RSAPrivateKey) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(min(now + datetime.timedelta(days=LEAF_DAYS), ca_cert.not_valid_after_utc))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=True,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectAlternativeName(_general_names(names)), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
            .sign(ca_key, hashes.SHA256()))


def _general_names(names: Iterable[str]) -> list[x509.GeneralName]:
    out: list[x509.GeneralName] = []
    for host in names:
        try:
            out.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            out.append(x509.DNSName(host))
    return out


def _leaf_needs_renewal(cert_path: Path, key_path: Path, ca_cert: x509.Certificate, names: list[str]) -> bool:
    key = _load_rsa_key(key_path)
    try:
        leaf = x509.load_pem_x509_certificate(cert_path.read_bytes())
        sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        aki = leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
        ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        is_ca = leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except (OSError, ValueError, x509.ExtensionNotFound):
        return True
    if key is None or is_ca or aki.key_identifier != ski.digest or leaf.issuer != ca_cert.subject:
        return True
    if key.public_key().public_numbers() != getattr(leaf.public_key(), "public_numbers", lambda: None)():
        return True
    if set(sans) != set(_general_names(names)):
        return True
    return leaf.not_valid_after_utc - datetime.datetime.now(datetime.UTC) < RENEW_BEFORE


def _load_rsa_key(path: Path) -> rsa.RSAPrivateKey | None:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError):
        return None
    return key if isinstance(key, rsa.RSAPrivateKey) else None


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _write_private(path: Path, key: rsa.RSAPrivateKey) -> None:
    _write_atomic(path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()), mode=0o600)


def _write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write then rename: a reader sees the old file or the new one, never half of one.
    Certificates too are the owner's alone (the state directory is private; the portal
    offers ca.crt to whoever needs it)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, mode)
    os.replace(tmp, path)
