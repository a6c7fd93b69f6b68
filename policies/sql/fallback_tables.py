"""Table names from the keywords alone, for statements without an AST (large, DDL,
or not parsed): best effort, after ``FROM``/``JOIN``/``INTO``/``TABLE``…"""

from __future__ import annotations

from policies.sql.lexer import IDENTS, WORD, Token
from policies.sql.tokens import ident, up, word_set

# Words after which a table name follows.
_TABLE_INTRO = word_set("FROM JOIN STRAIGHT_JOIN INTO TABLE TABLES")
_FIRST_INTRO = word_set("UPDATE TRUNCATE DESCRIBE DESC HANDLER")
_NOT_ALIAS = word_set(
    "WHERE JOIN INNER LEFT RIGHT CROSS NATURAL STRAIGHT_JOIN ON USING SET GROUP ORDER LIMIT HAVING UNION "
    "FOR LOCK WINDOW PARTITION VALUES VALUE SELECT READ WRITE INTO USE FORCE IGNORE LOW_PRIORITY TO AS "
    "OPEN CLOSE LIKE WITH FIELDS COLUMNS LINES CHARACTER ROWS OUTFILE DUMPFILE TABLE KEY SKIP NOWAIT "
    "SHARE MODE IF EXISTS NOT"
)


def fallback_tables(sig: list[Token]) -> set[str]:
    """Best-effort table names after FROM/JOIN/INTO/TABLE…, for statements without an AST."""
    out: set[str] = set()
    n = len(sig)
    first = up(sig[0]) if sig else ""
    for i, tok in enumerate(sig):
        if tok[0] != WORD or not 2 <= len(tok[1]) <= 13:
            continue
        word = up(tok)
        intro = word in _TABLE_INTRO or (i == 0 and word in _FIRST_INTRO)
        if not intro and not (word == "TO" and first == "RENAME"):
            continue
        j = i + 1
        while up(sig[j] if j < n else None) in ("LOW_PRIORITY", "IGNORE", "QUICK"):
            j += 1
        while j < n and sig[j][0] in IDENTS and up(sig[j]) not in _NOT_ALIAS:
            name = ident(sig[j]).lower()
            j += 1
            if j + 1 < n and sig[j][1] == "." and sig[j + 1][0] in IDENTS:
                name = f"{name}.{ident(sig[j + 1]).lower()}"
                j += 2
            out.add(name)
            if up(sig[j] if j < n else None) == "AS":
                j += 1
            if j < n and sig[j][0] in IDENTS and up(sig[j]) not in _NOT_ALIAS:
                j += 1  # alias
            if not (j < n and sig[j] == ("p", ",")):
                break
            j += 1
    return out
