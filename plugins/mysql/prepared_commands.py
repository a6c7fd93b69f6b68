"""Handlers of the prepared-statement commands (COM_STMT_*).

A PREPARE is admitted like a query; each EXECUTE is admitted and on record with its
parameters (:mod:`plugins.mysql.executions`); a FETCH rides on its PREPARE's admission.
SEND_LONG_DATA, CLOSE and RESET run no statement. All of them act only on a statement
prepared through the bastion.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from bastion.guard import Admission
from plugins.mysql import executions, routines, small_response, sqlstate
from plugins.mysql.codec import (
    COM_STMT_CLOSE,
    COM_STMT_EXECUTE,
    COM_STMT_FETCH,
    COM_STMT_PREPARE,
    parse_stmt_execute,
    parse_stmt_fetch,
    parse_stmt_id,
)
from plugins.mysql.policy import admit, refuse, refuse_decision, safe_decode, send_error
from plugins.mysql.response import control, forward, relay_response, send_control, send_request
from plugins.mysql.session import Prepared

if TYPE_CHECKING:
    from plugins.mysql.session import MySQLSession

__all__ = ["execute", "fetch", "prepare", "stmt_no_response", "stmt_reset"]

LAST_PREPARED = 0xFFFFFFFF
"""MariaDB lets EXECUTE name "the statement prepared last" with id -1."""


def prepare(s: MySQLSession, seq: int, payload: bytes) -> None:
    sql = safe_decode(payload[1:])
    c = sqlstate.classification(s, sql)
    s.last_lookup = None
    ruling = admit(s, sql, "prepare", c)
    sqlstate.track(s, c, failed=True)  # its executions may switch results to binary: mask as if they did
    # Like MariaDB after a failed PREPARE: EXECUTE of "the last prepared" (id -1) now names
    # nothing, so it cannot reach an older statement in place of the refused one.
    s.last_prepared = None
    if not isinstance(ruling, Admission):
        refuse(s, seq, ruling)
        return
    result = forward(s, ruling, payload, COM_STMT_PREPARE)
    if result.prepared_id is not None:
        s.statements[result.prepared_id] = Prepared(
            admission=ruling, types=[c.type for c in result.prepared_columns], columns=result.prepared_columns,
            params=result.prepared_params, sets_sql_mode="set_sql_mode" in c.flags,
            runs=c if routines.runs_stored_code(c) or any(st.tables for st in c.effective) else None,
            bodies=frozenset(s.last_lookup.bodies) if s.last_lookup else frozenset(),
            checked=(s.code_epoch, time.monotonic()))
        s.last_prepared = result.prepared_id
    s.guard.finish(ruling, result.record())


def execute(s: MySQLSession, seq: int, payload: bytes) -> None:
    stmt_id, _flags = parse_stmt_execute(payload)
    if stmt_id == LAST_PREPARED and s.last_prepared is not None:
        stmt_id = s.last_prepared
    prepared = s.statements.get(stmt_id)
    if prepared is None:
        # Never prepared through the bastion, or its PREPARE was refused: nothing to run.
        send_error(s, seq, 1243, "HY000", f"unknown prepared statement handler ({stmt_id}) given to EXECUTE")
        return
    ruling = executions.admit(s, stmt_id, prepared, payload)
    if not isinstance(ruling, Admission):
        refuse_decision(s, seq, ruling.decision, str(ruling.data["event_id"]))  # the execution's own record
        return
    send_request(s, ruling, payload)
    small = small_response.relay_small(s, prepared.plans)
    if small is not None:
        s.fast_lane += 1
        if small.columns is not None and small.columns is not prepared.columns:
            prepared.columns, prepared.types = small.columns, [c.type for c in small.columns]
        s.guard.finish(ruling, {"rows": small.rows, "bytes": small.bytes, "affected": small.affected, "error": ""})
    else:
        _relay(s, ruling, prepared)
    if prepared.sets_sql_mode:
        sqlstate.follow_sql_mode(s)


def _relay(s: MySQLSession, ruling: Admission, prepared: Prepared) -> None:
    result = relay_response(s, COM_STMT_EXECUTE, prepared.types, prepared.columns, prepared.plans)
    if result.prepared_columns:
        prepared.types = [c.type for c in result.prepared_columns]
        prepared.columns = result.prepared_columns
    s.guard.finish(ruling, result.record())


def _refused_again(s: MySQLSession, seq: int, prepared: Prepared) -> bool:
    """Executions ride on their PREPARE's admission; the guard only asks the audit gate
    again (an ERR naming the PREPARE's event while the audit trail is down)."""
    refusal = s.guard.readmit(prepared.admission)
    if refusal is None:
        return False
    refuse_decision(s, seq, refusal, prepared.event_id)
    return True


def fetch(s: MySQLSession, seq: int, payload: bytes) -> None:
    started = time.time()
    stmt_id, _rows = parse_stmt_fetch(payload)
    prepared = s.statements.get(stmt_id)
    if prepared is None:
        send_error(s, seq, 1243, "HY000", f"unknown prepared statement handler ({stmt_id}) given to FETCH")
        return
    if _refused_again(s, seq, prepared):
        return
    result = forward(s, prepared.admission, payload, COM_STMT_FETCH, prepared)
    executions.record_fetch(s, stmt_id, prepared.pending(), result, started)


def stmt_no_response(s: MySQLSession, seq: int, payload: bytes) -> None:
    stmt_id = parse_stmt_id(payload)
    if stmt_id not in s.statements:
        return  # the client expects no answer; dropping is the only safe reply
    if payload[0] == COM_STMT_CLOSE:
        executions.flush(s, stmt_id, s.statements.pop(stmt_id).tally)
    else:
        executions.long_data(s, payload)
    send_control(s, payload)


def stmt_reset(s: MySQLSession, seq: int, payload: bytes) -> None:
    stmt_id = parse_stmt_id(payload)
    if stmt_id not in s.statements:
        send_error(s, seq, 1243, "HY000", "unknown prepared statement handler given to RESET")
        return
    executions.flush(s, stmt_id, s.statements[stmt_id].tally)
    executions.forget_long_data(s.statements[stmt_id])
    control(s, payload)
