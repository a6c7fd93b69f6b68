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
``_INITIAL_STATE`` (command → first state); every transition lives in this
file. Rules:

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

import enum
from collections.abc import Callable

from ._items import (
    ColumnCountItem,
    ColumnDefItem,
    ColumnsEndItem,
    ErrItem,
    Item,
    LocalInfileItem,
    OkItem,
    ParamDefItem,
    ParamsEndItem,
    PrepareOkItem,
    ResultEndItem,
    RowItem,
    StatisticsItem,
)
from ._packets import (
    ColumnDef,
    ErrPacket,
    OkPacket,
    PrepareOk,
    is_eof,
    parse_column_count,
    parse_eof,
)
from ._rows import is_row_terminator
from .constants import (
    CLIENT_DEPRECATE_EOF,
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
    SERVER_MORE_RESULTS_EXISTS,
    SERVER_STATUS_CURSOR_EXISTS,
)
from .errors import LocalProtocolError, RemoteProtocolError

__all__ = ["ResponseTracker"]


class _S(enum.Enum):
    RESULT_START = enum.auto()
    COLUMNS = enum.auto()
    COLUMNS_EOF = enum.auto()
    ROWS = enum.auto()
    FETCH_ROWS = enum.auto()
    INFILE_REPLY = enum.auto()
    PREPARE_OK = enum.auto()
    PARAMS = enum.auto()
    PARAMS_EOF = enum.auto()
    PREPARE_COLUMNS = enum.auto()
    PREPARE_COLUMNS_EOF = enum.auto()
    FIELD_LIST = enum.auto()
    STATISTICS = enum.auto()
    EOF_OR_ERR = enum.auto()
    OK_OR_ERR = enum.auto()
    DONE = enum.auto()
    ERROR = enum.auto()


_INITIAL_STATE: dict[int, _S] = {
    COM_QUERY: _S.RESULT_START,
    COM_PROCESS_INFO: _S.RESULT_START,
    COM_STMT_EXECUTE: _S.RESULT_START,
    COM_STMT_BULK_EXECUTE: _S.RESULT_START,
    COM_STMT_FETCH: _S.FETCH_ROWS,
    COM_STMT_PREPARE: _S.PREPARE_OK,
    COM_FIELD_LIST: _S.FIELD_LIST,
    COM_STATISTICS: _S.STATISTICS,
    COM_SET_OPTION: _S.EOF_OR_ERR,
    COM_DEBUG: _S.EOF_OR_ERR,
    COM_SHUTDOWN: _S.EOF_OR_ERR,
    COM_QUIT: _S.DONE,
    COM_STMT_CLOSE: _S.DONE,
    COM_STMT_SEND_LONG_DATA: _S.DONE,
}  # any other command: OK_OR_ERR
_UNSUPPORTED = frozenset({COM_CHANGE_USER, COM_BINLOG_DUMP, COM_BINLOG_DUMP_GTID, COM_TABLE_DUMP})
_BINARY = frozenset({COM_STMT_EXECUTE, COM_STMT_FETCH, COM_STMT_BULK_EXECUTE})
_COLUMN_CACHE: dict[bytes, ColumnDef] = {}
"""Definition bytes -> parsed def. The server resends the same definitions for every
EXECUTE of a statement (CACHE_METADATA is never negotiated) and for every run of a
query: parsing them again dominated small responses. Shared defs are never mutated."""
_COLUMN_CACHE_SIZE = 4096


