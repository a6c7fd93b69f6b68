"""SQL classification for the MySQL guardrails: pure, fast, fail-closed.

Every statement a user sends is classified before it reaches the database::

    from policies.sql import Kind, classify
    c = classify(sql, no_backslash_escapes=ns.nbe, ansi_quotes=ns.ansi)
    if c.kind is Kind.UNKNOWN or "multi_statement" in c.flags: ...
    for st in c.effective: ...  # every statement that will execute (carried, bodies, implied)

Stages: a MySQL-aware pre-lexer (``lexer``) that unwraps
versioned comments and honours NO_BACKSLASH_ESCAPES / ANSI_QUOTES; a keyword table
(``keywords``, verdict in ``keyword_verdict``, kinds in ``kinds``) that fails closed on
anything unknown, with rules per statement family (``ddl_rules``, ``dml_rules``,
``session_rules``, ``exec_rules``) and a keyword-only table finder (``fallback_tables``);
sqlglot refinement (``refine``) for DML/DDL (tables, WHERE, columns), skipped when the
literal-free skeleton is over 16 KB; compound bodies (``compound``), routine headers
(``routine_header``) and the re-joining of bodies the lexer split (``compound_join``);
SET assignments and implied drops (``effects``); orchestration (``classify``), its
result types (``classification``), fingerprints (``fingerprint``) and caches (``cache``);
token helpers (``tokens``). Beside it:
``charsets`` (collation ids, codecs, refused client charsets), ``redact`` (literal-only
redaction for display) and ``approval`` (the exact-statement approval key).
"""

from __future__ import annotations

from policies.sql.cache import CacheInfo, cache_clear, cache_info
from policies.sql.classification import Classification, Statement, flatten
from policies.sql.classify import LARGE, cached, classify
from policies.sql.fingerprint import fingerprint
from policies.sql.kinds import Kind, stricter

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
