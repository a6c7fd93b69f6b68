"""The SSH user CA: key file, certificate contents (checked by OpenSSH's own ssh-keygen -L)."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import load_ssh_public_identity

from bastion.state.ssh_ca import UserCA, key_id
from plugins.ssh.options import target_problems


def test_ca_is_created_private_and_reused(tmp_path: Path) -> None:
    ca = UserCA.open(tmp_path)
    path = tmp_path / "ssh" / "user_ca"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert UserCA.open(tmp_path).public_line() == ca.public_line()
    assert ca.public_line().startswith("ssh-ed25519 ") and "PRIVATE" not in ca.public_line()
    with pytest.raises(FileNotFoundError):
        UserCA.open(tmp_path / "other", create=False)


def test_certificate_fields(tmp_path: Path) -> None:
    ca = UserCA.open(tmp_path)
    user = ed25519.Ed25519PrivateKey.generate().public_key()
    line = ca.sign(user, principal="deploy", key_id=key_id("alice@example.org", "s1"), source_address="10.0.0.5",
                   validity=60, now=1_800_000_000)
    cert: Any = load_ssh_public_identity(line)
    assert cert.valid_principals == [b"deploy"] and cert.key_id == b"bastion:alice@example.org:session=s1"
    assert cert.valid_after == 1_800_000_000 - 30 and cert.valid_before == 1_800_000_060
    assert cert.critical_options == {b"source-address": b"10.0.0.5"}
    assert set(cert.extensions) == {b"permit-pty", b"permit-port-forwarding"}
    cert.verify_cert_signature()
    path = tmp_path / "c.pub"
    path.write_bytes(line)
    listing = subprocess.run(["ssh-keygen", "-L", "-f", str(path)], capture_output=True, text=True, check=True).stdout
    assert "user certificate" in listing and "source-address 10.0.0.5" in listing and "deploy" in listing


@pytest.mark.parametrize(("person", "expected"), [
    ("alice", "bastion:alice:session=x"), ('ev"il\\', "bastion:ev?il?:session=x"), ("a\nb", "bastion:a?b:session=x"),
])
def test_key_id_is_one_printable_line(person: str, expected: str) -> None:
    assert key_id(person, "x") == expected


@pytest.mark.parametrize(("options", "ok"), [
    ({"credential": "ssh-certificate"}, True),
    ({"credential": "vault"}, True),
    ({"credential": "ssh-certificate", "certificate_validity": 120, "certificate_source_address": "none"}, True),
    ({"credential": "certificate"}, False),
    ({"certificate_validity": 0}, False),
    ({"certificate_validity": 86400}, False),
    ({"certificate_validity": True}, False),
    ({"certificate_source_address": "10.0.0.1 evil"}, False),
])
def test_certificate_target_options(options: dict[str, Any], ok: bool) -> None:
    assert (target_problems({"known_hosts": "/k", **options}) == []) is ok
