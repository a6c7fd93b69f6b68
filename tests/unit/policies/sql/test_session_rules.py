"""Keyword rules for SET, USE and KILL, seen through classify()."""

from __future__ import annotations

import pytest

from policies.sql import Kind, classify


@pytest.mark.parametrize(
    ("sql", "kill_id", "query"),
    [("KILL 5", 5, False), ("KILL QUERY 77", 77, True), ("KILL CONNECTION 9", 9, False),
     ("KILL QUERY ID 12", 12, True), ("KILL @id", None, False), ("KILL 1 + 1", None, False)],
)  # fmt: skip
def test_kill(sql: str, kill_id: int | None, query: bool) -> None:
    (s,) = classify(sql).statements
    assert (s.kind, s.kill_id, s.kill_query) == (Kind.ADMIN, kill_id, query)
    assert "kill" in s.flags


@pytest.mark.parametrize(("sql", "db"), [("USE shop", "shop"), ("use `My-DB`", "My-DB"), ("USE /*!x*/ y", "x")])
def test_use(sql: str, db: str) -> None:
    (s,) = classify(sql).statements
    assert (s.kind, s.use_db, "use" in s.flags) == (Kind.SESSION, db, True)


def test_set_sql_mode_flag_only_when_sql_mode_changes() -> None:
    assert "set_sql_mode" in classify("SET sql_mode = 'ANSI_QUOTES'").flags
    assert "set_sql_mode" in classify("SET @@SESSION.sql_mode = ''").flags
    assert "set_sql_mode" not in classify("SET @x = 'sql_mode'").flags
