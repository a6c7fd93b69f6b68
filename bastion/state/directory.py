"""Users known from SAML logins, their registered SSH keys, and login links.

* ``UserDirectory``: the identity of every user as of their last SAML login (identity is
  refreshed at every login), so an SSH public-key login can be judged with the same
  groups as a web login.
* ``SSHKeys``: public keys users upload in the portal; looked up by fingerprint.
* ``LoginLinks``: a protocol plugin opens a pending login with a one-time code, the user
  opens ``/login/<code>``, signs in through SAML and approves; the plugin then consumes
  the approved identity exactly once. Codes expire in minutes. Works across processes
  (the state store is shared), so the web app and the listeners may run apart.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from bastion.core.types import Identity
from bastion.state.store import StateStore, login_links, ssh_keys, users


def identity_to_json(identity: Identity) -> str:
    return json.dumps({"subject": identity.subject, "email": identity.email, "groups": sorted(identity.groups),
                       "display_name": identity.display_name, "idp": identity.idp,
                       "authenticated_at": identity.authenticated_at})


def identity_from_json(text: str) -> Identity:
    d = json.loads(text)
    return Identity(subject=d["subject"], email=d.get("email", ""), groups=frozenset(d.get("groups", [])),
                    display_name=d.get("display_name", ""), idp=d.get("idp", ""),
                    authenticated_at=float(d.get("authenticated_at", 0)))


class UserDirectory:
    def __init__(self, store: StateStore) -> None:
        self.store = store

    def remember(self, identity: Identity, roles: frozenset[str] = frozenset()) -> None:
        row = {"email": identity.email, "display_name": identity.display_name,
               "groups": json.dumps(sorted(identity.groups)), "roles": json.dumps(sorted(roles)),
               "last_login": time.time()}
        with self.store.engine.begin() as conn:
            updated = conn.execute(users.update().where(users.c.subject == identity.subject).values(**row))
            if not updated.rowcount:
                conn.execute(users.insert().values(subject=identity.subject, **row))

    def get(self, subject: str) -> Identity | None:
        with self.store.engine.begin() as conn:
            row = conn.execute(sa.select(users).where(users.c.subject == subject)).mappings().first()
        if row is None:
            return None
        return Identity(subject=row["subject"], email=row["email"], groups=frozenset(json.loads(row["groups"])),
                        display_name=row["display_name"], idp="saml", authenticated_at=row["last_login"])

    def all(self) -> list[tuple[Identity, frozenset[str]]]:
        with self.store.engine.begin() as conn:
            rows = conn.execute(sa.select(users).order_by(users.c.subject)).mappings().all()
        return [(Identity(subject=r["subject"], email=r["email"], groups=frozenset(json.loads(r["groups"])),
                          display_name=r["display_name"], idp="saml", authenticated_at=r["last_login"]),
                 frozenset(json.loads(r["roles"]))) for r in rows]


@dataclass(frozen=True, slots=True)
class SSHKey:
    fingerprint: str
    user: str
    public_key: str
    comment: str
    created_at: float


def ssh_fingerprint(key_type: str, blob: bytes) -> str:
    """OpenSSH-style ``SHA256:<base64>`` fingerprint of a public key blob."""
    del key_type
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def parse_public_key(line: str) -> tuple[str, bytes, str]:
    """``(type, blob, comment)`` of an OpenSSH public key line; ValueError if malformed."""
    parts = line.strip().split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(("ssh-", "ecdsa-", "sk-")):
        raise ValueError("not an OpenSSH public key line (expected 'ssh-ed25519 AAAA... comment')")
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except ValueError:
        raise ValueError("the key's base64 part is malformed") from None
    if not blob.startswith(len(parts[0]).to_bytes(4, "big") + parts[0].encode()):
        raise ValueError("key type and key data do not match")
    return parts[0], blob, parts[2] if len(parts) > 2 else ""


class SSHKeys:
    def __init__(self, store: StateStore) -> None:
        self.store = store

    def add(self, user: str, line: str) -> SSHKey:
        key_type, blob, comment = parse_public_key(line)
        key = SSHKey(ssh_fingerprint(key_type, blob), user, f"{key_type} {base64.b64encode(blob).decode()}",
                     comment[:255], time.time())
        with self.store.engine.begin() as conn:
            existing = conn.execute(sa.select(ssh_keys.c.user).where(ssh_keys.c.fingerprint == key.fingerprint)).first()
            if existing is not None:
                raise ValueError("this key is already registered" + ("" if existing[0] == user else " by another user"))
            conn.execute(ssh_keys.insert().values(fingerprint=key.fingerprint, user=user, public_key=key.public_key,
                                                  comment=key.comment, created_at=key.created_at))
        return key

    def list(self, user: str | None = None) -> list[SSHKey]:
        query = sa.select(ssh_keys).order_by(ssh_keys.c.created_at)
        if user is not None:
            query = query.where(ssh_keys.c.user == user)
        with self.store.engine.begin() as conn:
            rows = conn.execute(query).mappings().all()
        return [SSHKey(r["fingerprint"], r["user"], r["public_key"], r["comment"], r["created_at"]) for r in rows]

    def remove(self, fingerprint: str, user: str | None = None) -> bool:
        cond = [ssh_keys.c.fingerprint == fingerprint]
        if user is not None:
            cond.append(ssh_keys.c.user == user)
        with self.store.engine.begin() as conn:
            return bool(conn.execute(ssh_keys.delete().where(*cond)).rowcount)

    def owner(self, key_type: str, blob: bytes) -> str | None:
        fingerprint = ssh_fingerprint(key_type, blob)
        with self.store.engine.begin() as conn:
            row = conn.execute(sa.select(ssh_keys.c.user).where(ssh_keys.c.fingerprint == fingerprint)).first()
        return str(row[0]) if row else None


@dataclass(frozen=True, slots=True)
class LoginLink:
    code: str
    protocol: str
    target: str
    client_addr: str
    created_at: float
    expires_at: float
    status: str
    """``pending``, ``approved``, ``denied`` or ``used``."""
    identity: Identity | None


class LoginLinks:
    def __init__(self, store: StateStore, ttl: float = 300.0) -> None:
        self.store = store
        self.ttl = ttl

    def open(self, protocol: str, target: str, client_addr: str) -> str:
        # 128 bits, URL-safe, no look-alike characters needed: users click, they do not type it
        code = secrets.token_urlsafe(16)
        now = time.time()
        with self.store.engine.begin() as conn:
            conn.execute(login_links.insert().values(code=code, protocol=protocol, target=target,
                                                     client_addr=client_addr, created_at=now,
                                                     expires_at=now + self.ttl, status="pending", identity=None))
        return code

    def get(self, code: str) -> LoginLink | None:
        with self.store.engine.begin() as conn:
            row = conn.execute(sa.select(login_links).where(login_links.c.code == code)).mappings().first()
        if row is None:
            return None
        identity = identity_from_json(row["identity"]) if row["identity"] else None
        return LoginLink(row["code"], row["protocol"], row["target"], row["client_addr"], row["created_at"],
                         row["expires_at"], row["status"], identity)

    def _transition(self, code: str, frm: str, to: str, **values: object) -> bool:
        with self.store.engine.begin() as conn:
            result = conn.execute(login_links.update().where(
                login_links.c.code == code, login_links.c.status == frm,
                login_links.c.expires_at > time.time()).values(status=to, **values))
        return bool(result.rowcount)

    def approve(self, code: str, identity: Identity) -> bool:
        """The signed-in user approves a pending, unexpired link (once)."""
        return self._transition(code, "pending", "approved", identity=identity_to_json(identity))

    def deny(self, code: str) -> bool:
        return self._transition(code, "pending", "denied")

    def consume(self, code: str) -> Identity | None:
        """The approved identity, exactly once; None if pending, denied, used or expired."""
        link = self.get(code)
        if link is None or link.status != "approved" or link.identity is None:
            return None
        return link.identity if self._transition(code, "approved", "used") else None

    def wait(self, code: str, timeout: float, sleep: Callable[[float], None] = time.sleep,
             interval: float = 0.5) -> Identity | None:
        """Poll until approved (returns the identity), denied/expired or ``timeout`` (None)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            identity = self.consume(code)
            if identity is not None:
                return identity
            link = self.get(code)
            if link is None or link.status in ("denied", "used") or link.expires_at <= time.time():
                return None
            sleep(interval)
        return None