class ResponseTracker:
    """Follows the server's response to one command (see the module docstring).

    ``caps`` are the capabilities negotiated on the leg being read (only
    DEPRECATE_EOF, PROTOCOL_41 and SESSION_TRACK matter). ``prepare_expected``
    makes the response start with a COM_STMT_PREPARE_OK section even when
    ``command`` is not COM_STMT_PREPARE (it is implied when it is).

    Attributes: ``done`` (response complete), ``binary`` (rows use the binary
    protocol), ``columns`` (defs of the current result set, reset at each
    new result), ``params`` (param defs of a PREPARE response).
    """

    __slots__ = (
        "_index",
        "_ncols",
        "_nparams",
        "_rows_seen",
        "_state",
        "binary",
        "caps",
        "columns",
        "command",
        "deprecate_eof",
        "params",
    )

    def __init__(self, command: int, caps: int, *, prepare_expected: bool = False) -> None:
        if command in _UNSUPPORTED:
            raise LocalProtocolError(f"cannot track the response to {COMMAND_NAMES.get(command, command)}")
        self.command = command
        self.caps = caps
        self.deprecate_eof = bool(caps & CLIENT_DEPRECATE_EOF)
        self.binary = command in _BINARY
        self.columns: list[ColumnDef] = []
        self.params: list[ColumnDef] = []
        self._state = _S.PREPARE_OK if prepare_expected else _INITIAL_STATE.get(command, _S.OK_OR_ERR)
        self._ncols = self._nparams = self._index = self._rows_seen = 0

    @property
    def done(self) -> bool:
        """True once the whole response (all results) has been fed."""
        return self._state is _S.DONE

    @property
    def in_rows(self) -> bool:
        """True while the next packet is a row or the end of the rows (after the
        column definitions of a result, or in a COM_STMT_FETCH response)."""
        return self._state is _S.ROWS or self._state is _S.FETCH_ROWS

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
        if state is _S.DONE or state is _S.ERROR:
            raise LocalProtocolError(f"response tracker is {state.name}; nothing more expected")
        if not payload and state is not _S.STATISTICS:
            self._state = _S.ERROR
            raise RemoteProtocolError("empty packet in response")
        try:
            return _HANDLERS[state](self, payload)
        except RemoteProtocolError:
            self._state = _S.ERROR
            raise

    # --- shared pieces -------------------------------------------------------
    def _err(self, payload: bytes) -> ErrItem:
        self._state = _S.DONE
        return ErrItem(ErrPacket.parse(payload, self.caps))

    def _terminator(self, payload: bytes) -> tuple[int, int]:
        """``(warnings, status)`` of an EOF (5 bytes) or a 0xfe-led OK."""
        if len(payload) in (1, 5):
            return parse_eof(payload)
        ok = OkPacket.parse(payload, self.caps)
        return ok.warnings, ok.status

    def _column(self, payload: bytes) -> ColumnDef:
        col = _COLUMN_CACHE.get(payload)
        if col is not None:
            return col
        if payload[0] >= 0xFB:  # a def starts with lenenc catalog "def"
            raise RemoteProtocolError(f"expected a column definition, got header 0x{payload[0]:02x}")
        col = ColumnDef.parse(payload)
        if len(_COLUMN_CACHE) >= _COLUMN_CACHE_SIZE:
            _COLUMN_CACHE.clear()
        _COLUMN_CACHE[bytes(payload)] = col
        return col

    def _expect_eof(self, payload: bytes, what: str) -> int:
        if not is_eof(payload):
            raise RemoteProtocolError(f"expected EOF after {what}")
        return parse_eof(payload)[1]

    # --- results (QUERY, EXECUTE) --------------------------------------------
    def _on_result_start(self, payload: bytes) -> Item:
        head = payload[0]
        if head == 0x00:
            return self._ok(payload, loop=True)
        if head == 0xFF:
            return self._err(payload)
        if head == 0xFB:
            self._state = _S.INFILE_REPLY
            return LocalInfileItem(payload[1:])
        self._ncols = parse_column_count(payload)
        self._index = self._rows_seen = 0
        self.columns = []
        self._state = _S.COLUMNS
        return ColumnCountItem(self._ncols)

    def _ok(self, payload: bytes, *, loop: bool) -> OkItem:
        ok = OkPacket.parse(payload, self.caps)
        more = loop and bool(ok.status & SERVER_MORE_RESULTS_EXISTS)
        self._state = _S.RESULT_START if more else _S.DONE
        return OkItem(ok, more)

    def _on_columns(self, payload: bytes) -> Item:
        col = self._column(payload)
        index = self._index
        self._index += 1
        self.columns.append(col)
        if self._index == self._ncols:
            self._state = _S.ROWS if self.deprecate_eof else _S.COLUMNS_EOF
        return ColumnDefItem(col, index)

    def _on_columns_eof(self, payload: bytes) -> Item:
        status = self._expect_eof(payload, "column definitions")
        self._state = _S.DONE if self.binary and status & SERVER_STATUS_CURSOR_EXISTS else _S.ROWS
        return ColumnsEndItem(status)

    def _on_rows(self, payload: bytes) -> Item:
        head = payload[0]
        if head == 0xFE and is_row_terminator(payload, self.deprecate_eof):
            warnings, status = self._terminator(payload)
            if self.binary and not self._rows_seen and status & SERVER_STATUS_CURSOR_EXISTS:
                self._state = _S.DONE  # DEPRECATE_EOF cursor open: 0xfe-OK, no rows
                return ColumnsEndItem(status)
            more = bool(status & SERVER_MORE_RESULTS_EXISTS)
            self._state = _S.RESULT_START if more else _S.DONE
            return ResultEndItem(status, more, warnings)
        if head == 0xFF:
            return self._err(payload)
        self._rows_seen += 1
        return RowItem(payload)

    def _on_fetch_rows(self, payload: bytes) -> Item:
        head = payload[0]
        if head == 0xFE and is_row_terminator(payload, self.deprecate_eof):
            warnings, status = self._terminator(payload)
            self._state = _S.DONE
            return ResultEndItem(status, False, warnings)
        if head == 0xFF:
            return self._err(payload)
        return RowItem(payload)

    def _on_infile_reply(self, payload: bytes) -> Item:
        head = payload[0]
        if head == 0x00:
            return self._ok(payload, loop=True)
        if head == 0xFF:
            return self._err(payload)
        raise RemoteProtocolError(f"expected OK/ERR after LOCAL INFILE, got 0x{head:02x}")

    # --- COM_STMT_PREPARE ------------------------------------------------------
    def _on_prepare_ok(self, payload: bytes) -> Item:
        if payload[0] == 0xFF:
            return self._err(payload)
        pok = PrepareOk.parse(payload)
        self._nparams, self._ncols, self._index = pok.num_params, pok.num_columns, 0
        self.params, self.columns = [], []
        self._state = _S.PARAMS if pok.num_params else self._after_params()
        return PrepareOkItem(pok)

    def _after_params(self) -> _S:
        self._index = 0
        return _S.PREPARE_COLUMNS if self._ncols else _S.DONE

    def _on_params(self, payload: bytes) -> Item:
        col = self._column(payload)
        index = self._index
        self._index += 1
        self.params.append(col)
        if self._index == self._nparams:
            self._state = self._after_params() if self.deprecate_eof else _S.PARAMS_EOF
        return ParamDefItem(col, index)

    def _on_params_eof(self, payload: bytes) -> Item:
        status = self._expect_eof(payload, "parameter definitions")
        self._state = self._after_params()
        return ParamsEndItem(status)

    def _on_prepare_columns(self, payload: bytes) -> Item:
        col = self._column(payload)
        index = self._index
        self._index += 1
        self.columns.append(col)
        if self._index == self._ncols:
            self._state = _S.DONE if self.deprecate_eof else _S.PREPARE_COLUMNS_EOF
        return ColumnDefItem(col, index)

    def _on_prepare_columns_eof(self, payload: bytes) -> Item:
        status = self._expect_eof(payload, "column definitions")
        self._state = _S.DONE
        return ColumnsEndItem(status)

    # --- small responses ---------------------------------------------------------
    def _on_field_list(self, payload: bytes) -> Item:
        head = payload[0]
        if head == 0xFF:
            return self._err(payload)
        if head == 0xFE:
            warnings, status = self._terminator(payload)
            self._state = _S.DONE
            return ResultEndItem(status, False, warnings)
        col = self._column(payload)
        self.columns.append(col)
        return ColumnDefItem(col, len(self.columns) - 1)

    def _on_statistics(self, payload: bytes) -> Item:
        if payload[:1] == b"\xff":
            return self._err(payload)
        self._state = _S.DONE
        return StatisticsItem(payload.decode("utf-8", "replace"))

    def _on_eof_or_err(self, payload: bytes) -> Item:
        head = payload[0]
        if head == 0xFE:
            warnings, status = self._terminator(payload)
            self._state = _S.DONE
            return ResultEndItem(status, False, warnings)
        return self._on_ok_or_err(payload)

    def _on_ok_or_err(self, payload: bytes) -> Item:
        head = payload[0]
        if head == 0x00:
            return self._ok(payload, loop=False)
        if head == 0xFF:
            return self._err(payload)
        raise RemoteProtocolError(f"expected OK/ERR, got header 0x{head:02x}")


_HANDLERS: dict[_S, Callable[[ResponseTracker, bytes], Item]] = {
    _S.RESULT_START: ResponseTracker._on_result_start,
    _S.COLUMNS: ResponseTracker._on_columns,
    _S.COLUMNS_EOF: ResponseTracker._on_columns_eof,
    _S.ROWS: ResponseTracker._on_rows,
    _S.FETCH_ROWS: ResponseTracker._on_fetch_rows,
    _S.INFILE_REPLY: ResponseTracker._on_infile_reply,
    _S.PREPARE_OK: ResponseTracker._on_prepare_ok,
    _S.PARAMS: ResponseTracker._on_params,
    _S.PARAMS_EOF: ResponseTracker._on_params_eof,
    _S.PREPARE_COLUMNS: ResponseTracker._on_prepare_columns,
    _S.PREPARE_COLUMNS_EOF: ResponseTracker._on_prepare_columns_eof,
    _S.FIELD_LIST: ResponseTracker._on_field_list,
    _S.STATISTICS: ResponseTracker._on_statistics,
    _S.EOF_OR_ERR: ResponseTracker._on_eof_or_err,
    _S.OK_OR_ERR: ResponseTracker._on_ok_or_err,
}
