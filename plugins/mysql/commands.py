"""One handler per client command: admit (judge, hold, record the start), forward, relay, record.

The prepared-statement handlers live in :mod:`plugins.mysql.prepared_commands`; this module
holds the others, the command table and the command loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from bastion.core import records
from bastion.guard import Admission
from bastion.runtime.idle import IdleTimeout, IdleWatch
from plugins.mysql import executions, processlist, small_response, sqlstate
from plugins.mysql.change_user import ChangeUser
from plugins.mysql.codec import (
    COM_BINLOG_DUMP,
    COM_BINLOG_DUMP_GTID,
    COM_CHANGE_USER,
    COM_CREATE_DB,
    COM_DEBUG,
    COM_DROP_DB,
    COM_FIELD_LIST,
    COM_INIT_DB,
    COM_PING,
    COM_PROCESS_KILL,
    COM_QUERY,
    COM_QUIT,
    COM_REFRESH,
    COM_REGISTER_SLAVE,
    COM_RESET_CONNECTION,
    COM_SET_OPTION,
    COM_SHUTDOWN,
    COM_STATISTICS,
    COM_STMT_BULK_EXECUTE,
    COM_STMT_CLOSE,
    COM_STMT_EXECUTE,
    COM_STMT_FETCH,
    COM_STMT_PREPARE,
    COM_STMT_RESET,
    COM_STMT_SEND_LONG_DATA,
    COM_TABLE_DUMP,
    RemoteProtocolError,
)
from plugins.mysql.connections import parse_kill
from plugins.mysql.kill import kill_other
from plugins.mysql.masking import PlanCache
from plugins.mysql.packetconn import ConnectionClosed
from plugins.mysql.policy import admit, refuse, safe_decode, send_error
from plugins.mysql.prepared_commands import execute, fetch, prepare, stmt_no_response, stmt_reset
from plugins.mysql.response import control, forward, relay_response, send_request
from plugins.mysql.session import Result

if TYPE_CHECKING:
    from plugins.mysql.session import MySQLSession

Handler = Callable[["MySQLSession", int, bytes], None]

__all__ = ["HANDLERS", "command_loop", "unknown"]


def query(s: MySQLSession, seq: int, payload: bytes) -> None:
    sql = safe_decode(payload[1:])
    kill = parse_kill(sql)
    if kill is not None:
        kill_other(s, seq, sql, *kill)
        return
    c = sqlstate.classification(s, sql)
    ruling = admit(s, sql, "query", c)
    if not isinstance(ruling, Admission):
        refuse(s, seq, ruling)
        return
    full = processlist.parse_show(sql)
    if full is not None:  # answered by the bastion: the user's own connections, the ids KILL takes
        s.guard.finish(ruling, {"rows": processlist.answer(s, seq, full), "answered_by": "bastion"})
        return
    sqlstate.track(s, c, failed=True)  # a result charset switched to binary masks this response already
    send_request(s, ruling, payload)
    plans = _plans_of(s, c.fingerprint)
    small = small_response.relay_small(s, plans)
    if small is None:
        result = relay_response(s, COM_QUERY, cache=plans)
    else:
        s.fast_lane_queries += 1
        result = Result(rows=small.rows, bytes=small.bytes, results=1, affected=small.affected,
                        columns=s.recorded_columns([col.name for col in small.columns]) if small.columns else [])
    sqlstate.track(s, c, failed=bool(result.error))
    _track_schema(s, sql, result)
    s.guard.finish(ruling, result.record())


QUERY_PLANS = 256
"""Masking plans a session keeps for its COM_QUERY statements, by fingerprint."""


def _plans_of(s: MySQLSession, fingerprint: str) -> PlanCache:
    """The masking plan of the statements with this fingerprint (same text but for its
    literal values): a point-select repeated with other values finds its plan, and the
    small-response lane its definitions. The plan is matched against each response's
    definitions byte for byte, so a shared fingerprint only decides which plan is tried."""
    plans = s.query_plans.get(fingerprint)
    if plans is None:
        if len(s.query_plans) >= QUERY_PLANS:
            del s.query_plans[next(iter(s.query_plans))]
        plans = s.query_plans[fingerprint] = PlanCache()
    return plans


def _track_schema(s: MySQLSession, sql: str, result: Result) -> None:
    words = sql.strip().rstrip(";").split()
    if not result.error and len(words) == 2 and words[0].upper() == "USE":
        s.schema = words[1].strip("`")


def init_db(s: MySQLSession, seq: int, payload: bytes) -> None:
    schema = safe_decode(payload[1:])
    ruling = admit(s, "USE `" + schema.replace("`", "``") + "`", "init_db")
    if not isinstance(ruling, Admission):
        refuse(s, seq, ruling)
        return
    result = forward(s, ruling, payload, COM_INIT_DB)
    if not result.error:
        s.schema = schema
    s.guard.finish(ruling, result.record())


def passthrough(s: MySQLSession, seq: int, payload: bytes) -> None:
    control(s, payload)


def reset_connection(s: MySQLSession, seq: int, payload: bytes) -> None:
    executions.flush_all(s)
    result = control(s, payload)
    if not result.error:
        s.statements.clear()
        s.sql_prepared.clear()
        s.trigger_cache.clear()
        s.view_cache.clear()
        s.code_epoch += 1
        s.last_prepared = None
        s.ansi_quotes = False


def set_option(s: MySQLSession, seq: int, payload: bytes) -> None:
    if payload[1:3] == b"\x00\x00":  # MYSQL_OPTION_MULTI_STATEMENTS_ON
        send_error(s, seq, 1235, "42000", "multi-statements are not allowed through the bastion")
        s.emit(records.REFUSED, {"command": "set_option", "reason": "multi-statements on"})
        return
    control(s, payload)


def process_kill(s: MySQLSession, seq: int, payload: bytes) -> None:
    target_id = int.from_bytes(payload[1:5], "little")
    kill_other(s, seq, f"KILL CONNECTION {target_id}", False, target_id)


def change_user(s: MySQLSession, seq: int, payload: bytes) -> None:
    raise ChangeUser(seq, payload)  # a new login on this connection: the session loop does it


def refused(reason: str, code: int = 1227, state: str = "42000") -> Handler:
    def handler(s: MySQLSession, seq: int, payload: bytes) -> None:
        send_error(s, seq, code, state, reason)
        s.emit(records.REFUSED, {"command": f"0x{payload[0]:02x}", "reason": reason})
    return handler


def unknown(s: MySQLSession, seq: int, payload: bytes) -> None:
    send_error(s, seq, 1047, "08S01", f"unknown command 0x{payload[0]:02x}")


HANDLERS: dict[int, Handler] = {
    COM_QUERY: query,
    COM_INIT_DB: init_db,
    COM_FIELD_LIST: passthrough,
    COM_PING: passthrough,
    COM_STATISTICS: passthrough,
    COM_STMT_PREPARE: prepare,
    COM_STMT_EXECUTE: execute,
    COM_STMT_FETCH: fetch,
    COM_STMT_SEND_LONG_DATA: stmt_no_response,
    COM_STMT_CLOSE: stmt_no_response,
    COM_STMT_RESET: stmt_reset,
    COM_RESET_CONNECTION: reset_connection,
    COM_SET_OPTION: set_option,
    COM_PROCESS_KILL: process_kill,
    COM_CHANGE_USER: change_user,
    COM_BINLOG_DUMP: refused("replication commands are not allowed through the bastion"),
    COM_BINLOG_DUMP_GTID: refused("replication commands are not allowed through the bastion"),
    COM_REGISTER_SLAVE: refused("replication commands are not allowed through the bastion"),
    COM_TABLE_DUMP: refused("table dump is not allowed through the bastion"),
    COM_CREATE_DB: refused("use CREATE DATABASE (judged by policy) instead of COM_CREATE_DB"),
    COM_DROP_DB: refused("use DROP DATABASE (judged by policy) instead of COM_DROP_DB"),
    COM_REFRESH: refused("COM_REFRESH is not allowed through the bastion"),
    COM_SHUTDOWN: refused("COM_SHUTDOWN is not allowed through the bastion"),
    COM_DEBUG: refused("COM_DEBUG is not allowed through the bastion"),
    COM_STMT_BULK_EXECUTE: refused("bulk execute is not negotiated by the bastion", 1047, "08S01"),
}


def command_loop(s: MySQLSession) -> str:
    """Serve commands until the client quits or the connection breaks; returns why it ended."""
    watch = IdleWatch(s.opts.idle_timeout)
    try:
        while True:
            watch.waiting()
            try:
                _first_seq, payload = s.client.read(None)
            except IdleTimeout:
                return "idle timeout"
            except ConnectionClosed:
                return "client disconnected"
            watch.busy()
            s.busy_payload, s.busy_since = payload, time.time()
            if not payload:
                raise RemoteProtocolError("empty command packet")
            if payload[0] == COM_QUIT:
                return "client quit"
            # An answer follows the command's *last* packet: a command of 16 MiB or more
            # arrives in several, and a refusal must carry the id after the last one.
            HANDLERS.get(payload[0], unknown)(s, s.client.reader.last_seq, payload)
            s.commands += 1
            s.busy_payload, s.idle_since = None, time.time()
    finally:
        watch.stop()
