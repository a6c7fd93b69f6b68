"""Command phase: judge each client command, forward it, stream the response back.

Theory of operation. The client and the upstream run the same command/response cycle,
so the relay forwards the client's packet with the same sequence ids and relays the
upstream's response packet by packet, unchanged except for masked row values (which
never adds or removes packets, so sequence ids stay valid). Every statement becomes a
``Query`` event judged by the pipeline *before* anything is sent upstream; a denied
statement is answered locally with an ERR (seq = client seq + 1) and the connection
stays usable. A ``ResponseTracker`` tells where the response ends, where column
definitions complete (the row masker is planned once there) and which packets are rows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bastion.core.contracts import RowMasker
from bastion.core.types import Decision, Query, Verdict
from plugins.mysql.codec import (
    COM_STMT_FETCH,
    SERVER_MORE_RESULTS_EXISTS,
    SERVER_STATUS_IN_TRANS,
    SERVER_STATUS_NO_BACKSLASH_ESCAPES,
    ColumnCountItem,
    ColumnDef,
    ColumnDefItem,
    ColumnsEndItem,
    ErrItem,
    ErrPacket,
    LocalInfileItem,
    OkItem,
    PrepareOkItem,
    ResponseTracker,
    ResultEndItem,
    RowItem,
    rewrite_binary_row,
    rewrite_text_row,
)
from plugins.mysql.masking import PlanCache, collect, plan_masking

if TYPE_CHECKING:
    from plugins.mysql.executions import Tally
    from plugins.mysql.session import MySQLSession

log = logging.getLogger("bastion.mysql")


class SessionKilled(Exception):
    """The session must end now (protocol violation or LOCAL INFILE from upstream)."""


@dataclass
class Prepared:
    """A statement the client prepared (the SQL was judged at PREPARE)."""

    sql: str
    event_id: str
    types: list[int] = field(default_factory=list)
    columns: list[ColumnDef] = field(default_factory=list)
    tally: Tally | None = None
    """Executions not yet in the audit trail (plugins.mysql.executions)."""
    plans: PlanCache = field(default_factory=PlanCache)
    """The masking plan of its results, shared by the general path and the fast lane."""


@dataclass
class Result:
    """Summary of one response, for the audit event."""

    rows: int = 0
    bytes: int = 0
    columns: list[str] = field(default_factory=list)
    results: int = 0
    affected: int = 0
    error: str = ""
    status: int = 0
    masked: dict[str, int] = field(default_factory=dict)
    prepared_id: int | None = None
    prepared_columns: list[ColumnDef] = field(default_factory=list)


def relay_response(s: MySQLSession, command: int, types: list[int] | None = None,
                   known_columns: list[ColumnDef] | None = None, cache: PlanCache | None = None) -> Result:
    """Stream the upstream response to ``command`` to the client; returns its summary.

    ``types``/``known_columns`` describe rows that arrive without column definitions
    (COM_STMT_FETCH), remembered from the statement's EXECUTE. ``cache`` keeps the
    masking plan of a prepared statement's results between executions."""
    plan: Callable[[MySQLSession, list[ColumnDef], list[RowMasker]], dict[int, Callable[[bytes], bytes]]] = (
        cache.plan if cache is not None else plan_masking)
    up, client = s.upstream.conn, s.client
    next_packet, take_rows, queue = up.reader.next_packet, up.reader.take_rows, client.queue
    tracker = ResponseTracker(command, s.upstream.caps)
    feed, deprecate_eof = tracker.feed, tracker.deprecate_eof
    result = Result()
    columns: list[ColumnDef] = []
    row_types = tuple(types or ())
    maskers: dict[int, Callable[[bytes], bytes]] = {}
    ncols = rows = nbytes = 0
    plans: list[RowMasker] = []
    if known_columns and command == COM_STMT_FETCH:
        maskers = plan(s, known_columns, plans)
    while not tracker.done:
        if not maskers and tracker.in_rows:
            # Rows nobody rewrites: forward whole runs of them as received (same bytes,
            # same sequence ids), without parsing or re-framing each one.
            run = take_rows(deprecate_eof)
            if run is not None:
                wire, count = run
                tracker.skip_rows(count)
                rows += count
                nbytes += len(wire) - 4 * count
                client.queue_raw(wire)
                continue
        packet = next_packet()
        if packet is None:
            client.flush()  # about to block on the upstream: let the client have what we have
            up.fill(None)
            continue
        seq, payload = packet
        item = feed(payload)
        if type(item) is RowItem:  # the hot path: most packets of a big response
            rows += 1
            if maskers:
                payload = (rewrite_binary_row(payload, row_types, maskers) if tracker.binary
                           else rewrite_text_row(payload, maskers))
        elif isinstance(item, ColumnDefItem):
            columns = [] if item.index == 0 else columns
            columns.append(item.col)
            if item.index == ncols - 1:
                row_types = tuple(c.type for c in columns)
                result.columns = [c.name for c in columns]
                result.prepared_columns = list(columns)
                maskers = plan(s, columns, plans)
        elif isinstance(item, ColumnCountItem):
            ncols = item.count
        elif isinstance(item, OkItem | ResultEndItem):
            _status(s, item, result)
        elif isinstance(item, ColumnsEndItem):
            result.status = item.status  # a cursor was opened: the response ends here
        elif isinstance(item, ErrItem):
            # server messages quote values ("Duplicate entry '4111…'"): mask before the audit sees them
            result.error = s.redact(f"{item.err.code} {item.err.message}")[0]
        elif isinstance(item, PrepareOkItem):
            result.prepared_id = item.prepare_ok.stmt_id
            ncols = item.prepare_ok.num_columns
        elif isinstance(item, LocalInfileItem):
            raise SessionKilled("target asked for LOCAL INFILE, which the bastion never allows")
        nbytes += len(payload)
        queue(payload, seq)
    client.flush()
    result.rows, result.bytes = rows, nbytes
    result.masked = collect(plans)
    return result


