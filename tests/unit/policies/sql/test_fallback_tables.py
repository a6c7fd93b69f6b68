"""Table names from keywords alone (statements without an AST)."""

from __future__ import annotations

import pytest

from policies.sql.fallback_tables import fallback_tables
from policies.sql.lexer import lex


@pytest.mark.parametrize(
    ("sql", "tables"),
    [
        ("LOCK TABLES shop.orders AS o READ", {"shop.orders"}),
        ("RENAME TABLE a TO b, c TO d", {"a", "b", "c", "d"}),
        ("UPDATE LOW_PRIORITY IGNORE db.T1 AS x SET a = 1", {"db.t1"}),
        ("DELETE LOW_PRIORITY QUICK FROM Logs WHERE 1", {"logs"}),
        ("DESCRIBE `my tbl`", {"my tbl"}),
        ("INSERT INTO t1 SELECT * FROM t2 JOIN t3 ON 1", {"t1", "t2", "t3"}),
        ("SELECT * FROM a, b c, d AS e WHERE 1", {"a", "b", "d"}),
        ("SELECT 1", set()),
    ],
)
def test_fallback_tables(sql: str, tables: set[str]) -> None:
    (statement,) = lex(sql).statements
    assert fallback_tables(statement.significant()) == tables
