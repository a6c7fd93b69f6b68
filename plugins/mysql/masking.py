"""The row hook: ask the configured maskers for a plan once per column-definition set."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from bastion.core.contracts import ColumnInfo, RowMasker
from plugins.mysql.codec import TEXT_LIKE_TYPES, ColumnDef

if TYPE_CHECKING:
    from plugins.mysql.session import MySQLSession

MaskFn = Callable[[bytes], bytes]


BINARY_CHARSET = 63
"""Columns in the binary charset (BLOB, VARBINARY) hold bytes, not text: rewriting them
would corrupt data, so they are never masked (documented limitation)."""


def column_infos(columns: list[ColumnDef]) -> list[ColumnInfo]:
    return [ColumnInfo(schema=c.schema, table=c.table, org_table=c.org_table, name=c.name, org_name=c.org_name,
                       is_text=c.type in TEXT_LIKE_TYPES and c.charset != BINARY_CHARSET, length=c.length)
            for c in columns]


def plan_masking(s: MySQLSession, columns: list[ColumnDef], plans: list[RowMasker]) -> dict[int, MaskFn]:
    """Column index -> masking function for this result set; appends each plan to ``plans``
    so the caller can collect the per-recognizer counts when the response ends."""
    if not s.ctx.maskers:
        return {}
    infos = column_infos(columns)
    merged: dict[int, MaskFn] = {}
    for masker in s.ctx.maskers:
        plan = masker.plan(s.session, infos)
        if not plan:
            continue
        plans.append(plan)
        for index, fn in plan.maskers.items():
            if not infos[index].is_text:
                continue  # numeric/temporal values cannot change in place (protocols.md §3)
            previous = merged.get(index)
            merged[index] = fn if previous is None else _chain(previous, fn)
    return merged


def _chain(first: MaskFn, second: MaskFn) -> MaskFn:
    return lambda value: second(first(value))


def collect(plans: list[RowMasker]) -> dict[str, int]:
    out: dict[str, int] = {}
    for plan in plans:
        for key, n in plan.counts.items():
            out[key] = out.get(key, 0) + n
    return out
