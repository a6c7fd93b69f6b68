"""Orchestration: lexer → keyword table → sqlglot refinement, with fingerprints and caches.

Contract of :func:`classify`: pure (no I/O), never raises, fails closed. A lexer error,
an unknown first keyword, an unparseable ``WITH`` or an internal error gives
``Kind.UNKNOWN``; where keyword, flags, AST and executed sub-statements disagree, the
stricter kind wins. Results are cached twice:

* an exact LRU keyed on ``(sql, modes)`` returns the same :class:`Classification`;
* a shape LRU keyed on the literal-free sqlglot input caches only the AST summary. Literal
  values never reach that key or its value: ``Statement.text``, ``kill_id``, ``use_db``
  and ``PREPARE … FROM '<literal>'`` are recomputed from the tokens on every call.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Generic, TypeVar

from policies.sql.keywords import Kind, analyze, fallback_tables, stricter
from policies.sql.lexer import Lexed, LexResult, lex
from policies.sql.refine import Refinement, refine

LARGE = 16 * 1024  # statements above this many characters skip sqlglot (flag "large")
MAX_DEPTH = 3  # nesting of PREPARE-from-literal / SET STATEMENT … FOR / ANALYZE <stmt>
_FLAG_KINDS = {
    **dict.fromkeys(("outfile", "load_file", "load_data"), Kind.FILE),
    **dict.fromkeys(("set_global", "set_log_bin", "lock", "kill"), Kind.ADMIN),
    **dict.fromkeys(("dynamic_sql", "procedure_call"), Kind.EXEC),
    **dict.fromkeys(("cte_write", "unbounded_write"), Kind.WRITE),
    "grant": Kind.DCL,
    "lex_error": Kind.UNKNOWN,
}


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement after splitting; ``text`` is normalized code (literals kept)."""

    kind: Kind
    keyword: str
    text: str
    tables: frozenset[str]
    columns: frozenset[str] = frozenset()
    wrapped_columns: frozenset[str] = frozenset()
    flags: frozenset[str] = frozenset()
    kill_id: int | None = None  # KILL <n>: n when a plain integer, else None (deny then)
    kill_query: bool = False  # KILL QUERY (vs connection)
    use_db: str | None = None  # USE <db>, unquoted, case kept


@dataclass(frozen=True, slots=True)
class Classification:
    """The verdict for one COM_QUERY payload (possibly several statements)."""

    statements: tuple[Statement, ...]
    kind: Kind
    flags: frozenset[str]
    tables: frozenset[str]
    fingerprint: str
    digest_text: str
    error: str = ""


K = TypeVar("K")
V = TypeVar("V")


class _LRU(Generic[K, V]):
    """Dict-based LRU bounded by entry count and total weight (≈ characters held)."""

    def __init__(self, maxsize: int, maxweight: int) -> None:
        self.maxsize, self.maxweight = maxsize, maxweight
        self.data: dict[K, tuple[V, int]] = {}
        self.weight = self.hits = self.misses = 0

    def get(self, key: K) -> V | None:
        try:
            value, weight = self.data.pop(key)
        except KeyError:
            self.misses += 1
            return None
        self.data[key] = (value, weight)  # re-insert: now the most recently used
        self.hits += 1
        return value

    def put(self, key: K, value: V, weight: int) -> None:
        if weight > self.maxweight // 16:
            return  # one huge entry must not flush everything else
        old = self.data.pop(key, None)
        self.weight += weight - (old[1] if old else 0)
        self.data[key] = (value, weight)
        while self.data and (len(self.data) > self.maxsize or self.weight > self.maxweight):
            try:
                self.weight -= self.data.pop(next(iter(self.data)))[1]
            except (KeyError, RuntimeError, StopIteration):  # concurrent use: give up this round
                break

    def clear(self) -> None:
        self.data.clear()
        self.weight = self.hits = self.misses = 0


@dataclass(frozen=True, slots=True)
class CacheInfo:
    exact_hits: int
    exact_misses: int
    shape_hits: int
    shape_misses: int
    exact_size: int
    shape_size: int
    maxsize: int


_EXACT: _LRU[tuple[str, bool, bool], Classification] = _LRU(10_000, 32 * 1024 * 1024)
_SHAPES: _LRU[str, Refinement] = _LRU(10_000, 16 * 1024 * 1024)


def cache_info() -> CacheInfo:
    """Hit/miss counters and sizes of the exact and shape (literal-free) caches."""
    e, s = _EXACT, _SHAPES
    return CacheInfo(e.hits, e.misses, s.hits, s.misses, len(e.data), len(s.data), e.maxsize)


def cache_clear() -> None:
    """Empty both caches and reset their counters."""
    _EXACT.clear()
    _SHAPES.clear()


def _mode_tag(nbe: bool, ansi: bool) -> str:
    return f"{'B' if nbe else '-'}{'A' if ansi else '-'}\x00"


