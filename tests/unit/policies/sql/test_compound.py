"""Routine headers and compound bodies at token level."""

from __future__ import annotations

import pytest

from policies.sql import compound
from policies.sql.lexer import lex


def sig(sql: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    for i, st in enumerate(lex(sql).statements):
        if i:
            tokens.append(compound.SEMI)
        tokens += st.significant()
    return tokens


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
    header = compound.body_start(tokens, obj_at)
    assert (header.name, header.table, compound.up(tokens[header.start])) == (name, table, body_word)


@pytest.mark.parametrize("sql", ["CREATE PROCEDURE p BEGIN END", "CREATE FUNCTION f() BEGIN END",
                                 "CREATE TRIGGER tr ON t FOR EACH ROW SET @a = 1", "CREATE EVENT e ON SCHEDULE"])
def test_header_not_understood(sql: str) -> None:
    assert compound.body_start(sig(sql), 1).start == -1


def test_parse_pieces_and_end() -> None:
    tokens = sig("BEGIN NOT ATOMIC DECLARE x INT DEFAULT 2; lbl: WHILE x > 0 DO DELETE FROM t; LEAVE lbl; "
                 "END WHILE lbl; END")
    pieces, end = compound.parse(tokens, 0)
    assert end == len(tokens)
    texts = [(" ".join(t for _, t in tokens[p.start : p.end]), p.expression) for p in pieces]
    assert texts == [("2", True), ("x > 0", True), ("DELETE FROM t", False)]


@pytest.mark.parametrize(("sql", "error"), [
    ("BEGIN NOT ATOMIC SELECT 1", compound.Incomplete),
    ("BEGIN NOT ATOMIC IF 1 THEN SELECT 1; END", compound.Incomplete),
    ("BEGIN NOT ATOMIC SELECT 1 END", compound.Incomplete),
    ("IF 1 THEN SELECT 1; END LOOP", compound.Malformed),
    ("lbl: SELECT 1", compound.Malformed),
    ("WHILE DO SELECT 1; END WHILE", compound.Malformed),
])  # fmt: skip
def test_parse_failures(sql: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        compound.parse(sig(sql), 0)
