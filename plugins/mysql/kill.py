"""``KILL [QUERY] id`` and COM_PROCESS_KILL: mapped to the upstream thread of a
connection owned by the same user, executed on a fresh upstream connection with that
connection's own account (the victim connection is busy running the query).

A kill is a request like any other: a ``Kill`` event admitted by the session's guard
(pipeline, audit gate, start record) before anything reaches the target. Ids of other
users' connections look unknown; a kill of a connection whose statement is held for an
approval cancels the hold instead (nothing of it reached the target).

The victim may be served by another process or node (the CLI's Ctrl-C connection lands
wherever the load balancer sends it): then the admitted kill is handed to that process
through the state store (:meth:`bastion.state.connections.ConnectionRegistry.request_kill`),
which alone acts on its connection (:func:`execute`); no answer means nothing was killed.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import gevent

from bastion.core import records
from bastion.core.types import Kill
from bastion.guard import Admission
from bastion.state.connections import Outcome, Owner
from plugins.mysql.codec import CLIENT_PROTOCOL_41, COM_QUERY, ErrPacket, OkPacket
from plugins.mysql.connections import REGISTRY, Registered
from plugins.mysql.policy import refuse, send_error
from plugins.mysql.upstream import UpstreamError, dial

if TYPE_CHECKING:
    from plugins.mysql.session import MySQLSession

log = logging.getLogger("bastion.mysql")

CLAIM_SECONDS = 5.0
"""How long another process may take to pick up a KILL before it is withdrawn."""
ANSWER_SECONDS = 45.0
"""How long a picked-up KILL may take (the upstream login and the KILL itself)."""


def kill_other(s: MySQLSession, seq: int, sql: str, query_only: bool, conn_id: int) -> None:
    event = Kill(session=s.session, connection_id=conn_id, query_only=query_only)
    ruling = s.guard.admit(event, records.QUERY, {"protocol": "mysql", "command": "kill", "schema": s.schema},
                           text=sql)
    if not isinstance(ruling, Admission):
        refuse(s, seq, ruling)
        return
    owner, outcome = _route(conn_id, query_only, s.session.identity.subject)
    record: dict[str, Any] = {} if owner is None or owner.instance == REGISTRY.instance_id else \
        {"owner_node": owner.node}
    if outcome.thread_id is not None:
        record["upstream_thread"] = outcome.thread_id
    if outcome.kind == "error":
        send_error(s, seq, outcome.code, outcome.sqlstate, outcome.message)
        s.guard.finish(ruling, {**record, "error": f"{outcome.code} {outcome.message}"})
        return
    s.client.send(OkPacket(0, 0, s.upstream.status, 0).build(s.caps), seq + 1)
    if outcome.kind == "cancelled":
        record["result"] = "approval hold cancelled"  # the statement never reached the target
    s.guard.finish(ruling, record)


def _route(conn_id: int, query_only: bool, user: str) -> tuple[Owner | None, Outcome]:
    """Resolve ``conn_id`` for ``user`` and have its owner act: here, or through the store."""
    owner = None
    try:
        owner = REGISTRY.resolve(conn_id, user)
        if owner is None:
            return None, Outcome("error", 1094, "HY000", f"unknown thread id: {conn_id}")
        if owner.instance == REGISTRY.instance_id:
            return owner, execute(conn_id, query_only, user)
        return owner, REGISTRY.shared_or_fail().request_kill(owner, query_only, user, claim_timeout=CLAIM_SECONDS,
                                                             timeout=ANSWER_SECONDS, sleep=gevent.sleep)
    except Exception:  # noqa: BLE001 - the state store failed: never report a kill that may not have happened
        log.warning("KILL failed", exc_info=True, extra={"connection_id": conn_id})
        return owner, Outcome("error", 2013, "HY000", "the KILL failed (connection registry unavailable?); "
                                                      "its outcome is unknown")


def execute(conn_id: int, query_only: bool, requested_by: str) -> Outcome:
    """The owner's side of an admitted KILL of ``conn_id`` (this process serves it): cancel
    its approval hold, else kill its upstream thread as its own account."""
    local = REGISTRY.local(conn_id)
    if local is None or local[0].user != requested_by or local[1] is None:
        return Outcome("error", 1094, "HY000", f"unknown thread id: {conn_id}")  # it ended meanwhile
    entry, victim = local
    if REGISTRY.cancel_hold(conn_id):
        return Outcome("cancelled")
    error = _kill_upstream(victim, entry, query_only)
    if error is None:
        return Outcome("killed", thread_id=entry.thread_id)
    return Outcome("error", error.code, error.sqlstate, error.message, thread_id=entry.thread_id)


def _kill_upstream(victim: MySQLSession, entry: Registered, query_only: bool) -> ErrPacket | None:
    """Run the KILL on a fresh upstream connection as the victim's account; its ERR, if any."""
    target = victim.ctx.target(entry.target)
    statement = f"KILL {'QUERY ' if query_only else ''}{entry.thread_id}"
    try:
        if target is None:
            raise UpstreamError(f"target {entry.target} is gone")
        up = dial(victim.ctx, target, entry.account, client_caps=victim.upstream.caps, database=None, collation=45,
                  attrs={"program_name": "bastion-kill"})
    except (UpstreamError, OSError) as exc:
        return ErrPacket(2013, "HY000", f"could not reach the target to kill the query ({exc})")
    try:
        up.conn.send(bytes([COM_QUERY]) + statement.encode(), 0)
        _, payload = up.conn.read(30)
    finally:
        up.conn.close()
    if payload[:1] == b"\xff":
        return ErrPacket.parse(payload, CLIENT_PROTOCOL_41)
    return None
