"""Table names from keywords alone (statements without an AST)."""

from __future__ import annotations

import pytest

from policies.sql.fallback_tables import fallback_tables
from policies.sql.lexer import lex


@pytest.mark.parametrize(
    ("sql", "tables"),
    [
        ("LOCK TABLES shop.orders AS o READ", {"shop.orders"}),
        ("RENAME TABLE a TO b", {"a", "b"}),
        ("TRUNCATE TABLE logs", {"logs"}),
        ("HANDLER t OPEN", {"t"}),
        ("LOAD DATA INFILE '/x' INTO TABLE `shop`.`t`", {"shop.t"}),
        ("DELETE LOW_PRIORITY QUICK FROM Logs WHERE 1", {"logs"}),
        ("SELECT a FROM secrets s, keys k WHERE 1", {"secrets", "keys"}),
        ("SELECT 1", set()),
    ],
)
def test_fallback_tables(sql: str, tables: set[str]) -> None:
    (statement,) = lex(sql).statements
    assert fallback_tables(statement.significant()) == tables
