"""The stored-function candidates a statement calls, whatever its spelling."""

from __future__ import annotations

import pytest

from policies.sql.functions import NOT_STORED, called_functions

CASES = [
    ("SELECT f()", ("f",)),
    ("select F(1, 2)", ("F",)),
    ("SELECT lab.f()", ("lab.f",)),
    ("SELECT `lab`.`f`()", ("lab.f",)),
    ("SELECT `La``b`.`my f` (1)", ("La`b.my f",)),
    ("SELECT lab . f ( )", ("lab.f",)),
    ("SELECT f/**/()", ("f",)),
    ("SELECT f -- c\n ()", ("f",)),
    ("SELECT /*!50000 f() */", ("f",)),
    ("SELECT /*M!100000 lab.f() */", ("lab.f",)),
    ("SELECT 1 FROM t WHERE g(c) > 0 AND f() = 1", ("g", "f")),
    ("DO f()", ("f",)),
    ("SET @x = f()", ("f",)),
    ("INSERT INTO t VALUES (f(1))", ("f",)),
    ("INSERT INTO t (a) VALUES (1)", ("t",)),  # a table: looked up, no body found
    ("SELECT COUNT(*), now(), CONCAT(a, b), IF(a, 1, 2) FROM t", ()),
    ("SELECT `count`(1)", ("count",)),  # quoted: not the built-in's keyword spelling
    ("SELECT lab.count()", ("lab.count",)),  # qualified: the stored function, whatever its name
    ("SELECT 'f()', \"g()\"", ()),
    ("SELECT f(), f()", ("f",)),
    ("SELECT a FROM t", ()),
]


@pytest.mark.parametrize(("sql", "names"), CASES, ids=[c[0] for c in CASES])
def test_names_called(sql: str, names: tuple[str, ...]) -> None:
    assert called_functions(sql) == names


def test_ansi_quotes_make_double_quotes_identifiers() -> None:
    assert called_functions('SELECT "lab"."f"()') == ()
    assert called_functions('SELECT "lab"."f"()', ansi_quotes=True) == ("lab.f",)


def test_a_statement_the_lexer_cannot_read_has_no_answer() -> None:
    assert called_functions("SELECT f('unterminated") is None


def test_the_built_in_list_holds_upper_case_names() -> None:
    assert all(name == name.upper() for name in NOT_STORED)
