"""The keyword a statement is known by (first keyword, second word, DDL object)."""

from __future__ import annotations

import pytest

from policies.sql import Kind, classify


@pytest.mark.parametrize(
    ("sql", "keyword"),
    [
        ("SELECT 1", "SELECT"),
        ("(SELECT 1) UNION (SELECT 2)", "SELECT"),
        ("create temporary table t (a int)", "CREATE TABLE"),
        ("CREATE OR REPLACE VIEW v AS SELECT 1", "CREATE VIEW"),
        ("CREATE UNIQUE INDEX i ON t (a)", "CREATE INDEX"),
        ("DROP TABLE IF EXISTS t", "DROP TABLE"),
        ("SET GLOBAL max_connections = 5", "SET GLOBAL"),
        ("SET NAMES utf8mb4", "SET NAMES"),
        ("START TRANSACTION", "START TRANSACTION"),
        ("LOAD DATA INFILE '/x' INTO TABLE t", "LOAD DATA"),
        ("LOCK TABLES t WRITE", "LOCK TABLES"),
        ("DEALLOCATE PREPARE s", "DEALLOCATE PREPARE"),
        ("DROP PREPARE s", "DROP PREPARE"),
    ],
)
def test_keyword(sql: str, keyword: str) -> None:
    assert classify(sql).statements[0].keyword == keyword


def test_drop_prepare_is_exec() -> None:
    assert classify("DROP PREPARE s").kind is Kind.EXEC
