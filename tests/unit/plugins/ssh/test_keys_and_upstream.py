"""Host key files, vaulted private keys and known_hosts pinning (no sockets)."""

from __future__ import annotations

import json
import subprocess

import pytest

from bastion.core.types import Target
from plugins.ssh.hostkeys import ensure_host_keys
from plugins.ssh.upstream import HostKeyRejected, _key_types, _known_hosts, load_private_key


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
