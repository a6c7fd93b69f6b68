"""Shared factories for unit tests (no sockets here)."""

from __future__ import annotations

import time

import pytest

from bastion.core.types import Identity, Session, Target


def make_identity(subject: str = "alice", groups: tuple[str, ...] = ("dba",)) -> Identity:
    return Identity(subject=subject, email=f"{subject}@example.org", groups=frozenset(groups), idp="test")


def make_target(name: str = "orders-db", protocol: str = "mysql", tags: tuple[str, ...] = ("prod",),
                accounts: tuple[str, ...] = ("readonly", "admin")) -> Target:
    return Target(name=name, protocol=protocol, host="127.0.0.1", port=3306, tags=frozenset(tags),
                  accounts=accounts)


def make_session(identity: Identity | None = None, target: Target | None = None, account: str = "",
                 **info: str) -> Session:
    return Session(id=Session.new_id(), identity=identity or make_identity(), target=target or make_target(),
                   account=account, client_addr="127.0.0.1", started_at=time.time(), protocol_info=info)


@pytest.fixture
def session() -> Session:
    return make_session()
