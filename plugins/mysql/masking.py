"""The row hook: ask the configured maskers for a plan once per column-definition set."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bastion.core.contracts import ColumnInfo, RowBatch, RowMasker
from bastion.core.masks import BatchMask, RowMask
from plugins.mysql.codec import TEXT_LIKE_TYPES, ColumnDef
from policies.sql.charsets import NOT_ASCII_COMPATIBLE, charset_of, codec

if TYPE_CHECKING:
    from plugins.mysql.session import MySQLSession

BINARY_CHARSET = 63
"""Columns in the binary charset (BLOB, VARBINARY) hold bytes, not text: rewriting them
would corrupt data, so they are not masked — unless the session asked for results in the
binary charset, when every string column arrives so and text is told by origin only."""


def column_infos(columns: list[ColumnDef], binary_results: bool = False) -> list[ColumnInfo]:
    """What maskers need of each column; with ``binary_results`` (the session's
    ``character_set_results`` is binary) every string-typed column counts as text."""
    return [ColumnInfo(schema=c.schema, table=c.table, org_table=c.org_table, name=c.name, org_name=c.org_name,
                       is_text=c.type in TEXT_LIKE_TYPES and (binary_results or c.charset != BINARY_CHARSET),
                       length=c.length)
            for c in columns]


def plan_masking(s: MySQLSession, columns: list[ColumnDef], plans: list[RowMasker]) -> RowMask | None:
    """The masking of this result set (the session's composed maskers; None when nothing
    in it is masked); each plan is appended to ``plans`` so the caller can collect the counts."""
    if not s.masks.maskers:
        return None
    rows = s.masks.plan(column_infos(columns, s.results_binary), plans)
    if rows is None:
        return None
    wide = {i: name for i in rows.columns if (name := _wide_codec(columns[i].charset)) is not None}
    return RowMask(rows.columns, _recoded(rows.mask, wide)) if wide else rows


def _wide_codec(collation: int) -> str | None:
    """The codec of a column whose values are not ASCII-compatible bytes (utf16, utf32,
    ucs2: results asked in those, or in each column's own charset), else None."""
    charset = charset_of(collation)
    return codec(charset) if charset in NOT_ASCII_COMPATIBLE else None


def _recoded(mask: BatchMask, wide: dict[int, str]) -> BatchMask:
    """``mask`` (which reads UTF-8) applied to the columns in ``wide`` (index -> codec) as
    UTF-8, their masked values re-encoded in the column's codec; the masking styles keep
    the character count, so a value keeps its byte length. A value that does not decode
    is masked as the bytes it is (never passed clear)."""
    def recoded(batch: RowBatch) -> None:
        clear: dict[int, list[bytes | None]] = {}
        for index, name in wide.items():
            values = batch[index]
            clear[index] = values[:]
            for row, value in enumerate(values):
                if value is not None:
                    try:
                        values[row] = value.decode(name).encode("utf-8", "surrogatepass")
                    except UnicodeDecodeError:
                        pass  # masked as bytes
        utf8 = {index: batch[index][:] for index in wide}
        mask(batch)
        for index, name in wide.items():
            values, before, original = batch[index], utf8[index], clear[index]
            for row, value in enumerate(values):
                if value is before[row]:
                    values[row] = original[row]  # unchanged: its own bytes
                elif value is not None and before[row] is not original[row]:
                    values[row] = value.decode("utf-8", "surrogateescape").encode(name, "surrogatepass")
    return recoded


class PlanCache:
    """The masking plan of one prepared statement's results, kept while its column
    definitions stay byte-identical (planning matches every rule against every column:
    more work than masking a small result). The plan depends only on the session and the
    definitions, both fixed for a cached entry. The plans' counters are shared by every
    response that uses them, so :func:`collect` empties them as it reads them.

    ``plain_wire`` serves the small-response lane (plugins.mysql.small_response): the definitions' wire
    bytes when the cached plan masks nothing, so a response can be matched without
    parsing its definitions; ``plain_columns`` are those definitions, parsed."""

    __slots__ = ("key", "plain_columns", "plain_wire", "plans", "rows")

    def __init__(self) -> None:
        self.key: bytes | None = None
        self.rows: RowMask | None = None
        self.plans: list[RowMasker] = []
        self.plain_wire = b""
        self.plain_columns: list[ColumnDef] = []

    def plan(self, s: MySQLSession, columns: list[ColumnDef], plans: list[RowMasker]) -> RowMask | None:
        """Like :func:`plan_masking`, from the cache when the definitions are the same."""
        key = b"\x00".join(c.raw for c in columns) + (b"\x01" if s.results_binary else b"\x00")
        if key != self.key or not all(c.raw for c in columns):
            self.plans = []
            self.rows = plan_masking(s, columns, self.plans)
            self.key = key
        for plan in self.plans:  # once each, even if a response repeats the same definitions
            if not any(plan is seen for seen in plans):
                plans.append(plan)
        return self.rows


def collect(plans: list[RowMasker]) -> dict[str, int]:
    """Sum the plans' counters and empty them (a cached plan serves the next response)."""
    out: dict[str, int] = {}
    for plan in plans:
        for key, n in plan.counts.items():
            out[key] = out.get(key, 0) + n
        plan.counts.clear()
    return out
