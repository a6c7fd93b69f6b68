"""``KILL [QUERY] id`` and COM_PROCESS_KILL: mapped to the upstream thread of a
connection owned by the same user, executed on a fresh upstream connection with that
connection's own account (the victim connection is busy running the query)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from bastion.core.types import Decision
from plugins.mysql import relay
from plugins.mysql.codec import CLIENT_PROTOCOL_41, COM_QUERY, ErrPacket, OkPacket
from plugins.mysql.kills import REGISTRY
from plugins.mysql.upstream import UpstreamError, dial

if TYPE_CHECKING:
    from plugins.mysql.session import MySQLSession


def kill_other(s: MySQLSession, seq: int, sql: str, query_only: bool, conn_id: int) -> None:
    started = time.time()
    user = s.session.identity.subject
    entry = REGISTRY.resolve(conn_id, user)
    decision = Decision.allow(rule="mysql:kill-own", reason="kill of the user's own connection")
    if entry is None:
        relay.send_error(s, seq, 1094, "HY000", f"unknown thread id: {conn_id}")
        s.audit_statement("", sql, "kill", Decision.deny(rule="mysql:kill", reason="not the user's connection"),
                          started)
        return
    if REGISTRY.cancel_hold(conn_id):
        # The statement is waiting for an approval and never reached the target: cancel the hold.
        s.client.send(OkPacket(0, 0, s.upstream.status, 0).build(s.caps), seq + 1)
        s.audit_statement("", sql, "kill", decision, started)
        return
    target = s.ctx.target(entry.target)
    statement = f"KILL {'QUERY ' if query_only else ''}{entry.thread_id}"
    try:
        if target is None:
            raise UpstreamError(f"target {entry.target} is gone")
        up = dial(s.ctx, target, entry.account, client_caps=s.upstream.caps, database=None, collation=45,
                  attrs={"program_name": "bastion-kill"})
    except (UpstreamError, OSError) as exc:
        relay.send_error(s, seq, 2013, "HY000", f"could not reach the target to kill the query ({exc})")
        return
    try:
        up.conn.send(bytes([COM_QUERY]) + statement.encode(), 0)
        _, payload = up.conn.read(30)
    finally:
        up.conn.close()
    if payload[:1] == b"\xff":
        err = ErrPacket.parse(payload, CLIENT_PROTOCOL_41)
        relay.send_error(s, seq, err.code, err.sqlstate, err.message)
    else:
        s.client.send(OkPacket(0, 0, s.upstream.status, 0).build(s.caps), seq + 1)
    s.audit_statement("", sql, "kill", decision, started)
