"""Command phase, responses: stream the upstream's answer to the client.

Theory of operation. The client and the upstream run the same command/response cycle,
so the relay forwards the client's packet with the same sequence ids and relays the
upstream's response packet by packet, unchanged except for masked row values (which
never adds or removes packets, so sequence ids stay valid) and masked error messages (an
ERR is one packet: its length may change, its sequence id does not). A
``ResponseTracker`` tells where the response ends, where column definitions complete
(the row masker is planned once there) and which packets are rows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from bastion.core.contracts import RowMasker
from bastion.core.masks import RowMask
from bastion.guard import Admission
from plugins.mysql.codec import (
    COM_FIELD_LIST,
    COM_PING,
    COM_RESET_CONNECTION,
    COM_SET_OPTION,
    COM_STATISTICS,
    COM_STMT_CLOSE,
    COM_STMT_FETCH,
    COM_STMT_RESET,
    COM_STMT_SEND_LONG_DATA,
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
    rewrite_binary_rows,
    rewrite_text_rows,
    split_packets,
)
from plugins.mysql.masking import PlanCache, collect, plan_masking
from plugins.mysql.session import Result

if TYPE_CHECKING:
    from plugins.mysql.session import MySQLSession, Prepared

log = logging.getLogger("bastion.mysql")

CONTROL_COMMANDS = frozenset({COM_FIELD_LIST, COM_PING, COM_STATISTICS, COM_STMT_SEND_LONG_DATA, COM_STMT_CLOSE,
                              COM_STMT_RESET, COM_RESET_CONNECTION, COM_SET_OPTION})
"""Protocol commands that run no statement: relayed without an admission."""


def send_request(s: MySQLSession, admission: Admission, payload: bytes) -> None:
    """Send a judged request upstream: only an admitted one can be sent."""
    if not isinstance(admission, Admission):  # a Refusal must never reach here, whatever the caller did
        raise TypeError("a request reaches the target only with an Admission")
    s.upstream.conn.send(payload, 0)


def send_control(s: MySQLSession, payload: bytes) -> None:
    """Send a protocol command that runs no statement (:data:`CONTROL_COMMANDS`)."""
    if payload[0] not in CONTROL_COMMANDS:
        raise ValueError(f"command 0x{payload[0]:02x} is a request: it needs an admission")
    s.upstream.conn.send(payload, 0)


def control(s: MySQLSession, payload: bytes) -> Result:
    """Relay a protocol command that runs no statement, and its response."""
    send_control(s, payload)
    return relay_response(s, payload[0])


def forward(s: MySQLSession, admission: Admission, payload: bytes, command: int,
            prepared: Prepared | None = None) -> Result:
    """Send an admitted request and relay its response."""
    send_request(s, admission, payload)
    if prepared is None:
        return relay_response(s, command)
    return relay_response(s, command, prepared.types, prepared.columns, prepared.plans)


class SessionKilled(Exception):
    """The session must end now (protocol violation or LOCAL INFILE from upstream)."""


def relay_response(s: MySQLSession, command: int, types: list[int] | None = None,
                   known_columns: list[ColumnDef] | None = None, cache: PlanCache | None = None) -> Result:
    """Stream the upstream response to ``command`` to the client; returns its summary.

    ``types``/``known_columns`` describe rows that arrive without column definitions
    (COM_STMT_FETCH), remembered from the statement's EXECUTE. ``cache`` keeps the
    masking plan of a prepared statement's results between executions."""
    plan: Callable[[MySQLSession, list[ColumnDef], list[RowMasker]], RowMask | None] = (
        cache.plan if cache is not None else plan_masking)
    up, client = s.upstream.conn, s.client
    next_packet, take_rows, queue = up.reader.next_packet, up.reader.take_rows, client.queue
    tracker = ResponseTracker(command, s.upstream.caps)
    feed, deprecate_eof = tracker.feed, tracker.deprecate_eof
    result = Result()
    columns: list[ColumnDef] = []
    row_types = tuple(types or ())
    masking: RowMask | None = None
    ncols = rows = nbytes = 0
    plans: list[RowMasker] = []
    if known_columns and command == COM_STMT_FETCH:
        masking = plan(s, known_columns, plans)
    while not tracker.done:
        if tracker.in_rows:
            run = take_rows(deprecate_eof)
            if run is not None:
                wire, count = run
                tracker.skip_rows(count)
                rows += count
                if masking is None:
                    # Rows nobody rewrites: forwarded as received (same bytes, same
                    # sequence ids), without parsing or re-framing each one.
                    nbytes += len(wire) - 4 * count
                    client.queue_raw(wire)
                else:  # the run masked as one batch (one scan for all its rows)
                    nbytes += _relay_masked(s, wire, masking, row_types if tracker.binary else None)
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
            if masking is not None:
                payload = (rewrite_binary_rows([payload], row_types, masking.columns, masking.mask) if tracker.binary
                           else rewrite_text_rows([payload], masking.columns, masking.mask))[0]
        elif isinstance(item, ColumnDefItem):
            columns = [] if item.index == 0 else columns
            columns.append(item.col)
            if item.index == ncols - 1:
                row_types = tuple(c.type for c in columns)
                result.columns = s.recorded_columns([c.name for c in columns])
                result.prepared_columns = list(columns)
                masking = plan(s, columns, plans)
        elif isinstance(item, ColumnCountItem):
            ncols = item.count
        elif isinstance(item, OkItem | ResultEndItem):
            _status(s, item, result)
        elif isinstance(item, ColumnsEndItem):
            result.status = item.status  # a cursor was opened: the response ends here
        elif isinstance(item, ErrItem):
            # server messages quote values ("Duplicate entry '4111…'"): masked for the
            # record, and for the user as live output is
            result.error = s.redact(f"{item.err.code} {item.err.message}")
            payload = _mask_err(s, item.err, payload)
        elif isinstance(item, PrepareOkItem):
            result.prepared_id = item.prepare_ok.stmt_id
            result.prepared_params = item.prepare_ok.num_params
            ncols = item.prepare_ok.num_columns
        elif isinstance(item, LocalInfileItem):
            raise SessionKilled("target asked for LOCAL INFILE, which the bastion never allows")
        nbytes += len(payload)
        queue(payload, seq)
    client.flush()
    result.rows, result.bytes = rows, nbytes
    counted = collect(plans)
    if counted:  # keyed by recognizer and column, and a column is named by its expression's text
        result.masked = dict(zip(s.recorded_columns(list(counted)), counted.values(), strict=True))
    return result