def _fingerprint(sql: str, lexed: LexResult, nbe: bool, ansi: bool) -> tuple[str, str]:
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
    return _fingerprint(sql, lexed, no_backslash_escapes, ansi_quotes)


def classify(sql: str, *, no_backslash_escapes: bool = False, ansi_quotes: bool = False) -> Classification:
    """Classify a query (one or more statements) before it reaches the database; never raises."""
    key = (sql, no_backslash_escapes, ansi_quotes)
    cached = _EXACT.get(key)
    if cached is not None:
        return cached
    try:
        result = _classify(sql, no_backslash_escapes, ansi_quotes, 0)
    except Exception as exc:  # a classifier bug must block, not allow
        fp = hashlib.blake2b(sql.encode("utf-8", "surrogatepass"), digest_size=20).hexdigest()
        error = f"classifier error: {exc!r}"
        return Classification((), Kind.UNKNOWN, frozenset({"unparseable"}), frozenset(), fp, "<error>", error)
    _EXACT.put(key, result, 2 * len(sql) + 64)
    return result


def _classify(sql: str, nbe: bool, ansi: bool, depth: int) -> Classification:
    lexed = lex(sql, no_backslash_escapes=nbe, ansi_quotes=ansi)
    fp, digest = _fingerprint(sql, lexed, nbe, ansi)
    base = {"versioned_comment"} if lexed.versioned else set()
    if lexed.error or not lexed.statements:
        flag, error = ("lex_error", lexed.error) if lexed.error else ("empty", "no statement")
        return Classification((), Kind.UNKNOWN, frozenset(base | {flag}), frozenset(), fp, digest, error)
    pairs = [_statement(lx, nbe, ansi, depth) for lx in lexed.statements]
    statements = tuple(st for st, _ in pairs)
    kind = Kind.READ
    flags = set(base)
    tables: set[str] = set()
    for st in statements:
        kind = stricter(kind, st.kind)
        flags |= st.flags
        tables |= st.tables
    if len(statements) > 1:
        flags.add("multi_statement")
    error = next((err for _, err in pairs if err), "")
    return Classification(statements, kind, frozenset(flags), frozenset(tables), fp, digest, error)


def _statement(lx: Lexed, nbe: bool, ansi: bool, depth: int) -> tuple[Statement, str]:
    """Classify one lexed statement; returns it and the reason it failed, if any."""
    sig = lx.significant()
    kv = analyze(sig, no_backslash_escapes=nbe)
    kind, flags = kv.kind, set(kv.flags)
    tables: set[str] | None = None  # from the AST when there is one, else from keywords
    columns: frozenset[str] = frozenset()
    wrapped: frozenset[str] = frozenset()
    error = f"unknown statement keyword {kv.keyword[:32]!r}" if kind is Kind.UNKNOWN else ""
    if lx.versioned:
        flags.add("versioned_comment")
    text = lx.text()
    if kv.refinable and len(text) > LARGE:
        flags.add("large")  # keyword kind and token-level flags only (unbounded_write included)
    elif kv.refinable:
        ref = _refine(lx, kv.keyword)
        if ref.kind is None:
            flags.add("unparseable")
            error = ref.error
            if kv.keyword == "WITH":
                kind = Kind.UNKNOWN  # the executed verb is only known from the AST
        else:
            kind = stricter(kind, ref.kind)
            tables, columns, wrapped = set(ref.tables), ref.columns, ref.wrapped_columns
            if ref.unbounded:
                flags.add("unbounded_write")
            if ref.cte_write and kv.keyword == "WITH":
                flags.add("cte_write")
    if tables is None:
        tables = fallback_tables(sig)
    for inner in kv.inner:
        if depth >= MAX_DEPTH:
            kind, error = Kind.UNKNOWN, "sub-statements nested too deep"
            continue
        sub = _classify(inner, nbe, ansi, depth + 1)
        kind = stricter(kind, sub.kind)
        flags |= sub.flags
        tables |= sub.tables
        error = error or sub.error
    for flag in flags:
        kind = stricter(kind, _FLAG_KINDS.get(flag, Kind.READ))
    statement = Statement(kind, kv.keyword, text, frozenset(tables), columns, wrapped, frozenset(flags),
                          kv.kill_id, kv.kill_query, kv.use_db)  # fmt: skip
    return statement, error


def _refine(lx: Lexed, keyword: str) -> Refinement:
    """sqlglot summary of one statement, cached by its literal-free shape."""
    shape = lx.shape()
    if keyword == "REPLACE":
        # sqlglot falls back to Command for REPLACE; INSERT has the same tables and columns.
        shape = "INSERT" + shape[len("REPLACE") :]
    cached = _SHAPES.get(shape)
    if cached is None:
        cached = refine(shape)
        _SHAPES.put(shape, cached, len(shape) + 64)
    return cached
