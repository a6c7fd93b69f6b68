"""sqlglot refinement of one statement: AST kind, tables, columns, unbounded writes.

Contract: :func:`refine` takes the *shape* text of one statement (see
``Lexed.shape``: comments gone, versioned comments unwrapped, literals canonicalized), so
its result depends only on the statement's structure and may be cached by that text. It
never raises: any sqlglot failure (ParseError, TokenError, RecursionError, …), a
``Command`` fallback or an unexpected root node gives ``kind=None`` and ``error``; the
caller fails closed. sqlglot's "falling back to Command" warnings are filtered out of
its logger.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from policies.sql.kinds import Kind


class _DropCommandFallback(logging.Filter):
    """sqlglot logs a warning for every Command fallback; we report it as a flag instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Falling back to parsing as a 'Command'" not in record.getMessage()


logging.getLogger("sqlglot").addFilter(_DropCommandFallback())

_KINDS: tuple[tuple[type, Kind], ...] = (
    (exp.Query, Kind.READ),  # Select, Union/Intersect/Except, Subquery
    (exp.Values, Kind.READ),
    (exp.Show, Kind.READ),
    (exp.Describe, Kind.READ),
    (exp.Insert, Kind.WRITE),
    (exp.Update, Kind.WRITE),
    (exp.Delete, Kind.WRITE),
    (exp.Merge, Kind.WRITE),
    (exp.Create, Kind.DDL),
    (exp.Drop, Kind.DDL),
    (exp.Alter, Kind.DDL),
    (exp.TruncateTable, Kind.DDL),
)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")  # sqlglot underlines the error position with terminal escapes
_WRITES = (exp.Insert, exp.Update, exp.Delete, exp.Merge)


@dataclass(frozen=True, slots=True)
class Refinement:
    """What the AST says; ``kind`` is None when the statement could not be parsed."""

    kind: Kind | None
    tables: frozenset[str] = frozenset()
    columns: frozenset[str] = frozenset()
    wrapped_columns: frozenset[str] = frozenset()
    unbounded: bool = False
    cte_write: bool = False
    error: str = ""


def refine(shape: str) -> Refinement:
    """Parse ``shape`` with sqlglot (MySQL dialect) and summarize it; never raises."""
    try:
        trees = sqlglot.parse(shape, read="mysql")
    except Exception as exc:  # ParseError, TokenError, RecursionError, sqlglot bugs: fail closed
        first_line = _ANSI.sub("", str(exc)).split("\n", 1)[0][:200]
        return Refinement(None, error=f"sqlglot: {type(exc).__name__}: {first_line}")
    if len(trees) != 1 or trees[0] is None:
        return Refinement(None, error=f"sqlglot: expected one statement, got {len(trees)}")
    root = trees[0]
    if isinstance(root, exp.Command):
        return Refinement(None, error=f"sqlglot: unsupported syntax ({str(root.this)[:40]})")
    kind = next((k for cls, k in _KINDS if isinstance(root, cls)), None)
    if kind is None:
        return Refinement(None, error=f"sqlglot: unexpected statement node {type(root).__name__}")
    try:
        return _summarize(root, kind)
    except Exception as exc:  # e.g. RecursionError walking a pathological tree
        return Refinement(None, error=f"sqlglot walk: {type(exc).__name__}")


def _summarize(root: exp.Expr, kind: Kind) -> Refinement:
    ctes = {cte.alias_or_name.lower() for cte in root.find_all(exp.CTE)}
    tables = frozenset(
        name for t in root.find_all(exp.Table) if (name := _table_name(t)) and (t.db or name not in ctes)
    )
    columns = frozenset(c.name.lower() for c in root.find_all(exp.Column) if c.name and c.name != "*")
    return Refinement(
        kind,
        tables=tables,
        columns=columns,
        wrapped_columns=_wrapped_columns(root),
        unbounded=_unbounded(root),
        cte_write=isinstance(root, _WRITES) and root.args.get("with_") is not None,
    )


def _table_name(table: exp.Table) -> str:
    name = table.name.lower()
    if not name or (name == "dual" and not table.db):  # FROM DUAL is no table
        return ""
    return f"{table.db.lower()}.{name}" if table.db else name


def _columns_in(node: exp.Expr) -> set[str]:
    if isinstance(node, exp.Column):
        return {node.name.lower()} if node.name and node.name != "*" else set()
    return {c.name.lower() for c in node.find_all(exp.Column) if c.name and c.name != "*"}


