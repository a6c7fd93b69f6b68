"""Items returned by :meth:`ResponseTracker.feed`: what one server packet was.

Frozen, slotted value objects; one class per packet role. Do not subclass.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._columns import ColumnDef
from ._ok_err_eof import ErrPacket, OkPacket
from ._stmt_packets import PrepareOk

__all__ = [
    "ColumnCountItem",
    "ColumnDefItem",
    "ColumnsEndItem",
    "ErrItem",
    "Item",
    "LocalInfileItem",
    "OkItem",
    "ParamDefItem",
    "ParamsEndItem",
    "PrepareOkItem",
    "ResultEndItem",
    "RowItem",
    "StatisticsItem",
]


@dataclass(frozen=True, slots=True)
class OkItem:
    """An OK packet; ``more``: another result of the same command follows."""

    ok: OkPacket
    more: bool


@dataclass(frozen=True, slots=True)
class ErrItem:
    """An ERR packet; it always ends the response."""

    err: ErrPacket


@dataclass(frozen=True, slots=True)
class LocalInfileItem:
    """0xfb LOCAL INFILE request for ``filename`` (policy: kill the session)."""

    filename: bytes


@dataclass(frozen=True, slots=True)
class ColumnCountItem:
    """The packet opening a result set: ``count`` column defs follow."""

    count: int


@dataclass(frozen=True, slots=True)
class ColumnDefItem:
    """Column definition number ``index`` (0-based) of the current result."""

    col: ColumnDef
    index: int


@dataclass(frozen=True, slots=True)
class ParamDefItem:
    """Parameter definition number ``index`` of a COM_STMT_PREPARE response."""

    col: ColumnDef
    index: int


@dataclass(frozen=True, slots=True)
class ColumnsEndItem:
    """A real packet ending the column defs: the EOF (not DEPRECATE_EOF), or the
    cursor-open terminator of COM_STMT_EXECUTE (``status`` has CURSOR_EXISTS)."""

    status: int = 0


@dataclass(frozen=True, slots=True)
class ParamsEndItem:
    """The EOF after a COM_STMT_PREPARE response's param defs (not DEPRECATE_EOF)."""

    status: int = 0


@dataclass(frozen=True, slots=True)
class RowItem:
    """One row, raw (text or binary per :attr:`ResponseTracker.binary`)."""

    payload: bytes


@dataclass(frozen=True, slots=True)
class ResultEndItem:
    """A 0xfe terminator (EOF or OK) ending rows / field list / set-option."""

    status: int
    more: bool
    warnings: int = 0


@dataclass(frozen=True, slots=True)
class PrepareOkItem:
    """COM_STMT_PREPARE_OK."""

    prepare_ok: PrepareOk


@dataclass(frozen=True, slots=True)
class StatisticsItem:
    """The single text packet answering COM_STATISTICS."""

    text: str


#: Everything :meth:`ResponseTracker.feed` can return.
Item = (
    OkItem
    | ErrItem
    | LocalInfileItem
    | ColumnCountItem
    | ColumnDefItem
    | ParamDefItem
    | ColumnsEndItem
    | ParamsEndItem
    | RowItem
    | ResultEndItem
    | PrepareOkItem
    | StatisticsItem
)
