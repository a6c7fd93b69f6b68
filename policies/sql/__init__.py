"""SQL classification for the MySQL guardrails: pure, fast, fail-closed.

Every statement a user sends is classified before it reaches the database::

    from policies.sql import Kind, classify
    c = classify(sql, no_backslash_escapes=ns.nbe, ansi_quotes=ns.ansi)
    if c.kind is Kind.UNKNOWN or "multi_statement" in c.flags: ...
    for st in c.effective: ...  # every statement that will execute (carried, bodies, implied)

Stages: a MySQL-aware pre-lexer (``lexer``) that unwraps
versioned comments and honours NO_BACKSLASH_ESCAPES / ANSI_QUOTES; a keyword table
(``keywords``) that fails closed on anything unknown; sqlglot refinement (``refine``)
for DML/DDL (tables, WHERE, columns), skipped when the literal-free skeleton is over
16 KB; compound and routine bodies (``compound``); SET assignments and implied drops
(``effects``); orchestration, fingerprints and caches (``classify``). Beside it:
``charsets`` (collation ids, codecs, refused client charsets), ``redact`` (literal-only
redaction for display) and ``approval`` (the exact-statement approval key).
"""

from __future__ import annotations

from policies.sql.classify import (
    LARGE,
    CacheInfo,
    Classification,
    Statement,
    cache_clear,
    cache_info,
    cached,
    classify,
    fingerprint,
    flatten,
)
from policies.sql.keywords import Kind, stricter

__all__ = [
    "LARGE",
    "CacheInfo",
    "Classification",
    "Kind",
    "Statement",
    "cache_clear",
    "cache_info",
    "cached",
    "classify",
    "fingerprint",
    "flatten",
    "stricter",
]
