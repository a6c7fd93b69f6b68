"""Routine, trigger and event headers at token level: where the body begins.

Contract: :func:`body_start` finds where the body of ``CREATE [OR REPLACE] [DEFINER=…]
PROCEDURE|FUNCTION|TRIGGER|EVENT`` (and ``ALTER EVENT … DO``) begins, and the object name
(and a trigger's table). A header it does not recognise gives ``start = -1``: the caller
fails closed. The body itself is walked by :mod:`policies.sql.compound`.
"""

from __future__ import annotations

from dataclasses import dataclass

from policies.sql.compound import Malformed, close_paren
from policies.sql.lexer import STRING, WORD, Token
from policies.sql.tokens import qualified, up

_CHARACTERISTICS = {"COMMENT": 1, "LANGUAGE": 1, "DETERMINISTIC": 0, "CONTAINS": 1, "NO": 1, "READS": 2,
                    "MODIFIES": 2, "NOT": 1}  # fmt: skip
_TYPE_WORDS = frozenset({"UNSIGNED", "SIGNED", "ZEROFILL", "BINARY", "ASCII", "UNICODE", "BYTE", "PRECISION",
                         "VARYING", "VARCHAR", "VARBINARY", "CHAR", "CHARACTER", "NATIONAL", "LONG"})  # fmt: skip


@dataclass(frozen=True, slots=True)
class Header:
    start: int  # index of the body's first token; -1: header not understood
    name: str | None = None
    table: str | None = None


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
        i = close_paren(sig, i)
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
            i = close_paren(sig, i)
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
