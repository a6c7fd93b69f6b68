"""Redaction of SQL text for approvers, the journal and the index: literal values only.

Contract of :func:`redact_literals`: the statement is lexed exactly as the classifier
lexes it (same modes, versioned comments unwrapped); ``mask`` is applied to the *value
part* of each string (between its quotes), hex/bit/national literal (between its quotes)
and number token, one token at a time. Everything else — keywords, identifiers,
operators, comments, whitespace, the quotes themselves — is kept byte for byte, so a
recognizer can never swallow SQL syntax (issue 14, reproduction 7: ``OR id > 0`` between
two masked strings stays visible). When the lexer fails (unterminated quote or comment,
NUL byte) the whole text goes through ``mask`` instead: conservative, never a leak of
what ``mask`` would hide.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from policies.sql.lexer import _PATTERNS, _quoted

_LITERAL_GROUPS = frozenset({"s", "s2", "x", "n"})


def _row_literal(nbe: bool, ansi: bool) -> re.Pattern[str]:
    """One literal inside a ROWS token (same quoting rules as the lexer)."""
    strings = [_quoted("'", not nbe)] + ([] if ansi else [_quoted('"', not nbe)])
    number = r"[-+]?(?:0[xX][0-9a-fA-F]+|(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)"
    return re.compile("|".join([f"(?P<s>{q})" for q in strings[:1]] + [f"(?P<s2>{q})" for q in strings[1:]]
                               + [r"(?P<x>[xXbB]'[^']*')", f"(?P<n>{number})"]))  # fmt: skip


_ROW_LITERAL = {(n, a): _row_literal(n, a) for n in (False, True) for a in (False, True)}


def literal_spans(sql: str, *, no_backslash_escapes: bool = False, ansi_quotes: bool = False,
                  ) -> list[tuple[int, int]] | None:  # fmt: skip
    """``(start, end)`` of each literal's value (inside its quotes); None when the lexer fails."""
    if "\x00" in sql:
        return None
    spans: list[tuple[int, int]] = []
    pos, end, in_ver = 0, len(sql), False
    while pos < end:
        switched = False
        for m in _PATTERNS[(no_backslash_escapes, ansi_quotes, in_ver)].finditer(sql, pos):
            group = m.lastgroup or ""
            if group == "r":  # a bulk VALUES run: each literal inside it
                start, stop = m.span(group)
                for lit in _ROW_LITERAL[(no_backslash_escapes, ansi_quotes)].finditer(sql, start, stop):
                    a, b = lit.span()
                    spans.append((a + 2, b - 1) if lit.lastgroup == "x" else
                                 (a + 1, b - 1) if lit.lastgroup != "n" else (a, b))  # fmt: skip
            elif group in _LITERAL_GROUPS:
                start, stop = m.span(group)
                if group != "n":  # keep the quotes (and an X/B/N prefix) out of the masked part
                    start = sql.index(sql[stop - 1], start) + 1
                    stop -= 1
                spans.append((start, stop))
            elif group in ("vo", "vc"):
                in_ver = group == "vo"
                pos, switched = m.end(), True
                break
            elif group == "err":
                return None
        if not switched:
            break
    return None if in_ver else spans


def redact_literals(sql: str, mask: Callable[[str], str], *, no_backslash_escapes: bool = False,
                    ansi_quotes: bool = False) -> str:  # fmt: skip
    """``sql`` with ``mask`` applied inside each literal token only (see the module contract)."""
    spans = literal_spans(sql, no_backslash_escapes=no_backslash_escapes, ansi_quotes=ansi_quotes)
    if spans is None:
        return mask(sql)
    out: list[str] = []
    pos = 0
    for start, stop in spans:
        out.append(sql[pos:start])
        out.append(mask(sql[start:stop]))
        pos = stop
    out.append(sql[pos:])
    return "".join(out)
