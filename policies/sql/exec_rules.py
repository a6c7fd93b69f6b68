"""Keyword rules for statements that run other code: ``PREPARE … FROM``, ``EXECUTE
[IMMEDIATE]``, ``DEALLOCATE PREPARE`` and ``CALL``. A literal source is carried (to be
classified in turn); any other source is dynamic SQL."""

from __future__ import annotations

from policies.sql.keyword_verdict import KeywordVerdict
from policies.sql.kinds import Kind
from policies.sql.lexer import STRING, Token, unquote
from policies.sql.tokens import lower_name, qualified, up


def _literal_source(v: KeywordVerdict, source: list[Token], nbe: bool) -> None:
    """``'a' 'b'`` (adjacent literals concatenate, as in MySQL) is carried; anything else is dynamic."""
    if source and all(t[0] == STRING for t in source):
        v.inner.append("".join(unquote(t[1], no_backslash_escapes=nbe) for t in source))
    else:
        v.flags.add("dynamic_sql")


def prepare_rule(v: KeywordVerdict, sig: list[Token], i: int, nbe: bool) -> None:
    if len(sig) < i + 4 or up(sig[i + 2]) != "FROM":
        v.kind = Kind.UNKNOWN
        return
    v.prepared_name = lower_name(sig, i + 1)
    _literal_source(v, sig[i + 3 :], nbe)


def execute_rule(v: KeywordVerdict, sig: list[Token], i: int, nbe: bool) -> None:
    if up(sig[i + 1] if i + 1 < len(sig) else None) == "IMMEDIATE":  # MariaDB
        v.keyword = "EXECUTE IMMEDIATE"
        end = next((j for j in range(i + 2, len(sig)) if up(sig[j]) == "USING"), len(sig))
        _literal_source(v, sig[i + 2 : end], nbe)
    else:
        v.prepared_name = lower_name(sig, i + 1)


def deallocate_rule(v: KeywordVerdict, sig: list[Token], i: int, nbe: bool) -> None:
    if v.keyword == "DEALLOCATE PREPARE":
        v.prepared_name = lower_name(sig, i + 2)


def call_rule(v: KeywordVerdict, sig: list[Token], i: int, nbe: bool) -> None:
    v.flags.add("procedure_call")
    v.routine = qualified(sig, i + 1)[0]
