"""Result-set sections of a response (COM_QUERY, COM_STMT_EXECUTE, COM_STMT_FETCH,
COM_PROCESS_INFO): OK | ERR | LOCAL INFILE | column count → column defs → [EOF] → rows →
terminator, looping on SERVER_MORE_RESULTS_EXISTS (rules 1-3 of :mod:`._response`)."""

from __future__ import annotations

from ._columns import parse_column_count
from ._items import (
    ColumnCountItem,
    ColumnDefItem,
    ColumnsEndItem,
    Item,
    LocalInfileItem,
    ResultEndItem,
    RowItem,
)
from ._response_base import State, TrackerBase
from ._rows import is_row_terminator
from .constants.server_status import SERVER_MORE_RESULTS_EXISTS, SERVER_STATUS_CURSOR_EXISTS
from .errors import RemoteProtocolError


class ResultSections(TrackerBase):
    """Handlers of the result-set states."""

    __slots__ = ()

    def _on_result_start(self, payload: bytes) -> Item:
        head = payload[0]
        if head == 0x00:
            return self._ok(payload, loop=True)
        if head == 0xFF:
            return self._err(payload)
        if head == 0xFB:
            self._state = State.INFILE_REPLY
            return LocalInfileItem(payload[1:])
        self._ncols = parse_column_count(payload)
        self._index = self._rows_seen = 0
        self.columns = []
        self._state = State.COLUMNS
        return ColumnCountItem(self._ncols)

    def _on_columns(self, payload: bytes) -> Item:
        col = self._column(payload)
        index = self._index
        self._index += 1
        self.columns.append(col)
        if self._index == self._ncols:
            self._state = State.ROWS if self.deprecate_eof else State.COLUMNS_EOF
        return ColumnDefItem(col, index)

    def _on_columns_eof(self, payload: bytes) -> Item:
        status = self._expect_eof(payload, "column definitions")
        self._state = State.DONE if self.binary and status & SERVER_STATUS_CURSOR_EXISTS else State.ROWS
        return ColumnsEndItem(status)

    def _on_rows(self, payload: bytes) -> Item:
        head = payload[0]
        if head == 0xFE and is_row_terminator(payload, self.deprecate_eof):
            warnings, status = self._terminator(payload)
            if self.binary and not self._rows_seen and status & SERVER_STATUS_CURSOR_EXISTS:
                self._state = State.DONE  # DEPRECATE_EOF cursor open: 0xfe-OK, no rows
                return ColumnsEndItem(status)
            more = bool(status & SERVER_MORE_RESULTS_EXISTS)
            self._state = State.RESULT_START if more else State.DONE
            return ResultEndItem(status, more, warnings)
        if head == 0xFF:
            return self._err(payload)
        self._rows_seen += 1
        return RowItem(payload)

    def _on_fetch_rows(self, payload: bytes) -> Item:
        head = payload[0]
        if head == 0xFE and is_row_terminator(payload, self.deprecate_eof):
            warnings, status = self._terminator(payload)
            self._state = State.DONE
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
