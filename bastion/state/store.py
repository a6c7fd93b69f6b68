"""Shared state: tokens, vaulted credentials, approvals, sessions, SAML replay cache.

SQLite (WAL) by default; any SQLAlchemy URL such as ``mysql+pymysql://…`` lets several
bastion nodes share one store. The schema is created and migrated at start-up
(``StateStore.migrate``); ``meta.schema_version`` records where a database stands.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bastion.runtime.private import private_file

SCHEMA_VERSION = 1

metadata = sa.MetaData()

Time = sa.Float(precision=53)
"""Epoch seconds. ``precision=53`` makes it DOUBLE on MySQL/MariaDB: a plain FLOAT keeps
24 bits and rounds today's timestamps by minutes (tokens would expire early)."""

meta = sa.Table(
    "meta", metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(255), nullable=False),
)

tokens = sa.Table(
    "tokens", metadata,
    sa.Column("id", sa.String(16), primary_key=True),
    sa.Column("hash", sa.String(64), nullable=False, unique=True),
    sa.Column("native_hash", sa.String(40), nullable=True),
    sa.Column("user", sa.String(255), nullable=False, index=True),
    sa.Column("email", sa.String(255), nullable=False, default=""),
    sa.Column("groups", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False, default=""),
    sa.Column("created_by", sa.String(255), nullable=False, default=""),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("expires_at", Time, nullable=False),
    sa.Column("revoked_at", Time, nullable=True),
    sa.Column("last_used_at", Time, nullable=True),
)

