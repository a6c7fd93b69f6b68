"""``KILL [QUERY] id`` and COM_PROCESS_KILL: mapped to the upstream thread of a
connection owned by the same user, executed on a fresh upstream connection with that
connection's own account (the victim connection is busy running the query).

A kill is a request like any other: a ``Kill`` event admitted by the session's guard
(pipeline, audit gate, start record) before anything reaches the target. Ids of other
users' connections look unknown; a kill of a connection whose statement is held for an
approval cancels the hold instead (nothing of it reached the target).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bastion.core import records
from bastion.core.types import Kill
from bastion.guard import Admission
from plugins.mysql.codec import CLIENT_PROTOCOL_41, COM_QUERY, ErrPacket, OkPacket
from plugins.mysql.connections import REGISTRY, Registered
from plugins.mysql.policy import refuse, send_error
from plugins.mysql.upstream import UpstreamError, dial

if TYPE_CHECKING:
    from plugins.mysql.session import MySQLSession


def kill_other(s: MySQLSession, seq: int, sql: str, query_only: bool, conn_id: int) -> None:
    event = Kill(session=s.session, connection_id=conn_id, query_only=query_only)
    ruling = s.guard.admit(event, records.QUERY, {"protocol": "mysql", "command": "kill", "schema": s.schema},
                           text=sql)
    if not isinstance(ruling, Admission):
        refuse(s, seq, ruling)
        return
    entry = REGISTRY.resolve(conn_id, s.session.identity.subject)
    if entry is None:
        send_error(s, seq, 1094, "HY000", f"unknown thread id: {conn_id}")
        s.guard.finish(ruling, {"error": "1094 not one of the user's connections"})
        return
    if REGISTRY.cancel_hold(conn_id):
        # The statement is waiting for an approval and never reached the target: cancel the hold.
        s.client.send(OkPacket(0, 0, s.upstream.status, 0).build(s.caps), seq + 1)
        s.guard.finish(ruling, {"result": "approval hold cancelled"})
        return
    error = _kill_upstream(s, ruling, entry, query_only)
    if error is None:
        s.client.send(OkPacket(0, 0, s.upstream.status, 0).build(s.caps), seq + 1)
        s.guard.finish(ruling, {"upstream_thread": entry.thread_id})
    else:
        send_error(s, seq, error.code, error.sqlstate, error.message)
        s.guard.finish(ruling, {"upstream_thread": entry.thread_id, "error": f"{error.code} {error.message}"})


def _kill_upstream(s: MySQLSession, admission: Admission, entry: Registered, query_only: bool) -> ErrPacket | None:
    """Run the KILL on a fresh upstream connection as the victim's account; its ERR, if any."""
    del admission  # the proof this kill was admitted: nothing reaches the target without one
    target = s.ctx.target(entry.target)
    statement = f"KILL {'QUERY ' if query_only else ''}{entry.thread_id}"
    try:
        if target is None:
            raise UpstreamError(f"target {entry.target} is gone")
        up = dial(s.ctx, target, entry.account, client_caps=s.upstream.caps, database=None, collation=45,
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
