"""What the tokens alone say about one statement, and the shape of a keyword rule."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from policies.sql.effects import Assignment
from policies.sql.kinds import Kind
from policies.sql.lexer import Token


@dataclass(slots=True)
class KeywordVerdict:
    """What the tokens alone say about one statement."""

    kind: Kind
    keyword: str
    flags: set[str] = field(default_factory=set)
    inner: list[str | int] = field(default_factory=list)
    """Carried statements: a literal's value to lex, or the index where they start."""
    refinable: bool = False
    kill_id: int | None = None
    kill_query: bool = False
    use_db: str | None = None
    body_at: int | None = None
    """Index of a compound statement or routine body to walk; -1: header not understood."""
    implied: list[str] = field(default_factory=list)
    assignments: tuple[Assignment, ...] = ()
    prepared_name: str | None = None
    routine: str | None = None
    object_name: str | None = None
    trigger_table: str | None = None


Rule = Callable[[KeywordVerdict, list[Token], int, bool], None]
"""Refines a verdict from the words after the first keyword:
``(verdict, tokens, index of the first keyword, no_backslash_escapes) -> None``."""
