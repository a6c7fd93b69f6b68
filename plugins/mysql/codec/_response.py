"""Response tracker: which packet of a command's response comes next.

Theory of operation
-------------------
The MySQL command phase is strictly request/response: the client sends one
command (sequence id 0) and the server answers with a run of packets whose
*shape depends only on the command and on a few bytes inside the response*
(header bytes, counts, status flags). The relay therefore creates one
:class:`ResponseTracker` per command and feeds it every server payload in
order; each :meth:`~ResponseTracker.feed` returns exactly one *item* saying
what the packet was, and :attr:`~ResponseTracker.done` turns True on the
packet that completes the response. The tracker never changes bytes, never
buffers, and never looks at sequence ids (framing does that).

The machine is the literal table ``_HANDLERS`` (state → handler) plus
``_INITIAL_STATE`` (command → first state), both in this file; the handlers
live by section: result sets in :mod:`._result_sections`, COM_STMT_PREPARE in
:mod:`._prepare_sections`, the one- or two-packet answers here, and the
readers they share (ERR, OK, terminators, column defs) in
:mod:`._response_base`. Rules:

1. A result (COM_QUERY, COM_STMT_EXECUTE, COM_PROCESS_INFO) is OK | ERR |
   LOCAL INFILE | column count → N column defs → [EOF unless DEPRECATE_EOF]
   → rows → terminator. A terminator or OK whose status carries
   SERVER_MORE_RESULTS_EXISTS loops back to RESULT_START (multi-results).
2. A 0xfe-led packet in the rows section is a terminator only if short
   (EOF < 9 bytes; DEPRECATE_EOF OK < 0xFFFFFF); otherwise it is a row whose
   first value is ≥ 16 MiB. ERR ends the whole response.
3. COM_STMT_EXECUTE that opened a cursor (SERVER_STATUS_CURSOR_EXISTS on the
   packet after the column defs: the EOF, or under DEPRECATE_EOF a 0xfe-OK,
   measured on MariaDB 10.11) carries no rows: that packet is reported as
   :class:`ColumnsEndItem` and ends the response. Rows come via COM_STMT_FETCH
   (rows → terminator, no column defs).
4. COM_STMT_PREPARE: PREPARE_OK → nparams param defs [+EOF] → ncols column
   defs [+EOF], or ERR.
5. COM_FIELD_LIST: column defs → a 0xfe terminator (MariaDB sends a 0xfe-OK
   under DEPRECATE_EOF, an EOF otherwise), or ERR.
6. COM_STATISTICS: one text packet. COM_SET_OPTION / COM_DEBUG /
   COM_SHUTDOWN: a 0xfe terminator (or OK) or ERR. Everything else: OK or ERR.
7. COM_QUIT, COM_STMT_CLOSE, COM_STMT_SEND_LONG_DATA have no response: the
   tracker starts done. Commands whose responses it cannot follow
   (CHANGE_USER, BINLOG_DUMP*, TABLE_DUMP) are refused at construction.

Any packet the current state does not allow raises RemoteProtocolError and
moves the tracker to ERROR; feeding it afterwards (or after done) raises
LocalProtocolError.
"""

from __future__ import annotations

from collections.abc import Callable

from ._columns import ColumnDef
from ._items import ColumnDefItem, Item, ResultEndItem, StatisticsItem
from ._prepare_sections import PrepareSections
from ._response_base import State
from ._result_sections import ResultSections
from .constants.capabilities import CLIENT_DEPRECATE_EOF
from .constants.commands import (
    COM_BINLOG_DUMP,
    COM_BINLOG_DUMP_GTID,
    COM_CHANGE_USER,
    COM_DEBUG,
    COM_FIELD_LIST,
    COM_PROCESS_INFO,
    COM_QUERY,
    COM_QUIT,
    COM_SET_OPTION,
    COM_SHUTDOWN,
    COM_STATISTICS,
    COM_STMT_BULK_EXECUTE,
    COM_STMT_CLOSE,
    COM_STMT_EXECUTE,
    COM_STMT_FETCH,
    COM_STMT_PREPARE,
    COM_STMT_SEND_LONG_DATA,
    COM_TABLE_DUMP,
    COMMAND_NAMES,
)
from .errors import LocalProtocolError, RemoteProtocolError

__all__ = ["ResponseTracker"]


_INITIAL_STATE: dict[int, State] = {
    COM_QUERY: State.RESULT_START,
    COM_PROCESS_INFO: State.RESULT_START,
    COM_STMT_EXECUTE: State.RESULT_START,
    COM_STMT_BULK_EXECUTE: State.RESULT_START,
    COM_STMT_FETCH: State.FETCH_ROWS,
    COM_STMT_PREPARE: State.PREPARE_OK,
    COM_FIELD_LIST: State.FIELD_LIST,
    COM_STATISTICS: State.STATISTICS,
    COM_SET_OPTION: State.EOF_OR_ERR,
    COM_DEBUG: State.EOF_OR_ERR,
    COM_SHUTDOWN: State.EOF_OR_ERR,
    COM_QUIT: State.DONE,
    COM_STMT_CLOSE: State.DONE,
    COM_STMT_SEND_LONG_DATA: State.DONE,
}  # any other command: OK_OR_ERR
_UNSUPPORTED = frozenset({COM_CHANGE_USER, COM_BINLOG_DUMP, COM_BINLOG_DUMP_GTID, COM_TABLE_DUMP})
_BINARY = frozenset({COM_STMT_EXECUTE, COM_STMT_FETCH, COM_STMT_BULK_EXECUTE})