def _status(s: MySQLSession, item: OkItem | ResultEndItem, result: Result) -> None:
    status = item.ok.status if isinstance(item, OkItem) else item.status
    if isinstance(item, OkItem):
        result.affected += item.ok.affected_rows
    if not status & SERVER_MORE_RESULTS_EXISTS:
        result.status = status
    result.results += 1
    s.no_backslash_escapes = bool(status & SERVER_STATUS_NO_BACKSLASH_ESCAPES)
    s.in_transaction = bool(status & SERVER_STATUS_IN_TRANS)


def judge(s: MySQLSession, sql: str, command: str) -> tuple[Decision, Query]:
    """Run the pipeline on one statement (REVIEW is resolved into ALLOW or DENY here)."""
    event = Query(session=s.session, sql=sql, database=s.schema, command=command,
                  no_backslash_escapes=s.no_backslash_escapes, ansi_quotes=s.ansi_quotes)
    outcome = s.ctx.pipeline.decide(event)
    decision = outcome.decision
    if decision.verdict is Verdict.REVIEW:
        decision = s.hold(event, decision)
    s.audit_decision(event, decision, outcome.audit)
    return decision, event


def refuse(s: MySQLSession, seq: int, decision: Decision, event_id: str) -> None:
    """Answer a blocked statement locally; nothing was sent upstream."""
    text = f"bastion: statement blocked by policy {decision.rule or 'default'} (ref {event_id})"
    if decision.message:
        text += f": {decision.message}"
    code, state = (1142, "42000") if decision.verdict is Verdict.DENY else (1205, "HY000")
    s.client.send(ErrPacket(code, state, text).build(s.caps), seq + 1)


def send_error(s: MySQLSession, seq: int, code: int, state: str, message: str) -> None:
    s.client.send(ErrPacket(code, state, f"bastion: {message}").build(s.caps), seq + 1)


def safe_decode(data: bytes) -> str:
    return data.decode("utf-8", errors="surrogateescape")

