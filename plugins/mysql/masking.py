"""The row hook: ask the configured maskers for a plan once per column-definition set."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bastion.core.contracts import ColumnInfo, RowMasker
from bastion.core.masks import MaskFn
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


def plan_masking(s: MySQLSession, columns: list[ColumnDef], plans: list[RowMasker]) -> dict[int, MaskFn]:
    """Column index -> masking function for this result set (the session's composed
    maskers); each plan is appended to ``plans`` so the caller can collect the counts."""
    if not s.masks.maskers:
        return {}
    merged = s.masks.plan(column_infos(columns, s.results_binary), plans)
    for index, fn in merged.items():
        wide = _wide_codec(columns[index].charset)
        if wide is not None:
            merged[index] = _recoded(fn, wide)
    return merged


def _wide_codec(collation: int) -> str | None:
    """The codec of a column whose values are not ASCII-compatible bytes (utf16, utf32,
    ucs2: results asked in those, or in each column's own charset), else None."""
    charset = charset_of(collation)
    return codec(charset) if charset in NOT_ASCII_COMPATIBLE else None


def _recoded(fn: MaskFn, wide: str) -> MaskFn:
    """``fn`` (which reads UTF-8) applied to a value in ``wide``, re-encoded in ``wide``;
    the masking styles keep the character count, so the value keeps its byte length."""
    def mask(value: bytes) -> bytes:
        try:
            text = value.decode(wide)
        except UnicodeDecodeError:
            return fn(value)  # not what its definition says: masked as bytes (never passed clear)
        return fn(text.encode("utf-8", "surrogatepass")).decode("utf-8", "surrogateescape").encode(
            wide, "surrogatepass")
    return mask


class PlanCache:
    """The masking plan of one prepared statement's results, kept while its column
    definitions stay byte-identical (planning matches every rule against every column:
    more work than masking a small result). The plan depends only on the session and the
    definitions, both fixed for a cached entry. The plans' counters are shared by every
    response that uses them, so :func:`collect` empties them as it reads them.

    ``plain_wire`` serves the small-response lane (plugins.mysql.small_response): the definitions' wire
    bytes when the cached plan masks nothing, so a response can be matched without
    parsing its definitions; ``plain_columns`` are those definitions, parsed."""

    __slots__ = ("key", "maskers", "plain_columns", "plain_wire", "plans")

    def __init__(self) -> None:
        self.key: bytes | None = None
        self.maskers: dict[int, MaskFn] = {}
        self.plans: list[RowMasker] = []
        self.plain_wire = b""
        self.plain_columns: list[ColumnDef] = []

    def plan(self, s: MySQLSession, columns: list[ColumnDef], plans: list[RowMasker]) -> dict[int, MaskFn]:
        """Like :func:`plan_masking`, from the cache when the definitions are the same."""
        key = b"\x00".join(c.raw for c in columns) + (b"\x01" if s.results_binary else b"\x00")
        if key != self.key or not all(c.raw for c in columns):
            self.plans = []
            self.maskers = plan_masking(s, columns, self.plans)
            self.key = key
        for plan in self.plans:  # once each, even if a response repeats the same definitions
            if not any(plan is seen for seen in plans):
                plans.append(plan)
        return self.maskers


def collect(plans: list[RowMasker]) -> dict[str, int]:
    """Sum the plans' counters and empty them (a cached plan serves the next response)."""
    out: dict[str, int] = {}
    for plan in plans:
        for key, n in plan.counts.items():
            out[key] = out.get(key, 0) + n
        plan.counts.clear()
    return out
