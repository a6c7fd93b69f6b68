"""Compound bodies at token level."""

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