def _relay_masked(s: MySQLSession, wire: bytes, masking: RowMask, binary_types: tuple[int, ...] | None) -> int:
    """Queue a run of row packets (as :meth:`PacketReader.take_rows` gives them) with
    their values masked, each under its own sequence id; returns their payload bytes."""
    packets = split_packets(wire)
    payloads = [payload for _, payload in packets]
    masked = (rewrite_binary_rows(payloads, binary_types, masking.columns, masking.mask) if binary_types is not None
              else rewrite_text_rows(payloads, masking.columns, masking.mask))
    queue = s.client.queue
    nbytes = 0
    for (seq, _), payload in zip(packets, masked, strict=True):
        nbytes += len(payload)
        queue(payload, seq)
    return nbytes


def _status(s: MySQLSession, item: OkItem | ResultEndItem, result: Result) -> None:
    status = item.ok.status if isinstance(item, OkItem) else item.status
    if isinstance(item, OkItem):
        result.affected += item.ok.affected_rows
    if not status & SERVER_MORE_RESULTS_EXISTS:
        result.status = status
    result.results += 1
    s.no_backslash_escapes = bool(status & SERVER_STATUS_NO_BACKSLASH_ESCAPES)
    s.in_transaction = bool(status & SERVER_STATUS_IN_TRANS)


def _mask_err(s: MySQLSession, err: ErrPacket, payload: bytes) -> bytes:
    if not s.masks.masks_live:
        return payload
    message = s.masks.live(err.message)
    if message == err.message:
        return payload
    return ErrPacket(err.code, err.sqlstate, message).build(s.caps)
