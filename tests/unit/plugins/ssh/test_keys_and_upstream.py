"""Host key files, vaulted private keys and known_hosts pinning (no sockets)."""

from __future__ import annotations

import base64
import json
import subprocess

import paramiko
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from bastion.core.types import Target
from plugins.ssh.hostkeys import ensure_host_keys
from plugins.ssh.upstream import load_private_key
from plugins.ssh.upstream_transport import HostKeyRejected, _key_types
from plugins.ssh.upstream_transport import known_hosts as _known_hosts


def test_host_keys_are_created_once_and_published(tmp_path):
    keys = ensure_host_keys(tmp_path)
    assert [k.get_name() for k in keys] == ["ssh-ed25519", "ssh-rsa"]
    again = ensure_host_keys(tmp_path)
    assert [k.asbytes() for k in again] == [k.asbytes() for k in keys]
    published = json.loads((tmp_path / "ssh" / "host_keys.json").read_text())
    assert [p["type"] for p in published] == ["ssh-ed25519", "ssh-rsa"]
    assert all(p["fingerprint"].startswith("SHA256:") and "=" not in p["fingerprint"] for p in published)
    assert (tmp_path / "ssh" / "ssh_host_ed25519_key").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(("kind", "fmt"), [("ed25519", "RFC4716"), ("rsa", "PEM"), ("ecdsa", "RFC4716")])
def test_load_private_key(tmp_path, kind, fmt):
    path = tmp_path / "k"
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-m", fmt, "-N", "", "-f", str(path)], check=True)
    key = load_private_key(path.read_bytes())
    assert key.get_base64() == (tmp_path / "k.pub").read_text().split()[1]


def _target(known: str, port: int = 2200) -> Target:
    return Target(name="web01", protocol="ssh", host="10.1.2.3", port=port, options={"known_hosts": known})


def test_known_hosts_lookup(tmp_path):
    key = ensure_host_keys(tmp_path)[0]
    known = tmp_path / "known_hosts"
    known.write_text(f"[10.1.2.3]:2200 ssh-ed25519 {key.get_base64()}\n")
    found = _known_hosts(_target(str(known))).pinned
    assert list(found) == ["ssh-ed25519"] and found["ssh-ed25519"].asbytes() == key.asbytes()
    assert _key_types({"ssh-rsa": key, "ssh-ed25519": key}) == ["rsa-sha2-512", "rsa-sha2-256", "ssh-ed25519"]
    with pytest.raises(HostKeyRejected) as unknown:
        _known_hosts(_target(str(known), port=2201))
    assert "unknown to the bastion" in unknown.value.message and unknown.value.reason == "unknown host key"
    with pytest.raises(HostKeyRejected) as missing:
        _known_hosts(_target(str(tmp_path / "missing")))
    assert "no known_hosts file" in missing.value.message


def _ed25519() -> paramiko.PKey:
    line = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).split()
    return paramiko.PKey.from_type_string(line[0].decode(), base64.b64decode(line[1]))


def test_known_hosts_with_a_host_ca_and_no_pinned_key(tmp_path):
    key, ca = _ed25519(), _ed25519()
    known = tmp_path / "known_hosts"
    known.write_text(f"@cert-authority [10.1.2.*]:2200 ssh-ed25519 {ca.get_base64()} ca\n"
                     f"@revoked * ssh-ed25519 {key.get_base64()}\n[10.9.9.9]:2200 ssh-ed25519 {key.get_base64()}\n")
    found = _known_hosts(_target(str(known)))
    assert found.pinned == {} and found.markers.authorities == [ca.asbytes()]
    assert found.markers.revoked == {key.asbytes()}
    with pytest.raises(HostKeyRejected) as unknown:  # the CA line names other hosts
        _known_hosts(_target(str(known), port=2201))
    assert unknown.value.reason == "unknown host key"


@pytest.mark.parametrize("line", [
    "[10.1.2.3]:2200 ssh-ed25519 not-base64!",  # paramiko's own loader raised here instead of skipping
    "@cert-authority [10.1.2.3]:2200 ssh-ed25519 AAAA",
    "@revoked * ssh-ed25519",
])
def test_an_unreadable_known_hosts_line_refuses_the_target(tmp_path, line):
    key = _ed25519()
    known = tmp_path / "known_hosts"
    known.write_text(f"[10.1.2.3]:2200 ssh-ed25519 {key.get_base64()}\n{line}\n")
    with pytest.raises(HostKeyRejected) as bad:
        _known_hosts(_target(str(known)))
    assert "cannot read" in bad.value.message and bad.value.reason.startswith("known_hosts unusable: line 2")