credentials = sa.Table(
    "credentials", metadata,
    sa.Column("target", sa.String(128), primary_key=True),
    sa.Column("account", sa.String(128), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("key_id", sa.String(16), nullable=False),
    sa.Column("ciphertext", sa.LargeBinary, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
)

sessions = sa.Table(
    "sessions", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("user", sa.String(255), nullable=False, index=True),
    sa.Column("target", sa.String(128), nullable=False),
    sa.Column("account", sa.String(128), nullable=False),
    sa.Column("protocol", sa.String(32), nullable=False),
    sa.Column("client_addr", sa.String(64), nullable=False),
    sa.Column("reason", sa.Text, nullable=False, default=""),
    sa.Column("started_at", Time, nullable=False),
    sa.Column("ended_at", Time, nullable=True),
    sa.Column("node", sa.String(128), nullable=False, default=""),
)

approvals = sa.Table(
    "approvals", metadata,
    sa.Column("id", sa.String(16), primary_key=True),
    sa.Column("session_id", sa.String(32), nullable=False),
    sa.Column("requester", sa.String(255), nullable=False),
    sa.Column("target", sa.String(128), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("statement", sa.Text, nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False, index=True),
    sa.Column("details", sa.Text, nullable=False, default="{}"),
    sa.Column("rule", sa.String(255), nullable=False),
    sa.Column("approvers", sa.Text, nullable=False),
    sa.Column("approvals_needed", sa.Integer, nullable=False, default=1),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("expires_at", Time, nullable=False),
    sa.Column("decided_at", Time, nullable=True),
    sa.Column("decisions", sa.Text, nullable=False, default="[]"),
    sa.Column("window_until", Time, nullable=True),
)

saml_assertions = sa.Table(
    "saml_assertions", metadata,
    sa.Column("id", sa.String(255), primary_key=True),
    sa.Column("expires_at", Time, nullable=False),
)

saml_requests = sa.Table(
    "saml_requests", metadata,
    sa.Column("id", sa.String(255), primary_key=True),
    sa.Column("expires_at", Time, nullable=False),
)

login_links = sa.Table(
    "login_links", metadata,
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("protocol", sa.String(32), nullable=False),
    sa.Column("target", sa.String(128), nullable=False),
    sa.Column("client_addr", sa.String(64), nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("expires_at", Time, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("identity", sa.Text, nullable=True),
)

users = sa.Table(
    "users", metadata,
    sa.Column("subject", sa.String(255), primary_key=True),
    sa.Column("email", sa.String(255), nullable=False, default=""),
    sa.Column("display_name", sa.String(255), nullable=False, default=""),
    sa.Column("groups", sa.Text, nullable=False, default="[]"),
    sa.Column("roles", sa.Text, nullable=False, default="[]"),
    sa.Column("last_login", Time, nullable=False),
)

ssh_keys = sa.Table(
    "ssh_keys", metadata,
    sa.Column("fingerprint", sa.String(128), primary_key=True),
    sa.Column("user", sa.String(255), nullable=False, index=True),
    sa.Column("public_key", sa.Text, nullable=False),
    sa.Column("comment", sa.String(255), nullable=False, default=""),
    sa.Column("created_at", Time, nullable=False),
)

live_sessions = sa.Table(
    "live_sessions", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("node", sa.String(128), nullable=False),
    sa.Column("user", sa.String(255), nullable=False, index=True),
    sa.Column("target", sa.String(128), nullable=False),
    sa.Column("protocol", sa.String(32), nullable=False),
    sa.Column("client_addr", sa.String(64), nullable=False),
    sa.Column("token_id", sa.String(16), nullable=True, index=True),
    sa.Column("started_at", Time, nullable=False),
    sa.Column("end_request", sa.String(255), nullable=True),  # why an admin ended it, else NULL
)

login_failures = sa.Table(
    "login_failures", metadata,
    sa.Column("key", sa.String(300), primary_key=True),  # addr:<ip> or user:<name>
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("first_at", Time, nullable=False),
    sa.Column("blocked_until", Time, nullable=False),
)

ephemeral_accounts = sa.Table(
    # Per-session database users the bastion created and has not yet dropped (issue 18).
    # The row is written before CREATE USER and deleted after DROP USER, so a user with the
    # bastion's name pattern on a target and no row here is always an orphan.
    "ephemeral_accounts", metadata,
    sa.Column("target", sa.String(128), primary_key=True),
    sa.Column("user", sa.String(80), primary_key=True),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("session_id", sa.String(32), nullable=False),
    sa.Column("person", sa.String(255), nullable=False),
    sa.Column("node", sa.String(128), nullable=False, index=True),
    sa.Column("created_at", Time, nullable=False),
)

credential_rotations = sa.Table(
    # Rotation requests (``bastion credentials rotate``) for the running bastion to carry
    # out — it alone writes the audit journal — and their outcomes.
    "credential_rotations", metadata,
    sa.Column("id", sa.String(16), primary_key=True),
    sa.Column("target", sa.String(128), nullable=False),
    sa.Column("account", sa.String(128), nullable=False),
    sa.Column("requested_by", sa.String(255), nullable=False),
    sa.Column("requested_at", Time, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),  # pending, running, done, failed
    sa.Column("message", sa.Text, nullable=False, default=""),
    sa.Column("finished_at", Time, nullable=True),
)

client_connections = sa.Table(
    # Client connections with an id of their own (MySQL: the id in the greeting, which KILL
    # names), every process and node of them: see bastion.state.connections. ``seq`` only
    # hands out ids (AUTO_INCREMENT, never reused); ``id`` is the 32-bit id derived from it.
    "client_connections", metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("id", sa.BigInteger, nullable=True, unique=True),
    sa.Column("node", sa.String(128), nullable=False, index=True),
    sa.Column("instance", sa.String(32), nullable=False, index=True),
    sa.Column("user", sa.String(255), nullable=True, index=True),
    sa.Column("client_addr", sa.String(64), nullable=False, default=""),
    sa.Column("target", sa.String(128), nullable=True),
    sa.Column("db", sa.String(255), nullable=True),
    sa.Column("command", sa.String(16), nullable=False, default="Connect"),
    sa.Column("info", sa.Text, nullable=True),
    sa.Column("since", Time, nullable=False),
    sa.Column("started_at", Time, nullable=False),
    sqlite_autoincrement=True,
)

kill_requests = sa.Table(
    # A KILL received by one process for a connection another process serves: the owner
    # (``instance``) carries it out and writes the outcome (bastion.state.connections).
    "kill_requests", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("connection_id", sa.BigInteger, nullable=False),
    sa.Column("instance", sa.String(32), nullable=False, index=True),
    sa.Column("requested_by", sa.String(255), nullable=False),
    sa.Column("query_only", sa.Boolean, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # pending, taken, done, expired
    sa.Column("outcome", sa.String(512), nullable=False, default=""),
    sa.Column("created_at", Time, nullable=False),
)


class StateStore:
    """Owns the SQLAlchemy engine; the stores for tokens, vault, approvals use it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _make_engine(url)

    def migrate(self) -> int:
        """Create missing tables and record the schema version; returns the version."""
        metadata.create_all(self.engine)
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(meta.c.value).where(meta.c.key == "schema_version")).first()
            current = int(row[0]) if row else 0
            if current > SCHEMA_VERSION:
                raise RuntimeError(f"state store schema {current} is newer than this bastion ({SCHEMA_VERSION})")
            if row is None:
                conn.execute(meta.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
            elif current < SCHEMA_VERSION:
                conn.execute(meta.update().where(meta.c.key == "schema_version").values(value=str(SCHEMA_VERSION)))
        return SCHEMA_VERSION

    def purge_expired(self, now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self.engine.begin() as conn:
            conn.execute(saml_assertions.delete().where(saml_assertions.c.expires_at < now))
            conn.execute(saml_requests.delete().where(saml_requests.c.expires_at < now))
            conn.execute(login_links.delete().where(login_links.c.expires_at < now - 3600))

    def remember_once(self, table: sa.Table, key: str, expires_at: float) -> bool:
        """Insert ``key``; False when it was already there (replay detection)."""
        try:
            with self.engine.begin() as conn:
                conn.execute(table.insert().values(id=key, expires_at=expires_at))
            return True
        except sa.exc.IntegrityError:
            return False

    def dispose(self) -> None:
        self.engine.dispose()


def _make_engine(url: str) -> Engine:
    kwargs: dict[str, Any] = {"future": True}
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            private_file(Path(path))  # SQLite gives its -wal/-shm files the database file's mode
        kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
    else:
        kwargs["pool_pre_ping"] = True
        kwargs["pool_recycle"] = 1800
    engine = sa.create_engine(url, **kwargs)
    if url.startswith("sqlite"):
        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
    return engine
