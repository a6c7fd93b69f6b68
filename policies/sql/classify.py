"""Orchestration: lexer → keyword table → sqlglot refinement, with fingerprints and caches.

Contract of :func:`classify`: pure (no I/O), never raises, fails closed. A lexer error,
an unknown first keyword, an unparseable ``WITH``, a compound body the walker does not
recognise or an internal error gives ``Kind.UNKNOWN``; where keyword, flags, AST and
executed sub-statements disagree, the stricter kind wins.

``Classification.effective`` lists every statement that will execute, outer ones first,
each followed (depth first) by those it carries: ``SET STATEMENT … FOR``, ``PREPARE … FROM
'<literal>'``, ``EXECUTE IMMEDIATE '<literal>'``, ``ANALYZE <stmt>``/``EXPLAIN ANALYZE``,
the body of a compound statement or of ``CREATE PROCEDURE/FUNCTION/TRIGGER/EVENT``
(each simple statement, cursor query, handler statement; conditions and ``DEFAULT``/
``RETURN`` values as ``SELECT <expression>``), and implied statements (``CREATE OR
REPLACE`` → ``DROP <object>``, ``ALTER TABLE … DROP …`` → ``DROP COLUMN`` etc., flag
``implied``). A compound statement split by the lexer on the ``;`` of its body is joined
back into one statement first (``compound_join``). Results are cached twice (``cache``):

* an exact LRU keyed on ``(sql, modes)`` returns the same :class:`Classification`;
* a shape LRU keyed on the literal-free sqlglot input caches only the AST summary. Literal
  values never reach that key or its value: ``Statement.text``, ``kill_id``, ``use_db``
  and ``PREPARE … FROM '<literal>'`` are recomputed from the tokens on every call.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace

from policies.sql import cache, compound
from policies.sql.classification import Classification, Statement, flatten
from policies.sql.compound_join import SPACE_TOKEN, join_compounds
from policies.sql.dml_rules import WRITE_VERBS
from policies.sql.fallback_tables import fallback_tables
from policies.sql.fingerprint import fingerprint_lexed
from policies.sql.functions import calls_in
from policies.sql.keyword_verdict import KeywordVerdict
from policies.sql.keywords import analyze
from policies.sql.kinds import Kind, stricter
from policies.sql.lexer import SPACE, Lexed, LexResult, Token, lex
from policies.sql.refine import Refinement, refine
from policies.sql.tokens import up

# Bound by assignment, not by import: CPython 3.11 compiles a method call on a name bound by
# ``from … import`` as an attribute load plus a call (it expects a module there), which builds
# a bound method on every cache lookup.
_EXACT = cache.EXACT
_SHAPES = cache.SHAPES
_TEMPLATES = cache.TEMPLATES
TEMPLATE_KEYWORDS = frozenset({"SELECT", "INSERT", "UPDATE", "DELETE", "REPLACE"})
"""Statements whose keyword rules never read a literal's value (unlike SET, KILL, PREPARE,
EXECUTE, CALL, USE): see :func:`_templated`."""
LARGE = 16 * 1024  # statements whose literal-free shape is longer skip sqlglot (flag "large")
MAX_DEPTH = 4  # nesting of PREPARE-from-literal / SET STATEMENT … FOR / ANALYZE <stmt> / bodies
_FLAG_KINDS = {
    **dict.fromkeys(("outfile", "load_file", "load_data"), Kind.FILE),
    **dict.fromkeys(("set_global", "set_log_bin", "lock", "kill"), Kind.ADMIN),
    **dict.fromkeys(("dynamic_sql", "procedure_call"), Kind.EXEC),
    **dict.fromkeys(("cte_write", "unbounded_write"), Kind.WRITE),
    "grant": Kind.DCL,
    "lex_error": Kind.UNKNOWN,
}


def cached(sql: str, *, no_backslash_escapes: bool = False, ansi_quotes: bool = False) -> Classification | None:
    """What :func:`classify` returns for exactly this text and these modes if it has it
    cached (no work otherwise)."""
    return _EXACT.get((sql, no_backslash_escapes, ansi_quotes))


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
    fp, digest = fingerprint_lexed(sql, lexed, nbe, ansi)
    if not lexed.error and not lexed.versioned and len(lexed.statements) == 1:
        template = _TEMPLATES.get(fp)
        if template is not None:  # the same statement but for its literal values
            st = template.statements[0]
            text = lexed.statements[0].text()
            return Classification((st if st.text == text else replace(st, text=text),), template.kind,
                                  template.flags, template.tables, fp, digest)
    result = _full(sql, lexed, fp, digest, nbe, ansi, depth)
    if _templated(result):
        _TEMPLATES.put(fp, result, len(digest) + 64)
    return result


def _templated(c: Classification) -> bool:
    """Whether every statement with ``c``'s fingerprint classifies as ``c`` but for its
    text. Its fingerprint fixes its keywords, identifiers and structure; of its literal
    values, the keyword rules of :data:`TEMPLATE_KEYWORDS` read none (they carry, assign,
    prepare, call or kill nothing, which is what literals decide elsewhere), the AST
    summary is cached by the literal-free shape anyway, and a statement with any flag
    (where a literal could matter: ``large``, versioned comments…) is left out."""
    if c.kind is Kind.UNKNOWN or c.error or c.flags or len(c.statements) != 1:
        return False
    st = c.statements[0]
    return (st.keyword in TEMPLATE_KEYWORDS and not st.inner and not st.assignments and st.prepared_name is None
            and st.routine is None and st.kill_id is None and st.use_db is None and st.object_name is None)


def _full(sql: str, lexed: LexResult, fp: str, digest: str, nbe: bool, ansi: bool, depth: int) -> Classification:
    base = {"versioned_comment"} if lexed.versioned else set()
    if lexed.error or not lexed.statements:
        flag, error = ("lex_error", lexed.error) if lexed.error else ("empty", "no statement")
        return Classification((), Kind.UNKNOWN, frozenset(base | {flag}), frozenset(), fp, digest, error)
    pairs = [_statement(lx, nbe, ansi, depth) for lx in join_compounds(lexed.statements)]
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
    if kv.refinable:
        refined = _refined(lx, kv, flags)
        if refined is not None:
            kind, tables, columns, wrapped, err = stricter(kind, refined[0]), *refined[1:]
            error = error or err
    if tables is None:
        tables = fallback_tables(sig)
    if kv.keyword == "SET" and tables:
        wrapped = frozenset({"*"})  # a value read from a table into a variable is beyond masking's reach
    inner: list[Statement] = []
    for sub, err in _carried(lx, sig, kv, nbe, ansi, depth):
        inner.append(sub)
        kind = stricter(kind, sub.kind)
        flags |= sub.flags
        tables |= sub.tables
        error = error or err
    inner += _implied(kv, text, tables, flags)
    for flag in flags:
        kind = stricter(kind, _FLAG_KINDS.get(flag, Kind.READ))
    if kind is Kind.UNKNOWN and not error:
        error = next((f"{s.keyword}: not understood" for s in flatten(tuple(inner)) if s.kind is Kind.UNKNOWN),
                     "statement not understood")  # fmt: skip
    statement = Statement(kind, kv.keyword, text, frozenset(tables), columns, wrapped, frozenset(flags),
                          kv.kill_id, kv.kill_query, kv.use_db, tuple(inner), kv.assignments, kv.prepared_name,
                          kv.routine, kv.object_name, kv.trigger_table, calls_in(sig))  # fmt: skip
    return statement, error


_RefinedParts = tuple[Kind, set[str] | None, frozenset[str], frozenset[str], str]


def _refined(lx: Lexed, kv: KeywordVerdict, flags: set[str]) -> _RefinedParts | None:
    """AST kind, tables, columns, wrapped columns and error; None: keep the keyword verdict.

    Adds flags ``large`` (shape over LARGE: no AST, wrapped columns "*"), ``unparseable``
    (DML or query sqlglot cannot parse; DDL falls back to the keyword layer),
    ``unbounded_write``, ``cte_write``.
    """
    tokens = _without_procedure_analyse(lx.tokens) if "procedure_analyse" in flags else lx.tokens
    shaped = Lexed(tokens, lx.versioned).shape()
    if len(shaped) > LARGE:
        flags.add("large")  # keyword kind and token-level flags only (unbounded_write included)
        return kv.kind, None, frozenset(), frozenset({"*"}), ""
    ref = _refine(shaped, kv.keyword)
    if ref.kind is None:
        if kv.kind is Kind.DDL and kv.keyword != "WITH":
            has_query = any(up(t) == "SELECT" for t in tokens)
            return kv.kind, None, frozenset(), frozenset({"*"}) if has_query else frozenset(), ""
        flags.add("unparseable")
        kind = Kind.UNKNOWN if kv.keyword == "WITH" else kv.kind  # WITH: the verb is only known from the AST
        return kind, None, frozenset(), frozenset(), ref.error
    if ref.unbounded:
        flags.add("unbounded_write")
    if ref.cte_write and kv.keyword == "WITH":
        flags.add("cte_write")
    wrapped = ref.wrapped_columns
    if "procedure_analyse" in flags:  # min/max/values of every selected column come back
        star = any(t == ("o", "*") for t in tokens)  # fmt: skip
        wrapped = wrapped | ref.columns | (frozenset({"*"}) if star else frozenset())
    return ref.kind, set(ref.tables), ref.columns, wrapped, ""


def _without_procedure_analyse(tokens: list[Token]) -> list[Token]:
    """Tokens without ``PROCEDURE ANALYSE(…)`` (sqlglot does not know the clause)."""
    for k in range(len(tokens) - 2):
        if up(tokens[k]) == "PROCEDURE":
            rest = [t for t in tokens[k + 1 :] if t[0] != SPACE]
            if rest and up(rest[0]) == "ANALYSE":
                depth, end = 0, len(tokens)
                for m in range(k + 1, len(tokens)):
                    if tokens[m][0] == "p" and tokens[m][1] in "()":
                        depth += 1 if tokens[m][1] == "(" else -1
                        if depth == 0:
                            end = m + 1
                            break
                return tokens[:k] + tokens[end:]
    return tokens


def _carried(lx: Lexed, sig: list[Token], kv: KeywordVerdict, nbe: bool, ansi: bool,
             depth: int) -> list[tuple[Statement, str]]:  # fmt: skip
    """Statements carried by this one: literal sub-statements, ``FOR``/``ANALYZE`` tails, bodies."""
    if not kv.inner and kv.body_at is None:
        return []
    if depth >= MAX_DEPTH:
        return [(_unknown(kv.keyword), "sub-statements nested too deep")]
    where = [k for k, t in enumerate(lx.tokens) if t[0] != SPACE]

    def piece(start: int, end: int) -> list[Token]:
        return lx.tokens[where[start] : where[end - 1] + 1]

    out: list[tuple[Statement, str]] = []
    for item in kv.inner:
        if isinstance(item, str):
            sub = _classify(item, nbe, ansi, depth + 1)
            if not sub.statements:
                out.append((_unknown(kv.keyword), sub.error or "empty sub-statement"))
            out += [(st, sub.error) for st in sub.statements]
            if len(sub.statements) > 1:
                out.append((_unknown(kv.keyword), "several statements in a sub-statement"))
        else:
            out.append(_statement(Lexed(piece(item, len(sig)), lx.versioned), nbe, ansi, depth + 1))
    if kv.body_at is not None:
        out += _body(lx, sig, kv, piece, nbe, ansi, depth)
    return out


def _body(lx: Lexed, sig: list[Token], kv: KeywordVerdict, piece: Callable[[int, int], list[Token]],
          nbe: bool, ansi: bool, depth: int) -> list[tuple[Statement, str]]:  # fmt: skip
    body_at = kv.body_at if kv.body_at is not None else -1
    if body_at < 0 or body_at >= len(sig):
        return [(_unknown(kv.keyword), f"{kv.keyword}: header or body not understood")]
    try:
        pieces, end = compound.parse(sig, body_at)
    except compound.Incomplete:
        return [(_unknown(kv.keyword), f"{kv.keyword}: body not terminated")]
    except compound.Malformed as exc:
        return [(_unknown(kv.keyword), f"{kv.keyword}: body not understood ({exc})")]
    if end != len(sig):
        return [(_unknown(kv.keyword), f"{kv.keyword}: text after the body")]
    out: list[tuple[Statement, str]] = []
    for p in pieces:
        tokens = piece(p.start, p.end)
        if p.expression:
            tokens = [("w", "SELECT"), SPACE_TOKEN, *tokens]
        out.append(_statement(Lexed(tokens, lx.versioned), nbe, ansi, depth + 1))
    return out


def _unknown(keyword: str) -> Statement:
    return Statement(Kind.UNKNOWN, keyword, "", frozenset())


def _implied(kv: KeywordVerdict, text: str, tables: set[str], flags: set[str]) -> list[Statement]:
    """``CREATE OR REPLACE`` → ``DROP <object>``; ``ALTER TABLE … DROP x`` → ``DROP <x>``;
    ``WITH … DELETE`` → ``DELETE`` (flag ``implied``)."""
    out = []
    for keyword in kv.implied:
        kind = Kind.DCL if keyword in ("DROP USER", "DROP ROLE") else Kind.WRITE if keyword in WRITE_VERBS else Kind.DDL
        out.append(Statement(kind, keyword, text, frozenset(tables), flags=frozenset({"implied"})))
    return out


def _refine(shape: str, keyword: str) -> Refinement:
    """sqlglot summary of one statement, cached by its literal-free shape."""
    if keyword == "REPLACE":
        # sqlglot falls back to Command for REPLACE; INSERT has the same tables and columns.
        shape = "INSERT" + shape[len("REPLACE") :]
    cached = _SHAPES.get(shape)
    if cached is None:
        cached = refine(shape)
        _SHAPES.put(shape, cached, len(shape) + 64)
    return cached
