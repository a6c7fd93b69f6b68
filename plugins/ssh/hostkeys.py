"""The bastion's own SSH host keys: generated once, kept in ``state_dir/ssh/``.

An ed25519 key plus an RSA key (served as rsa-sha2-256/512 to older clients). Their
fingerprints go to ``state_dir/ssh/host_keys.json`` for the web portal, so users can
check what their client shows on first connect. These keys are never used towards
targets: the upstream leg authenticates with vaulted credentials.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from bastion.state.directory import ssh_fingerprint

RSA_BITS = 3072


def _write_private(path: Path, pem: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)


def _generate(path: Path, kind: str) -> None:
    if kind == "ed25519":
        key = ed25519.Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                serialization.NoEncryption())
        _write_private(path, pem)
    else:
        rsa = paramiko.RSAKey.generate(RSA_BITS)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        rsa.write_private_key_file(str(tmp))
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, path)  # atomic create-if-missing: raises FileExistsError if we lost a race
        finally:
            tmp.unlink()


def _load(path: Path, kind: str) -> paramiko.PKey:
    if kind == "ed25519":
        return paramiko.Ed25519Key.from_private_key_file(str(path))
    return paramiko.RSAKey.from_private_key_file(str(path))


def ensure_host_keys(state_dir: Path) -> list[paramiko.PKey]:
    """Load (creating on first run) the host keys and refresh ``host_keys.json``."""
    directory = state_dir / "ssh"
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    keys = []
    for kind in ("ed25519", "rsa"):
        path = directory / f"ssh_host_{kind}_key"
        if not path.exists():
            try:
                _generate(path, kind)
            except FileExistsError:
                pass  # another bastion process on the same state_dir created it first
        keys.append(_load(path, kind))
    describe = [{"type": k.get_name(), "fingerprint": ssh_fingerprint(k.get_name(), k.asbytes()),
                 "public_key": f"{k.get_name()} {k.get_base64()}"} for k in keys]
    tmp = directory / f"host_keys.json.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(describe, indent=2) + "\n")
    os.replace(tmp, directory / "host_keys.json")
    return keys
