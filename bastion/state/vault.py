"""Credential vault: target passwords and SSH private keys, encrypted at rest.

Secrets are sealed with AES-256-GCM under a 32-byte key read from an environment
variable or a key file (never from the state store). The associated data binds each
ciphertext to its ``target/account`` so rows cannot be swapped. ``key_id`` (a hash
prefix of the key) lets ``rotate`` re-encrypt everything and tells a wrong key apart
from a corrupted row. Secrets never leave this module except to the protocol plugin
that dials the target; they are not logged, printed or returned by any API.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bastion.state.store import StateStore, credentials

KINDS = ("password", "ssh-key")


class VaultError(Exception):
    """A secret cannot be stored or opened (wrong key, missing entry, bad key file)."""


@dataclass(frozen=True, slots=True)
class Secret:
    kind: str
    value: bytes

    def __repr__(self) -> str:  # keep secrets out of tracebacks and debug logs
        return f"Secret(kind={self.kind!r}, value=<{len(self.value)} bytes>)"


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"bastion-vault-key" + key).hexdigest()[:16]


def load_key(key_file: str | None, key_env: str | None, create: bool = True) -> bytes:
    """Read the vault key (base64 of 32 bytes); create the key file if allowed and missing."""
    if key_env:
        raw = os.environ.get(key_env)
        if raw is None:
            raise VaultError(f"environment variable {key_env} (vault.key_env) is not set")
        return _decode_key(raw, f"${key_env}")
    if not key_file:
        raise VaultError("no vault key configured (vault.key_file or vault.key_env)")
    path = Path(key_file)
    if not path.exists():
        if not create:
            raise VaultError(f"vault key file {path} does not exist")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
    return _decode_key(path.read_text(), str(path))


def _decode_key(raw: str, where: str) -> bytes:
    try:
        key = base64.b64decode(raw.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise VaultError(f"vault key in {where} is not valid base64") from None
    if len(key) != 32:
        raise VaultError(f"vault key in {where} must be 32 bytes, found {len(key)}")
    return key


class Vault:
    def __init__(self, store: StateStore, key: bytes) -> None:
        self.store = store
        self._key = key
        self.key_id = key_id(key)

    def set(self, target: str, account: str, kind: str, value: bytes) -> None:
        if kind not in KINDS:
            raise VaultError(f"unknown credential kind {kind!r} (expected one of {', '.join(KINDS)})")
        if not value:
            raise VaultError("refusing to store an empty secret")
        sealed = _seal(self._key, value, target, account)
        row = {"target": target, "account": account, "kind": kind, "key_id": self.key_id,
               "ciphertext": sealed, "updated_at": time.time()}
        with self.store.engine.begin() as conn:
            conn.execute(credentials.delete().where(credentials.c.target == target,
                                                    credentials.c.account == account))
            conn.execute(credentials.insert().values(**row))

    def get(self, target: str, account: str) -> Secret:
        with self.store.engine.begin() as conn:
            row = conn.execute(sa.select(credentials).where(
                credentials.c.target == target, credentials.c.account == account)).mappings().first()
        if row is None:
            raise VaultError(f"no credential stored for {target}/{account}")
        if row["key_id"] != self.key_id:
            raise VaultError(f"credential {target}/{account} was sealed with another vault key "
                             f"({row['key_id']}); current key is {self.key_id}")
        return Secret(row["kind"], _open(self._key, row["ciphertext"], target, account))

    def delete(self, target: str, account: str) -> bool:
        with self.store.engine.begin() as conn:
            result = conn.execute(credentials.delete().where(credentials.c.target == target,
                                                             credentials.c.account == account))
        return bool(result.rowcount)

    def entries(self) -> list[tuple[str, str, str, str, float]]:
        """(target, account, kind, key_id, updated_at) for every stored secret — no values."""
        with self.store.engine.begin() as conn:
            rows = conn.execute(sa.select(credentials.c.target, credentials.c.account, credentials.c.kind,
                                          credentials.c.key_id, credentials.c.updated_at)
                                .order_by(credentials.c.target, credentials.c.account)).all()
        return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    def rotate(self, new_key: bytes) -> int:
        """Re-encrypt every secret under ``new_key`` in one transaction; returns the count."""
        new_id = key_id(new_key)
        count = 0
        with self.store.engine.begin() as conn:
            rows = conn.execute(sa.select(credentials)).mappings().all()
            for row in rows:
                if row["key_id"] == new_id:
                    continue
                if row["key_id"] != self.key_id:
                    raise VaultError(f"credential {row['target']}/{row['account']} is sealed with an "
                                     f"unknown key {row['key_id']}; rotation aborted, nothing changed")
                clear = _open(self._key, row["ciphertext"], row["target"], row["account"])
                conn.execute(credentials.update().where(
                    credentials.c.target == row["target"], credentials.c.account == row["account"],
                ).values(ciphertext=_seal(new_key, clear, row["target"], row["account"]), key_id=new_id))
                count += 1
        self._key, self.key_id = new_key, new_id
        return count


def _aad(target: str, account: str) -> bytes:
    return f"bastion-credential:{target}/{account}".encode()


def _seal(key: bytes, value: bytes, target: str, account: str) -> bytes:
    nonce = secrets.token_bytes(12)
    return nonce + AESGCM(key).encrypt(nonce, value, _aad(target, account))


def _open(key: bytes, sealed: bytes, target: str, account: str) -> bytes:
    try:
        return AESGCM(key).decrypt(sealed[:12], sealed[12:], _aad(target, account))
    except (InvalidTag, ValueError):
        raise VaultError(f"credential {target}/{account} cannot be decrypted (wrong key or tampered row)") from None
