"""Words and names read from significant tokens."""

from __future__ import annotations

import pytest

from policies.sql.lexer import lex
from policies.sql.tokens import ident, lower_name, qualified, up, word_set


def sig(sql: str) -> list[tuple[str, str]]:
    (statement,) = lex(sql).statements
    return statement.significant()


@pytest.mark.parametrize(
    ("sql", "words"),
    [
        ("select `select` 'x' Ünïcode x1", ["SELECT", "", "", "", "X1"]),  # quoted names, literals, non-ASCII
        ("DROP PREPARE s", ["DROP", "PREPARE", "S"]),
    ],
)
def test_up(sql: str, words: list[str]) -> None:
    assert [up(t) for t in sig(sql)] == words
    assert up(None) == ""


@pytest.mark.parametrize(
    ("sql", "at", "name", "after"),
    [
        ("CALL db.`My Proc`()", 1, "db.My Proc", 4),
        ("CALL p", 1, "p", 2),
        ("CALL 'p'", 1, None, 1),
        ("CALL", 1, None, 1),
    ],
)
def test_qualified(sql: str, at: int, name: str | None, after: int) -> None:
    assert qualified(sig(sql), at) == (name, after)


def test_ident_lower_name_and_word_set() -> None:
    tokens = sig('EXECUTE `St"mt`')
    assert ident(tokens[1]) == 'St"mt' and lower_name(tokens, 1) == 'st"mt'
    assert lower_name(tokens, 2) is None and lower_name(sig("EXECUTE 'x'"), 1) is None
    assert word_set("A B  A") == frozenset({"A", "B"})
