"""Per-session database users the bastion made and has not yet dropped (``ephemeral_accounts``).

The protocol plugin writes a row *before* it creates the user on the target and deletes
it only *after* the user is dropped; so a user that matches the bastion's name pattern on
a target and has no row is an orphan, and so is a row of this node that no session of
this process holds (its process died, or a drop failed).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import sqlalchemy as sa

from bastion.state.store import StateStore, ephemeral_accounts


@dataclass(frozen=True, slots=True)
class EphemeralRow:
    target: str
    user: str
    host: str
    session_id: str
    person: str
    node: str
    created_at: float


class EphemeralAccounts:
    def __init__(self, store: StateStore) -> None:
        self.store = store

    def add(self, row: EphemeralRow) -> None:
        with self.store.engine.begin() as conn:
            conn.execute(ephemeral_accounts.insert().values(
                target=row.target, user=row.user, host=row.host, session_id=row.session_id, person=row.person,
                node=row.node, created_at=row.created_at or time.time()))

    def remove(self, target: str, user: str) -> None:
        with self.store.engine.begin() as conn:
            conn.execute(ephemeral_accounts.delete().where(ephemeral_accounts.c.target == target,
                                                           ephemeral_accounts.c.user == user))

    def of_target(self, target: str) -> list[EphemeralRow]:
        with self.store.engine.begin() as conn:
            rows = conn.execute(sa.select(ephemeral_accounts).where(ephemeral_accounts.c.target == target)
                                ).mappings().all()
        return [EphemeralRow(**dict(r)) for r in rows]
