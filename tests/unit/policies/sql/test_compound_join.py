"""Re-joining a compound statement the lexer split on the ``;`` of its body."""

from __future__ import annotations

import pytest

from policies.sql.compound_join import join_compounds
from policies.sql.lexer import lex


@pytest.mark.parametrize(
    ("sql", "joined"),
    [
        ("SELECT 1; SELECT 2", ["SELECT 1", "SELECT 2"]),
        ("BEGIN NOT ATOMIC SELECT 1; SELECT 2; END; SELECT 3",
         ["BEGIN NOT ATOMIC SELECT 1 ; SELECT 2 ; END", "SELECT 3"]),
        ("CREATE PROCEDURE p() BEGIN DELETE FROM t; END", ["CREATE PROCEDURE p ( ) BEGIN DELETE FROM t ; END"]),
        ("BEGIN NOT ATOMIC SELECT 1; SELECT 2", ["BEGIN NOT ATOMIC SELECT 1 ; SELECT 2"]),  # never closed
        ("BEGIN; SELECT 1; COMMIT", ["BEGIN", "SELECT 1", "COMMIT"]),  # a transaction, not a compound
    ],
)  # fmt: skip
def test_join_compounds(sql: str, joined: list[str]) -> None:
    statements = join_compounds(lex(sql).statements)
    assert [" ".join(t for _, t in st.significant()) for st in statements] == joined