def _wrapped_columns(root: exp.Expr) -> frozenset[str]:
    """Columns used inside a function or expression of any SELECT list (masking cannot see them).

    A bare (or aliased, or parenthesized) column keeps its origin in the result metadata;
    anything else (``HEX(card)``, ``CONCAT(a, b)``, a scalar subquery) does not. Nor does a
    value selected ``INTO`` a variable, or by a nested SELECT whose values reach the result
    or a table (a derived table, a CTE, a UNION branch, ``INSERT … SELECT``): every column
    of such a SELECT list counts (``*`` for a star). A wrapped name that a derived table or
    CTE outputs wraps the columns it is made of (``WITH t AS (SELECT card AS c …) SELECT
    REVERSE(c) FROM t``).
    """
    out: set[str] = _computed_elsewhere(root)
    for select in root.find_all(exp.Select):
        # a plain column keeps its origin only in the outermost SELECT list: one selected
        # through a derived table, CTE or UNION arrives under the alias (or no table)
        into = select.args.get("into") is not None or (select is not root and _flows(select))
        for projection in select.expressions:
            node = projection
            while isinstance(node, (exp.Alias, exp.Paren)):
                node = node.this
            if isinstance(node, exp.Star):
                if into:
                    out.add("*")
                continue
            if isinstance(node, exp.Column) and not into:
                continue
            out.update(_columns_in(node))
    if out:
        made_of = _derived_outputs(root)
        todo = list(out)
        while todo:
            for column in made_of.get(todo.pop(), ()):
                if column not in out:
                    out.add(column)
                    todo.append(column)
    return frozenset(out)


_PLAIN_USE = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ, exp.NullSafeNEQ, exp.Like,
              exp.ILike, exp.In, exp.Is, exp.Between, exp.Where, exp.Having, exp.Group, exp.Ordered, exp.Order,
              exp.Join, exp.Select, exp.Alias, exp.Distinct, exp.RegexpLike, exp.MatchAgainst, exp.Not, exp.And,
              exp.Or, exp.Xor)
"""What a column may sit in outside a SELECT list without its value leaving in another
form: a comparison or a clause that filters, groups or sorts by it (inference, one row at
a time, which masking cannot stop anyway: docs/masking.md)."""


def _computed_elsewhere(root: exp.Expr) -> set[str]:
    """Columns computed on in a filter, sort, join or assignment: inside a function, an
    operator or a CASE (``WHERE EXTRACTVALUE(1, CONCAT('~', REVERSE(card)))`` returns the
    value in its error message, ``WHERE DATE(REVERSE(card))`` in a warning, where no
    recognizer finds it), or assigned to a column (``UPDATE t SET notes = card``)."""
    out: set[str] = set()
    for column in root.find_all(exp.Column):
        if not column.name or column.name == "*":
            continue
        node: exp.Expr = column
        parent = column.parent
        while isinstance(parent, (exp.Paren, exp.Tuple)):  # (a, b) IN (…): each compared as it is
            node, parent = parent, parent.parent
        if isinstance(parent, exp.EQ) and isinstance(parent.parent, exp.Update) and node is parent.expression:
            out.add(column.name.lower())  # UPDATE … SET x = <column>: the value is copied
        elif parent is not None and not isinstance(parent, _PLAIN_USE):
            out.add(column.name.lower())
    return out


_NO_FLOW = frozenset({"where", "having", "on", "order", "group", "query", "limit", "offset", "qualify", "using"})
"""Where a nested SELECT's values only filter or sort (``WHERE x IN (SELECT …)``): they
never reach the result themselves."""


def _flows(select: exp.Expr) -> bool:
    """Whether a nested SELECT's values reach the outer result (or the written table)."""
    node: exp.Expr | None = select
    while node is not None and node.parent is not None:
        if node.arg_key in _NO_FLOW or isinstance(node.parent, exp.Exists):
            return False
        node = node.parent
    return True


def _branches(query: exp.Expr) -> list[exp.Select]:
    """The SELECTs of a query, leftmost first (each branch of a UNION/EXCEPT/INTERSECT)."""
    if isinstance(query, exp.Select):
        return [query]
    if isinstance(query, exp.SetOperation):
        return _branches(query.this) + _branches(query.expression)
    if isinstance(query, exp.Subquery):
        return _branches(query.this)
    return []


def _derived_outputs(root: exp.Expr) -> dict[str, set[str]]:
    """Output name of a derived table, CTE or subquery -> the columns it is computed from
    (by position, in every branch of a set operation; names from a column list if any)."""
    out: dict[str, set[str]] = {}
    for node in root.find_all(exp.CTE, exp.Subquery):
        branches = _branches(node.this)
        if not branches:
            continue
        alias = node.args.get("alias")
        listed = [c.name.lower() for c in alias.columns] if isinstance(alias, exp.TableAlias) else []
        names = listed or [p.alias_or_name.lower() for p in branches[0].expressions]
        for select in branches:
            for name, projection in zip(names, select.expressions, strict=False):
                if name:
                    out.setdefault(name, set()).update(_columns_in(projection))
    return out


def _unbounded(root: exp.Expr) -> bool:
    """DELETE/UPDATE that may touch every row: no WHERE, a WHERE without any column
    reference (``WHERE 1``), or a multi-table form (joins, ``DELETE t1 FROM``, ``USING``)."""
    if not isinstance(root, (exp.Delete, exp.Update)):
        return False
    where = root.args.get("where")
    if where is None or where.find(exp.Column) is None:
        return True
    target = root.this
    if isinstance(target, exp.Expression) and target.args.get("joins"):
        return True
    return isinstance(root, exp.Delete) and bool(root.args.get("tables") or root.args.get("using"))