class ResponseTracker(ResultSections, PrepareSections):
    """Follows the server's response to one command (see the module docstring).

    ``caps`` are the capabilities negotiated on the leg being read (only
    DEPRECATE_EOF, PROTOCOL_41 and SESSION_TRACK matter). ``prepare_expected``
    makes the response start with a COM_STMT_PREPARE_OK section even when
    ``command`` is not COM_STMT_PREPARE (it is implied when it is).

    Attributes: ``done`` (response complete), ``binary`` (rows use the binary
    protocol), ``columns`` (defs of the current result set, reset at each
    new result), ``params`` (param defs of a PREPARE response).
    """

    __slots__ = ()

    def __init__(self, command: int, caps: int, *, prepare_expected: bool = False) -> None:
        if command in _UNSUPPORTED:
            raise LocalProtocolError(f"cannot track the response to {COMMAND_NAMES.get(command, command)}")
        self.command = command
        self.caps = caps
        self.deprecate_eof = bool(caps & CLIENT_DEPRECATE_EOF)
        self.binary = command in _BINARY
        self.columns: list[ColumnDef] = []
        self.params: list[ColumnDef] = []
        self._state = State.PREPARE_OK if prepare_expected else _INITIAL_STATE.get(command, State.OK_OR_ERR)
        self._ncols = self._nparams = self._index = self._rows_seen = 0

    @property
    def done(self) -> bool:
        """True once the whole response (all results) has been fed."""
        return self._state is State.DONE

    @property
    def in_rows(self) -> bool:
        """True while the next packet is a row or the end of the rows (after the
        column definitions of a result, or in a COM_STMT_FETCH response)."""
        return self._state is State.ROWS or self._state is State.FETCH_ROWS

    def skip_rows(self, count: int) -> None:
        """Account for ``count`` rows the caller consumed without :meth:`feed` (the
        relay's fast path, :meth:`PacketReader.take_rows`); only valid :attr:`in_rows`."""
        if not self.in_rows:
            raise LocalProtocolError(f"skip_rows in state {self._state.name}")
        self._rows_seen += count

    @property
    def state(self) -> str:
        """Name of the current state (for logs and tests)."""
        return self._state.name

    def feed(self, payload: bytes) -> Item:
        """Classify the next server payload of this response; advance the state."""
        state = self._state
        if state is State.DONE or state is State.ERROR:
            raise LocalProtocolError(f"response tracker is {state.name}; nothing more expected")
        if not payload and state is not State.STATISTICS:
            self._state = State.ERROR
            raise RemoteProtocolError("empty packet in response")
        try:
            return _HANDLERS[state](self, payload)
        except RemoteProtocolError:
            self._state = State.ERROR
            raise


    # --- small responses ---------------------------------------------------------
    def _on_field_list(self, payload: bytes) -> Item:
        head = payload[0]
        if head == 0xFF:
            return self._err(payload)
        if head == 0xFE:
            warnings, status = self._terminator(payload)
            self._state = State.DONE
            return ResultEndItem(status, False, warnings)
        col = self._column(payload)
        self.columns.append(col)
        return ColumnDefItem(col, len(self.columns) - 1)

    def _on_statistics(self, payload: bytes) -> Item:
        if payload[:1] == b"\xff":
            return self._err(payload)
        self._state = State.DONE
        return StatisticsItem(payload.decode("utf-8", "replace"))

    def _on_eof_or_err(self, payload: bytes) -> Item:
        head = payload[0]
        if head == 0xFE:
            warnings, status = self._terminator(payload)
            self._state = State.DONE
            return ResultEndItem(status, False, warnings)
        return self._on_ok_or_err(payload)

    def _on_ok_or_err(self, payload: bytes) -> Item:
        head = payload[0]
        if head == 0x00:
            return self._ok(payload, loop=False)
        if head == 0xFF:
            return self._err(payload)
        raise RemoteProtocolError(f"expected OK/ERR, got header 0x{head:02x}")


_HANDLERS: dict[State, Callable[[ResponseTracker, bytes], Item]] = {
    State.RESULT_START: ResponseTracker._on_result_start,
    State.COLUMNS: ResponseTracker._on_columns,
    State.COLUMNS_EOF: ResponseTracker._on_columns_eof,
    State.ROWS: ResponseTracker._on_rows,
    State.FETCH_ROWS: ResponseTracker._on_fetch_rows,
    State.INFILE_REPLY: ResponseTracker._on_infile_reply,
    State.PREPARE_OK: ResponseTracker._on_prepare_ok,
    State.PARAMS: ResponseTracker._on_params,
    State.PARAMS_EOF: ResponseTracker._on_params_eof,
    State.PREPARE_COLUMNS: ResponseTracker._on_prepare_columns,
    State.PREPARE_COLUMNS_EOF: ResponseTracker._on_prepare_columns_eof,
    State.FIELD_LIST: ResponseTracker._on_field_list,
    State.STATISTICS: ResponseTracker._on_statistics,
    State.EOF_OR_ERR: ResponseTracker._on_eof_or_err,
    State.OK_OR_ERR: ResponseTracker._on_ok_or_err,
}
