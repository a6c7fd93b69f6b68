"""Routine, trigger and event headers: where the body starts, the object's name and table."""

from __future__ import annotations

import pytest

from policies.sql.lexer import lex
from policies.sql.routine_header import body_start
from policies.sql.tokens import up


def sig(sql: str) -> list[tuple[str, str]]:
    (statement,) = lex(sql).statements
    return statement.significant()


@pytest.mark.parametrize(
    ("sql", "obj_at", "name", "table", "body_word"),
    [
        ("CREATE PROCEDURE s.p(IN a INT) COMMENT 'x' NOT DETERMINISTIC SELECT 1", 1, "s.p", None, "SELECT"),
        ("CREATE FUNCTION f() RETURNS DECIMAL(10,2) UNSIGNED CHARACTER SET utf8 DETERMINISTIC RETURN 1", 1, "f",
         None, "RETURN"),
        ("CREATE FUNCTION f() RETURNS SET('a') NO SQL RETURN 'a'", 1, "f", None, "RETURN"),
        ("CREATE TRIGGER tr AFTER DELETE ON db.t FOR EACH ROW FOLLOWS other DELETE FROM u", 1, "tr", "db.t",
         "DELETE"),
        ("CREATE EVENT IF NOT EXISTS e ON SCHEDULE EVERY 1 HOUR COMMENT 'DO' DO BEGIN END", 1, "e", None, "BEGIN"),
    ],
)  # fmt: skip
def test_body_start(sql: str, obj_at: int, name: str, table: str | None, body_word: str) -> None:
    tokens = sig(sql)
    header = body_start(tokens, obj_at)
    assert (header.name, header.table, up(tokens[header.start])) == (name, table, body_word)


@pytest.mark.parametrize("sql", ["CREATE PROCEDURE p BEGIN END", "CREATE FUNCTION f() BEGIN END",
                                 "CREATE TRIGGER tr ON t FOR EACH ROW SET @a = 1", "CREATE EVENT e ON SCHEDULE"])
def test_header_not_understood(sql: str) -> None:
    assert body_start(sig(sql), 1).start == -1
