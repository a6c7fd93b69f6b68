"""The response tracker's fields, states and the packet readers its sections share.

:class:`TrackerBase` holds every field of :class:`~._response.ResponseTracker`; the
sections (:mod:`._result_sections`, :mod:`._prepare_sections`) and the tracker itself
derive from it, so a handler reads and sets the same slots whichever module defines it.
"""

from __future__ import annotations

import enum

from ._columns import ColumnDef
from ._items import ErrItem, OkItem
from ._ok_err_eof import ErrPacket, OkPacket, is_eof, parse_eof
from .constants.server_status import SERVER_MORE_RESULTS_EXISTS
from .errors import RemoteProtocolError


class State(enum.Enum):
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


_COLUMN_CACHE: dict[bytes, ColumnDef] = {}
"""Definition bytes -> parsed def. The server resends the same definitions for every
EXECUTE of a statement (CACHE_METADATA is never negotiated) and for every run of a
query: parsing them again dominated small responses. Shared defs are never mutated."""
_COLUMN_CACHE_SIZE = 4096


class TrackerBase:
    """Fields of the tracker (documented on :class:`~._response.ResponseTracker`) and the
    readers of ERR, OK, terminators and column definitions every section uses."""

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

    command: int
    caps: int
    deprecate_eof: bool
    binary: bool
    columns: list[ColumnDef]
    params: list[ColumnDef]
    _state: State
    _ncols: int
    _nparams: int
    _index: int
    _rows_seen: int

    def _err(self, payload: bytes) -> ErrItem:
        self._state = State.DONE
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

    def _ok(self, payload: bytes, *, loop: bool) -> OkItem:
        ok = OkPacket.parse(payload, self.caps)
        more = loop and bool(ok.status & SERVER_MORE_RESULTS_EXISTS)
        self._state = State.RESULT_START if more else State.DONE
        return OkItem(ok, more)
