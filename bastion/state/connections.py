"""Client connections every process and node knows about: their ids, owners and activity,
and KILLs addressed to them.

The MySQL client's Ctrl-C opens a *second* connection, which a load balancer may send to
another worker or node, and sends ``KILL QUERY <id>`` with the id of the first one's
greeting. So the ids are handed out here, unique across every process sharing the store,
and a KILL is resolved here: the owner check (other users' ids look unknown) and the
process that serves the connection (``instance``).

**Ids.** ``client_connections.seq`` is an AUTO_INCREMENT counter (never reused, Galera's
per-node offsets included); the id is ``(seq - 1) % ID_SPACE + 1``: in 1..2**32-1 as the
greeting's four bytes need, never 0, and unique among open connections (``id`` is a unique
column; after a wrap an id still in use is skipped). Node or worker bits in the id would
need a small number per node, which only a shared counter could hand out anyway, and would
leave few bits for the counter.

**KILL.** Only the owning process acts on its connection: it alone knows whether the
statement is held for an approval (then the hold is cancelled) or runs upstream (then it
kills the upstream thread, logging in as the session's own account — a per-session
account's password lives only in that process). Another process asks it through
``kill_requests``: the owner polls, claims the request (``pending`` -> ``taken``), acts and
writes the outcome; a requester that gets no claim in time withdraws the request
(``pending`` -> ``expired``, so a late owner never acts on it) and reports that nothing was
killed. Fail closed either way: no answer never reads as success.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import sqlalchemy as sa

from bastion.state.store import StateStore, client_connections, kill_requests

ID_SPACE = 0xFFFFFFFF
"""Ids are 1..ID_SPACE (the greeting holds four bytes; 0 means none to clients)."""
INFO_MAX = 8192
"""Characters of a published statement kept for SHOW FULL PROCESSLIST elsewhere."""


@dataclass(frozen=True, slots=True)
class Owner:
    """Who serves a connection: its user and the process (``instance``) to ask."""

    id: int
    user: str
    node: str
    instance: str


@dataclass(frozen=True, slots=True)
class Activity:
    """A connection as another process's SHOW PROCESSLIST shows it."""

    id: int
    user: str
    client_addr: str
    target: str
    db: str | None
    command: str
    info: str | None
    since: float
    instance: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of a KILL: ``cancelled`` (a held statement), ``killed``, or ``error``."""

    kind: str
    code: int = 0
    sqlstate: str = ""
    message: str = ""
    thread_id: int | None = None

    def dump(self) -> str:
        return json.dumps(asdict(self))[:512]

    @classmethod
    def load(cls, text: str) -> Outcome:
        try:
            return cls(**json.loads(text))
        except (ValueError, TypeError):
            return cls("error", 2013, "HY000", "unreadable answer to the KILL; nothing is known to be killed")


NO_ANSWER = Outcome("error", 2013, "HY000",
                    "the bastion process serving that connection did not answer; nothing was killed")


class ConnectionRegistry:
    """This process's view of ``client_connections`` and ``kill_requests``."""

    def __init__(self, store: StateStore, node: str, instance: str, id_space: int = ID_SPACE) -> None:
        self.store = store
        self.node = node
        self.instance = instance
        self.id_space = id_space

    # ------------------------------------------------------------------ ids and owners

    def allocate(self, client_addr: str, now: float | None = None) -> int:
        """A new connection id, registered to this process (no user yet). Raises
        ``RuntimeError`` if every candidate is in use (only with a tiny ``id_space``)."""
        now = time.time() if now is None else now
        with self.store.engine.begin() as conn:
            for _ in range(8):
                seq = conn.execute(client_connections.insert().values(
                    node=self.node, instance=self.instance, client_addr=client_addr[:64], command="Connect",
                    since=now, started_at=now)).inserted_primary_key[0]  # type: ignore[index]
                conn_id = (int(seq) - 1) % self.id_space + 1
                taken = conn.execute(sa.select(client_connections.c.seq)
                                     .where(client_connections.c.id == conn_id)).first()
                if taken is None:
                    conn.execute(client_connections.update().where(client_connections.c.seq == seq)
                                 .values(id=conn_id))
                    return conn_id
                conn.execute(client_connections.delete().where(client_connections.c.seq == seq))
        raise RuntimeError("no free connection id")

    def claim(self, conn_id: int, *, user: str, target: str, db: str | None) -> None:
        """The connection's session began (again, after COM_CHANGE_USER): name its owner."""
        with self.store.engine.begin() as conn:
            conn.execute(client_connections.update().where(client_connections.c.id == conn_id).values(
                user=user, target=target, db=db, command="Sleep", info=None, since=time.time()))

    def release(self, conn_id: int) -> None:
        with self.store.engine.begin() as conn:
            conn.execute(client_connections.delete().where(client_connections.c.id == conn_id,
                                                           client_connections.c.instance == self.instance))

    def owner(self, conn_id: int, user: str) -> Owner | None:
        """The owner of ``conn_id`` if ``user`` is its user (others' ids look unknown)."""
        with self.store.engine.begin() as conn:
            row = conn.execute(sa.select(client_connections.c.user, client_connections.c.node,
                                         client_connections.c.instance)
                               .where(client_connections.c.id == conn_id)).first()
        if row is None or row.user is None or row.user != user:
            return None
        return Owner(conn_id, row.user, row.node, row.instance)

    def forget_node(self) -> int:
        """Drop what a previous run of this node left (its connections died with it) and
        the KILLs addressed to it; returns how many connections."""
        with self.store.engine.begin() as conn:
            mine = (client_connections.c.node == self.node) & (client_connections.c.instance != self.instance)
            old = [r[0] for r in conn.execute(sa.select(client_connections.c.instance).where(mine).distinct())]
            if old:
                conn.execute(kill_requests.delete().where(kill_requests.c.instance.in_(old)))
            return int(conn.execute(client_connections.delete().where(mine)).rowcount)

    # ------------------------------------------------------------------ activity (process list)

    def publish_many(self, rows: list[tuple[int, str, str | None, str | None, float]]) -> None:
        """What connections do now, ``(id, command, info, db, since)`` each (``info``
        masked), for other processes' SHOW PROCESSLIST; one transaction."""
        with self.store.engine.begin() as conn:
            for conn_id, command, info, db, since in rows:
                conn.execute(client_connections.update().where(client_connections.c.id == conn_id).values(
                    command=command, info=None if info is None else info[:INFO_MAX], since=since, db=db))

    def activity(self, user: str) -> list[Activity]:
        """``user``'s connections served by *other* processes."""
        c = client_connections.c
        query = (sa.select(c.id, c.user, c.client_addr, c.target, c.db, c.command, c.info, c.since, c.instance)
                 .where(c.user == user, c.instance != self.instance, c.id.is_not(None)).order_by(c.id))
        with self.store.engine.begin() as conn:
            return [Activity(**dict(r)) for r in conn.execute(query).mappings()]

    # ------------------------------------------------------------------ KILL across processes

    def request_kill(self, owner: Owner, query_only: bool, requested_by: str, *, claim_timeout: float = 5.0,
                     timeout: float = 60.0, poll: float = 0.1,
                     sleep: Callable[[float], None] = time.sleep) -> Outcome:
        """Ask ``owner.instance`` to kill (or cancel the hold of) ``owner.id``; wait for its answer."""
        with self.store.engine.begin() as conn:
            request_id = conn.execute(kill_requests.insert().values(
                connection_id=owner.id, instance=owner.instance, requested_by=requested_by, query_only=query_only,
                status="pending", outcome="", created_at=time.time())).inserted_primary_key[0]  # type: ignore[index]
        start = time.monotonic()
        try:
            while True:
                with self.store.engine.begin() as conn:
                    row = conn.execute(sa.select(kill_requests.c.status, kill_requests.c.outcome)
                                       .where(kill_requests.c.id == request_id)).first()
                if row is None:
                    return NO_ANSWER  # the owner's node restarted and forgot it
                if row.status == "done":
                    return Outcome.load(row.outcome)
                waited = time.monotonic() - start
                if (row.status == "pending" and waited >= claim_timeout and self._withdraw(request_id)) \
                        or waited >= timeout:
                    return NO_ANSWER
                sleep(poll)
        finally:
            with self.store.engine.begin() as conn:
                conn.execute(kill_requests.delete().where(kill_requests.c.id == request_id))

    def _withdraw(self, request_id: int) -> bool:
        with self.store.engine.begin() as conn:
            return bool(conn.execute(kill_requests.update().where(
                kill_requests.c.id == request_id, kill_requests.c.status == "pending").values(status="expired"))
                .rowcount)

    def take_requests(self) -> list[tuple[int, int, bool, str]]:
        """Claim the pending KILLs addressed to this process: ``(request, connection id,
        query_only, requested_by)`` of each one it won."""
        with self.store.engine.begin() as conn:
            rows = conn.execute(sa.select(kill_requests.c.id, kill_requests.c.connection_id,
                                          kill_requests.c.query_only, kill_requests.c.requested_by)
                                .where(kill_requests.c.instance == self.instance,
                                       kill_requests.c.status == "pending")).all()
        won = []
        for request_id, conn_id, query_only, by in rows:
            with self.store.engine.begin() as conn:
                if conn.execute(kill_requests.update().where(kill_requests.c.id == request_id,
                                                             kill_requests.c.status == "pending")
                                .values(status="taken")).rowcount:
                    won.append((int(request_id), int(conn_id), bool(query_only), str(by)))
        return won

    def purge(self, older_than: float = 3600.0, now: float | None = None) -> int:
        """Forget KILLs nobody reads any more (their requester died while waiting)."""
        cutoff = (time.time() if now is None else now) - older_than
        with self.store.engine.begin() as conn:
            return int(conn.execute(kill_requests.delete().where(kill_requests.c.created_at < cutoff)).rowcount)

    def answer(self, request_id: int, outcome: Outcome) -> None:
        with self.store.engine.begin() as conn:
            conn.execute(kill_requests.update().where(kill_requests.c.id == request_id)
                         .values(status="done", outcome=outcome.dump()))
