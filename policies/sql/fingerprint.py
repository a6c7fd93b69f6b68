"""Statement fingerprints: one hash for statements that differ only by literal values.

Contract of :func:`fingerprint`: the lexer alone (no sqlglot, no cache); the digest
replaces every literal by ``?`` and is safe to log; the SQL modes are part of the hash.
A text the lexer cannot read (unterminated literal) has no safe digest: its raw text is
hashed and its digest is ``<lex error>``.
"""

from __future__ import annotations

import hashlib

from policies.sql.lexer import LexResult, lex


def _mode_tag(nbe: bool, ansi: bool) -> str:
    return f"{'B' if nbe else '-'}{'A' if ansi else '-'}\x00"


def fingerprint_lexed(sql: str, lexed: LexResult, nbe: bool, ansi: bool) -> tuple[str, str]:
    if lexed.error:  # no safe digest exists for an unterminated literal: hash the raw text
        digest, material = "<lex error>", "lex_error\x00" + sql
    else:
        digest = "; ".join(s.digest() for s in lexed.statements)
        material = digest
    data = (_mode_tag(nbe, ansi) + material).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=20).hexdigest(), digest


def fingerprint(
    sql: str, *, no_backslash_escapes: bool = False, ansi_quotes: bool = False
) -> tuple[str, str]:
    """``(fingerprint, digest_text)`` of ``sql`` from the lexer alone (no sqlglot, no cache).

    Statements that differ only by literal values share both; the modes are part of the
    fingerprint. The digest replaces every literal by ``?`` and is safe to log.
    """
    lexed = lex(sql, no_backslash_escapes=no_backslash_escapes, ansi_quotes=ansi_quotes)
    return fingerprint_lexed(sql, lexed, no_backslash_escapes, ansi_quotes)
