"""Compound statements: BEGIN … END bodies and control flow, token level.

Contract:

* :func:`parse` walks one statement of a body — simple, or compound (``BEGIN [NOT ATOMIC]
  … END``, labels, ``IF``/``ELSEIF``/``ELSE``, ``CASE``, ``LOOP``, ``WHILE``, ``REPEAT``,
  MariaDB ``FOR``, ``DECLARE`` variables/cursors/conditions/handlers, ``RETURN``) — and
  returns every piece that will execute: each simple statement, each cursor's query, each
  handler's statement, and each expression (conditions, ``DEFAULT``, ``RETURN``) as a
  token range. It raises :class:`Incomplete` when the tokens end inside the body (the
  lexer split on a ``;`` of the body: the caller joins the next statement and retries)
  and :class:`Malformed` for anything it does not recognise (fail closed).
* Where a routine, trigger or event body starts is :mod:`policies.sql.routine_header`'s job.
* Tokens are the lexer's significant tokens of the whole statement, where the ``;`` that
  separated the lexer's statements are ``SEMI`` tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

from policies.sql.lexer import IDENTS, Token
from policies.sql.tokens import up

SEMI: Token = ("p", ";")
OPENERS = frozenset({"BEGIN", "IF", "CASE", "LOOP", "WHILE", "REPEAT", "FOR"})
"""Words that start a compound statement where a statement may start."""
_LABELLED = frozenset({"BEGIN", "LOOP", "WHILE", "REPEAT", "FOR"})
_CONTROL = frozenset({"LEAVE", "ITERATE", "OPEN", "CLOSE", "FETCH", "SIGNAL", "RESIGNAL", "GET"})
"""Statements with no query and no expression that could call a function (skipped)."""


class Incomplete(Exception):
    """The tokens end inside the body."""


class Malformed(Exception):
    """Syntax the walker does not recognise (fail closed)."""


@dataclass(frozen=True, slots=True)
class Piece:
    """``sig[start:end]`` executes: a statement, or an expression when ``expression``."""

    start: int
    end: int
    expression: bool = False


def close_paren(sig: list[Token], i: int) -> int:
    """Index after the ``)`` matching the ``(`` at ``i``."""
    depth = 0
    for j in range(i, len(sig)):
        if sig[j][0] == "p" and sig[j][1] in "()":
            depth += 1 if sig[j][1] == "(" else -1
            if depth == 0:
                return j + 1
    raise Malformed("unbalanced parentheses")


def is_compound_start(sig: list[Token], i: int, top: bool) -> bool:
    """Does a compound statement (or a label) start at ``i``? At top level ``BEGIN`` needs NOT ATOMIC."""
    word = up(sig[i]) if i < len(sig) else ""
    if i + 2 < len(sig) and sig[i][0] in IDENTS and sig[i + 1] == ("o", ":"):
        return up(sig[i + 2]) in _LABELLED
    if word == "BEGIN":
        return not top or [up(t) for t in sig[i + 1 : i + 3]] == ["NOT", "ATOMIC"]
    return word in OPENERS


def parse(sig: list[Token], start: int) -> tuple[list[Piece], int]:
    """Pieces of the one statement starting at ``start`` and the index after it."""
    walker = _Walker(sig)
    end = walker.statement(start)
    return walker.pieces, end


class _Walker:
    def __init__(self, sig: list[Token]) -> None:
        self.sig, self.n = sig, len(sig)
        self.pieces: list[Piece] = []

    def word(self, i: int) -> str:
        if i >= self.n:
            raise Incomplete
        return up(self.sig[i])

    def expect(self, i: int, *words: str) -> int:
        for k, w in enumerate(words):
            if self.word(i + k) != w:
                raise Malformed(f"expected {' '.join(words)}")
        return i + len(words)

    def statement(self, i: int) -> int:
        sig = self.sig
        if i + 1 < self.n and sig[i][0] in IDENTS and sig[i + 1] == ("o", ":"):
            if self.word(i + 2) not in _LABELLED:
                raise Malformed("label before a non-loop statement")
            i += 2
        word = self.word(i)
        handler = getattr(self, "_" + word.lower(), None) if word in OPENERS | {"DECLARE", "RETURN"} else None
        if handler is not None:
            return int(handler(i))
        if word in _CONTROL:
            return self.until_semi(i)
        end = self.until_semi(i)
        if end == i:
            raise Malformed("empty statement")
        self.pieces.append(Piece(i, end))
        return end

    def until_semi(self, i: int) -> int:
        """Index of the ``;`` (or the end) closing a simple statement at paren depth 0."""
        depth = 0
        for j in range(i, self.n):
            tok = self.sig[j]
            if tok[0] == "p":
                if tok[1] == ";" and depth == 0:
                    return j
                depth += {"(": 1, ")": -1}.get(tok[1], 0)
        return self.n

    def statements(self, i: int, stops: tuple[str, ...]) -> int:
        """A ``;``-terminated statement list up to one of ``stops``; returns the stop's index."""
        while self.word(i) not in stops:
            i = self.statement(i)
            if i >= self.n:
                raise Incomplete
            if self.sig[i] != SEMI:
                raise Malformed("statement not terminated")
            i += 1
        return i

    def expression(self, i: int, stops: tuple[str, ...]) -> int:
        """An expression up to a stop word at depth 0 (CASE … END nests); returns the stop's index."""
        depth, j = 0, i
        while True:
            if j >= self.n:
                raise Incomplete
            tok, word = self.sig[j], up(self.sig[j])
            if tok == SEMI:
                raise Malformed("expression not closed")
            if tok[0] == "p":
                depth += {"(": 1, ")": -1}.get(tok[1], 0)
            elif word == "CASE":
                depth += 1
            elif word == "END" and depth > 0:
                depth -= 1
            elif depth == 0 and word in stops:
                break
            j += 1
        if j == i:
            raise Malformed("empty expression")
        self.pieces.append(Piece(i, j, expression=True))
        return j

    def end_label(self, i: int) -> int:
        if i < self.n and self.sig[i][0] in IDENTS and (i + 1 == self.n or self.sig[i + 1] == SEMI):
            return i + 1
        return i

    def _begin(self, i: int) -> int:
        i += 1
        if self.word(i) == "NOT":
            i = self.expect(i, "NOT", "ATOMIC")
        i = self.statements(i, ("END",))
        return self.end_label(i + 1)

    def _if(self, i: int) -> int:
        i = self.expression(i + 1, ("THEN",))
        while True:
            i = self.statements(i + 1, ("ELSEIF", "ELSE", "END"))
            word = self.word(i)
            if word == "ELSEIF":
                i = self.expression(i + 1, ("THEN",))
            elif word == "ELSE":
                i = self.statements(i + 1, ("END",))
                return self.expect(i, "END", "IF")
            else:
                return self.expect(i, "END", "IF")

    def _case(self, i: int) -> int:
        i += 1
        if self.word(i) != "WHEN":
            i = self.expression(i, ("WHEN",))
        while self.word(i) == "WHEN":
            i = self.expression(i + 1, ("THEN",))
            i = self.statements(i + 1, ("WHEN", "ELSE", "END"))
        if self.word(i) == "ELSE":
            i = self.statements(i + 1, ("END",))
        return self.expect(i, "END", "CASE")

    def _loop(self, i: int) -> int:
        i = self.statements(i + 1, ("END",))
        return self.end_label(self.expect(i, "END", "LOOP"))

    def _while(self, i: int) -> int:
        i = self.expression(i + 1, ("DO",))
        i = self.statements(i + 1, ("END",))
        return self.end_label(self.expect(i, "END", "WHILE"))

    def _repeat(self, i: int) -> int:
        i = self.statements(i + 1, ("UNTIL",))
        i = self.expression(i + 1, ("END",))
        return self.end_label(self.expect(i, "END", "REPEAT"))

    def _for(self, i: int) -> int:
        """MariaDB ``FOR v IN [REVERSE] a .. b DO`` / ``FOR r IN cursor|(SELECT …) DO``."""
        if i + 2 >= self.n or self.sig[i + 1][0] not in IDENTS or self.word(i + 2) != "IN":
            raise Malformed("FOR without IN")
        j = i + 3
        if j < self.n and self.sig[j] == ("p", "("):
            close = close_paren(self.sig, j)
            self.pieces.append(Piece(j + 1, close - 1))
            j = close
        else:
            while self.word(j) != "DO":  # bounds: literals and variables only (fail closed on calls)
                if self.sig[j][0] == "p" or self.sig[j] == SEMI:
                    raise Malformed("FOR bounds with an expression")
                j += 1
        i = self.statements(self.expect(j, "DO"), ("END",))
        return self.end_label(self.expect(i, "END", "FOR"))

    def _return(self, i: int) -> int:
        end = self.until_semi(i + 1)
        if end == i + 1:
            raise Malformed("RETURN without a value")
        self.pieces.append(Piece(i + 1, end, expression=True))
        return end

    def _declare(self, i: int) -> int:
        word = self.word(i + 1)
        if word in ("CONTINUE", "EXIT", "UNDO"):
            i = self.expect(i + 2, "HANDLER", "FOR")
            while True:  # condition values: SQLSTATE [VALUE] 'x' | name | number | SQLWARNING | NOT FOUND | …
                if self.word(i) == "SQLSTATE":
                    i += 2 if self.word(i + 1) != "VALUE" else 3
                elif self.word(i) == "NOT":
                    i = self.expect(i, "NOT", "FOUND")
                else:
                    i += 1
                if i >= self.n:
                    raise Incomplete
                if self.sig[i] != ("p", ","):
                    return self.statement(i)
                i += 1
        end = self.until_semi(i + 1)
        words = [up(t) for t in self.sig[i + 1 : end]]
        if "CURSOR" in words:
            at = i + 1 + words.index("CURSOR")
            depth, j = 0, at + 1
            while j < end and not (depth == 0 and up(self.sig[j]) == "FOR"):
                depth += {"(": 1, ")": -1}.get(self.sig[j][1], 0) if self.sig[j][0] == "p" else 0
                j += 1
            if j + 1 >= end:
                raise Malformed("cursor without a query")
            self.pieces.append(Piece(j + 1, end))
        elif "DEFAULT" in words:
            at = i + 1 + words.index("DEFAULT")
            if at + 1 >= end:
                raise Malformed("DEFAULT without a value")
            self.pieces.append(Piece(at + 1, end, expression=True))
        return end
