"""Short-lived bastion tokens: the credential users give their native clients.

A token is ``bst_<id>_<secret>``: ``id`` is a short public handle (listed, revoked by
id), ``secret`` 32 random bytes. Only SHA-256 of the whole token is stored, so a leak
of the state store leaks no usable token.

``native_hash`` = SHA1(SHA1(token)) is stored too, at issue time: it is what a
``mysql_native_password`` handshake (MySQL listener option ``auth_plugins``) can be
verified against, and nothing else can. That hash is weak for passwords (fast to guess),
not for these tokens: the secret is 256 random bits, so no guessing recovers it from the
hash, and the hash alone does not authenticate (the handshake needs SHA1(token), which
only a client's scramble reveals, and that travels inside the mandatory TLS). Tokens
issued before the column was filled have NULL there and cannot log in that way.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from bastion.core.types import Identity
from bastion.state.store import StateStore, tokens

PREFIX = "bst_"


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What the store knows about a token (never the token itself)."""

    id: str
    user: str
    email: str
    groups: frozenset[str]
    reason: str
    created_by: str
    created_at: float
    expires_at: float
    revoked_at: float | None
    last_used_at: float | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None and self.expires_at > time.time()

    def identity(self) -> Identity:
        return Identity(subject=self.user, email=self.email, groups=self.groups, idp="token",
                        authenticated_at=self.created_at)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def native_hash(token: str) -> str:
    """SHA1(SHA1(token)): what ``mysql_native_password`` verification needs."""
    return hashlib.sha1(hashlib.sha1(token.encode("utf-8")).digest()).hexdigest()


class TokenStore:
    """Issue, verify, list and revoke tokens."""

    def __init__(self, store: StateStore) -> None:
        self.store = store

    def issue(self, user: str, groups: frozenset[str] | set[str], ttl: float, *, email: str = "",
              reason: str = "", created_by: str = "") -> tuple[str, TokenInfo]:
        """Create a token valid for ``ttl`` seconds; returns (token, info). Shown once."""
        if ttl <= 0:
            raise ValueError("ttl must be positive")
        token_id = secrets.token_hex(6)
        token = f"{PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
        now = time.time()
        row = {
            "id": token_id, "hash": token_hash(token),
            "native_hash": native_hash(token),
            "user": user, "email": email, "groups": json.dumps(sorted(groups)), "reason": reason,
            "created_by": created_by or user, "created_at": now, "expires_at": now + ttl,
            "revoked_at": None, "last_used_at": None,
        }
        with self.store.engine.begin() as conn:
            conn.execute(tokens.insert().values(**row))
        return token, _info(row)

    def verify(self, token: str) -> TokenInfo | None:
        """The active token's info, or None if unknown, expired or revoked."""
        if not token.startswith(PREFIX) or len(token) > 200:
            return None
        digest = token_hash(token)
        with self.store.engine.begin() as conn:
            row = conn.execute(sa.select(tokens).where(tokens.c.hash == digest)).mappings().first()
            if row is None or not hmac.compare_digest(row["hash"], digest):
                return None
            info = _info(dict(row))
            if not info.active:
                return None
            conn.execute(tokens.update().where(tokens.c.id == info.id).values(last_used_at=time.time()))
        return info

    def native_candidates(self, user: str | None = None) -> list[tuple[TokenInfo, str]]:
        """Active tokens (of ``user`` when given) that have a native hash."""
        cond = [tokens.c.revoked_at.is_(None), tokens.c.native_hash.is_not(None), tokens.c.expires_at > time.time()]
        if user is not None:
            cond.append(tokens.c.user == user)
        with self.store.engine.begin() as conn:
            rows = conn.execute(sa.select(tokens).where(*cond)).mappings().all()
        return [(_info(dict(r)), str(r["native_hash"])) for r in rows]

    def verify_native(self, salt: bytes, scramble: bytes, user: str | None = None) -> TokenInfo | None:
        """The active token whose ``mysql_native_password`` answer to ``salt`` is ``scramble``.

        The client sends ``SHA1(token) XOR SHA1(salt + SHA1(SHA1(token)))``; for each
        candidate's stored double hash this recovers SHA1(token) and compares its SHA1
        with the stored one. The scramble names no token, so every active token (of
        ``user`` when the MySQL user name names one) is a candidate: one SHA1 each.
        """
        if len(scramble) != 20 or not salt:
            return None
        for info, stored_hex in self.native_candidates(user):
            stored = bytes.fromhex(stored_hex)
            mask = hashlib.sha1(salt + stored).digest()
            sha1_token = bytes(a ^ b for a, b in zip(scramble, mask, strict=True))
            if hmac.compare_digest(hashlib.sha1(sha1_token).digest(), stored) and info.active:
                with self.store.engine.begin() as conn:
                    conn.execute(tokens.update().where(tokens.c.id == info.id).values(last_used_at=time.time()))
                return info
        return None

    def revoke(self, token_id: str, user: str | None = None) -> bool:
        """Revoke by id (only ``user``'s own token when given); True if something changed."""
        cond = [tokens.c.id == token_id, tokens.c.revoked_at.is_(None)]
        if user is not None:
            cond.append(tokens.c.user == user)
        with self.store.engine.begin() as conn:
            result = conn.execute(tokens.update().where(*cond).values(revoked_at=time.time()))
        return bool(result.rowcount)

    def list(self, user: str | None = None, include_inactive: bool = False) -> list[TokenInfo]:
        query = sa.select(tokens).order_by(tokens.c.created_at.desc())
        if user is not None:
            query = query.where(tokens.c.user == user)
        with self.store.engine.begin() as conn:
            rows = conn.execute(query).mappings().all()
        infos = [_info(dict(r)) for r in rows]
        return infos if include_inactive else [i for i in infos if i.active]

    def get(self, token_id: str) -> TokenInfo | None:
        with self.store.engine.begin() as conn:
            row = conn.execute(sa.select(tokens).where(tokens.c.id == token_id)).mappings().first()
        return _info(dict(row)) if row else None


def _info(row: Mapping[str, Any]) -> TokenInfo:
    return TokenInfo(
        id=str(row["id"]), user=str(row["user"]), email=str(row.get("email") or ""),
        groups=frozenset(json.loads(str(row["groups"]))), reason=str(row.get("reason") or ""),
        created_by=str(row.get("created_by") or ""), created_at=float(row["created_at"]),
        expires_at=float(row["expires_at"]),
        revoked_at=row.get("revoked_at"),
        last_used_at=row.get("last_used_at"),
    )
