"""The approval key: an approval binds to one exact statement under one sql_mode.

Contract of :func:`approval_key`: a hex digest of the statement's normalised text —
comments dropped, versioned comments unwrapped, whitespace collapsed, keywords and
literal values kept exactly — together with the session's sql_mode flags (sorted,
upper-case). Two statements share a key only if the server would read them as the same
statement with the same values under the same quoting rules: ``WHERE c LIKE 'zzz'`` and
``WHERE c LIKE '%'`` differ, and so does ``WHERE c = "c"`` with and without ANSI_QUOTES.
A statement the lexer cannot read is keyed by its raw text.
"""

from __future__ import annotations

import hashlib

from policies.sql.lexer import lex

_ANSI_QUOTING = frozenset({"ANSI_QUOTES", "ANSI", "ORACLE", "DB2", "MSSQL", "POSTGRESQL", "MAXDB"})


def modes_of(sql_mode: str) -> tuple[bool, bool]:
    """``(no_backslash_escapes, ansi_quotes)`` from a sql_mode value (the combination modes
    ``ANSI``, ``ORACLE``, ``DB2``, ``MSSQL``, ``POSTGRESQL`` and ``MAXDB`` imply ANSI_QUOTES)."""
    flags = {part.strip().upper() for part in sql_mode.split(",")}
    return "NO_BACKSLASH_ESCAPES" in flags, bool(flags & _ANSI_QUOTING)


def normalized(sql: str, sql_mode: str = "") -> str:
    """The normalised text the key is made of (literals kept)."""
    nbe, ansi = modes_of(sql_mode)
    lexed = lex(sql, no_backslash_escapes=nbe, ansi_quotes=ansi)
    if lexed.error:
        return "\x00raw\x00" + sql
    return ";\n".join(st.text() for st in lexed.statements)


def approval_key(sql: str, sql_mode: str = "") -> str:
    """Digest binding an approval to this exact statement under ``sql_mode`` (see the contract)."""
    mode = ",".join(sorted({p.strip().upper() for p in sql_mode.split(",") if p.strip()}))
    material = f"{mode}\x00{normalized(sql, sql_mode)}".encode("utf-8", "surrogatepass")
    return hashlib.blake2b(material, digest_size=20).hexdigest()
