"""Compound statements: routine/trigger/event headers and BEGIN … END bodies, token level.

Contract:

* :func:`body_start` finds where the body of ``CREATE [OR REPLACE] [DEFINER=…]
  PROCEDURE|FUNCTION|TRIGGER|EVENT`` (and ``ALTER EVENT … DO``) begins, and the object
  name (and a trigger's table). A header it does not recognise gives ``start = -1``: the
  caller fails closed.
* :func:`parse` walks one statement of a body — simple, or compound (``BEGIN [NOT ATOMIC]
  … END``, labels, ``IF``/``ELSEIF``/``ELSE``, ``CASE``, ``LOOP``, ``WHILE``, ``REPEAT``,
  MariaDB ``FOR``, ``DECLARE`` variables/cursors/conditions/handlers, ``RETURN``) — and
  returns every piece that will execute: each simple statement, each cursor's query, each
  handler's statement, and each expression (conditions, ``DEFAULT``, ``RETURN``) as a
  token range. It raises :class:`Incomplete` when the tokens end inside the body (the
  lexer split on a ``;`` of the body: the caller joins the next statement and retries)
  and :class:`Malformed` for anything it does not recognise (fail closed).
* Tokens are the lexer's significant tokens of the whole statement, where the ``;`` that
  separated the lexer's statements are ``SEMI`` tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

from policies.sql.lexer import IDENTS, STRING, WORD, Token, unquote

SEMI: Token = ("p", ";")
OPENERS = frozenset({"BEGIN", "IF", "CASE", "LOOP", "WHILE", "REPEAT", "FOR"})
"""Words that start a compound statement where a statement may start."""
_LABELLED = frozenset({"BEGIN", "LOOP", "WHILE", "REPEAT", "FOR"})
_CONTROL = frozenset({"LEAVE", "ITERATE", "OPEN", "CLOSE", "FETCH", "SIGNAL", "RESIGNAL", "GET"})
"""Statements with no query and no expression that could call a function (skipped)."""
_CHARACTERISTICS = {"COMMENT": 1, "LANGUAGE": 1, "DETERMINISTIC": 0, "CONTAINS": 1, "NO": 1, "READS": 2,
                    "MODIFIES": 2, "NOT": 1}  # fmt: skip
_TYPE_WORDS = frozenset({"UNSIGNED", "SIGNED", "ZEROFILL", "BINARY", "ASCII", "UNICODE", "BYTE", "PRECISION",
                         "VARYING", "VARCHAR", "VARBINARY", "CHAR", "CHARACTER", "NATIONAL", "LONG"})  # fmt: skip


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


@dataclass(frozen=True, slots=True)
class Header:
    start: int  # index of the body's first token; -1: header not understood
    name: str | None = None
    table: str | None = None


def up(tok: Token | None) -> str:
    return tok[1].upper() if tok is not None and tok[0] == WORD and tok[1].isascii() else ""


def ident(tok: Token) -> str:
    return tok[1] if tok[0] == WORD else unquote(tok[1])


def qualified(sig: list[Token], i: int) -> tuple[str | None, int]:
    """``name`` or ``schema.name`` at ``i`` (unquoted, case kept) and the index after it."""
    if i >= len(sig) or sig[i][0] not in IDENTS:
        return None, i
    name = ident(sig[i])
    if i + 2 < len(sig) and sig[i + 1][1] == "." and sig[i + 2][0] in IDENTS:
        return f"{name}.{ident(sig[i + 2])}", i + 3
    return name, i + 1


def _close_paren(sig: list[Token], i: int) -> int:
    """Index after the ``)`` matching the ``(`` at ``i``."""
    depth = 0
    for j in range(i, len(sig)):
        if sig[j][0] == "p" and sig[j][1] in "()":
            depth += 1 if sig[j][1] == "(" else -1
            if depth == 0:
                return j + 1
    raise Malformed("unbalanced parentheses")


def body_start(sig: list[Token], obj_at: int) -> Header:
    """Header of a routine, trigger or event whose object word is at ``obj_at``."""
    obj = up(sig[obj_at])
    try:
        i = obj_at + 1
        if [up(t) for t in sig[i : i + 3]] == ["IF", "NOT", "EXISTS"]:
            i += 3
        name, i = qualified(sig, i)
        if name is None:
            return Header(-1)
        if obj == "EVENT":
            return _event(sig, i, name)
        if obj == "TRIGGER":
            return _trigger(sig, i, name)
        if i >= len(sig) or sig[i] != ("p", "("):
            return Header(-1, name)
        i = _close_paren(sig, i)
        if obj == "FUNCTION":
            if up(sig[i] if i < len(sig) else None) != "RETURNS":
                return Header(-1, name)
            i = _skip_type(sig, i + 1)
        return Header(_skip_characteristics(sig, i), name)
    except Malformed:
        return Header(-1)


def _event(sig: list[Token], i: int, name: str) -> Header:
    depth = 0
    for j in range(i, len(sig)):
        if sig[j][0] == "p" and sig[j][1] in "()":
            depth += 1 if sig[j][1] == "(" else -1
        elif depth == 0 and up(sig[j]) == "DO":
            return Header(j + 1, name)
    return Header(-1, name)  # ALTER EVENT without DO has no body: the caller checks


def _trigger(sig: list[Token], i: int, name: str) -> Header:
    words = [up(t) for t in sig[i : i + 3]]
    if len(words) < 3 or words[0] not in ("BEFORE", "AFTER") or words[1] not in ("INSERT", "UPDATE", "DELETE") \
            or words[2] != "ON":  # fmt: skip
        return Header(-1, name)
    table, i = qualified(sig, i + 3)
    if table is None or [up(t) for t in sig[i : i + 3]] != ["FOR", "EACH", "ROW"]:
        return Header(-1, name, table)
    i += 3
    if up(sig[i] if i < len(sig) else None) in ("FOLLOWS", "PRECEDES"):
        _, i = qualified(sig, i + 1)
    return Header(i, name, table)


def _skip_type(sig: list[Token], i: int) -> int:
    if i >= len(sig) or sig[i][0] != WORD:
        raise Malformed("RETURNS without a type")
    i += 1
    while i < len(sig):
        word = up(sig[i])
        if sig[i] == ("p", "("):
            i = _close_paren(sig, i)
        elif word in _TYPE_WORDS:
            i += 1
        elif word in ("CHARSET", "COLLATE"):
            i += 2
        elif word == "SET" and up(sig[i - 1]) in ("CHARACTER", "CHAR"):
            i += 2
        else:
            return i
    return i


def _skip_characteristics(sig: list[Token], i: int) -> int:
    while i < len(sig):
        word = up(sig[i])
        if word == "SQL" and up(sig[i + 1] if i + 1 < len(sig) else None) == "SECURITY":
            i += 3
        elif word in _CHARACTERISTICS and not (word == "COMMENT" and sig[i + 1 : i + 2] and
                                               sig[i + 1][0] != STRING):  # fmt: skip
            i += 1 + _CHARACTERISTICS[word]
        else:
            return i
    return i


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
            close = _close_paren(self.sig, j)
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
