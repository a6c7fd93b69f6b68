"""Keyword rules for data statements: unbounded ``DELETE``/``UPDATE``/``TRUNCATE``, the
verb of a ``WITH`` query, and ``ANALYZE <stmt>`` / ``EXPLAIN ANALYZE`` (which execute the
statement they carry)."""

from __future__ import annotations

from policies.sql.keyword_verdict import KeywordVerdict
from policies.sql.kinds import Kind, R, W
from policies.sql.lexer import Token
from policies.sql.tokens import up, word_set

DML_VERBS = word_set("SELECT INSERT UPDATE DELETE REPLACE TABLE VALUES")
WRITE_VERBS = word_set("INSERT UPDATE DELETE REPLACE")


def unbounded(sig: list[Token], verb_at: int) -> bool:
    """DELETE/UPDATE at ``verb_at``: True unless single-table with a WHERE at paren depth 0.

    LIMIT alone is unbounded; multi-table forms (``DELETE t1 FROM t1 JOIN t2``, ``USING``,
    ``UPDATE t1 JOIN t2`` / ``UPDATE t1, t2``) count as unbounded whatever their WHERE.
    """
    verb = up(sig[verb_at])
    i = verb_at + 1
    while up(sig[i] if i < len(sig) else None) in ("LOW_PRIORITY", "QUICK", "IGNORE"):
        i += 1
    if verb == "DELETE" and up(sig[i] if i < len(sig) else None) != "FROM":
        return True
    depth, before_set = 0, True
    for tok in sig[i:]:
        if tok[0] == "p":
            depth += {"(": 1, ")": -1}.get(tok[1], 0)
            if depth == 0 and tok[1] == "," and before_set:
                return True
            continue
        word = up(tok) if depth == 0 else ""
        if word == "WHERE":
            return False
        if word in ("JOIN", "STRAIGHT_JOIN", "USING") and before_set:
            return True
        if word == "SET" and verb == "UPDATE":
            before_set = False
    return True


def analyze_rule(v: KeywordVerdict, sig: list[Token], i: int, nbe: bool) -> None:
    """ANALYZE TABLE is maintenance; MariaDB ``ANALYZE <stmt>`` and ``EXPLAIN ANALYZE`` execute it."""
    nxt = up(sig[i + 1]) if i + 1 < len(sig) else ""
    if v.keyword == "ANALYZE" and nxt in ("TABLE", "NO_WRITE_TO_BINLOG", "LOCAL"):
        v.keyword = "ANALYZE TABLE"
        return
    if v.keyword != "ANALYZE" and nxt != "ANALYZE":
        return
    v.keyword = "ANALYZE" if v.keyword == "ANALYZE" else f"{v.keyword} ANALYZE"
    for j in range(i + 1, len(sig)):
        if up(sig[j]) in DML_VERBS or up(sig[j]) == "WITH":
            v.kind, v.refinable = R, False
            v.inner.append(j)
            return
    v.kind = Kind.UNKNOWN


def dml_rule(v: KeywordVerdict, sig: list[Token], i: int, nbe: bool) -> None:
    if v.keyword in ("DELETE", "UPDATE") and unbounded(sig, i):
        v.flags.add("unbounded_write")
    elif v.keyword == "TRUNCATE":
        v.flags.add("unbounded_write")
    elif v.keyword == "WITH":
        depth = 0
        for j in range(i + 1, len(sig)):
            depth += {"(": 1, ")": -1}.get(sig[j][1], 0) if sig[j][0] == "p" else 0
            verb = up(sig[j]) if depth == 0 else ""
            if verb in WRITE_VERBS:
                v.kind = W
                v.flags.add("cte_write")
                v.implied.append(verb)  # MySQL 8's WITH … DELETE: a rule on DELETE must see it
                if verb in ("DELETE", "UPDATE") and unbounded(sig, j):
                    v.flags.add("unbounded_write")
                return
            if verb in DML_VERBS:
                return
        v.kind = Kind.UNKNOWN

