"""Keyword rules for DDL (``CREATE``, ``ALTER``, ``DROP``, ``RENAME``): the object word
decides the kind (``CREATE USER`` is DCL, ``CREATE FUNCTION … SONAME`` admin); implied
drops, routine bodies and object names are recorded on the verdict."""

from __future__ import annotations

from policies.sql import routine_header
from policies.sql.effects import alter_drops
from policies.sql.keyword_verdict import KeywordVerdict
from policies.sql.kinds import A, C, D, Kind, X
from policies.sql.lexer import Token
from policies.sql.tokens import lower_name, up, word_set

# DDL object word → category (default DDL).
_OBJECTS: dict[str, Kind] = {
    **dict.fromkeys(
        word_set(
            "TABLE VIEW INDEX DATABASE SCHEMA PROCEDURE FUNCTION TRIGGER EVENT SERVER TABLESPACE LOGFILE "
            "SEQUENCE PACKAGE SYNONYM"
        ),
        D,
    ),
    **dict.fromkeys(word_set("USER ROLE"), C),
    **dict.fromkeys(word_set("INSTANCE RESOURCE"), A),
    "PREPARE": X,
}
_DDL_MODIFIERS = word_set(
    "OR REPLACE TEMPORARY UNIQUE FULLTEXT SPATIAL ONLINE OFFLINE IGNORE AGGREGATE ALGORITHM MERGE "
    "TEMPTABLE UNDEFINED SQL SECURITY INVOKER IF NOT EXISTS UNDO EXTERNAL NONBLOCKING"
)
_ROUTINES = word_set("PROCEDURE FUNCTION TRIGGER EVENT")


def _skip_account(sig: list[Token], j: int) -> int:
    """Index after a ``user@host`` / ``CURRENT_USER()`` account starting at ``j``."""
    j += 1
    if j < len(sig) and sig[j][1] == "@":
        return j + 2
    if j + 1 < len(sig) and sig[j] == ("p", "(") and sig[j + 1] == ("p", ")"):
        return j + 2
    return j


def ddl_rule(v: KeywordVerdict, sig: list[Token], i: int, nbe: bool) -> None:
    j, limit = i + 1, min(len(sig), i + 16)
    while j < limit:
        word = up(sig[j])
        if word in _OBJECTS:
            v.keyword, v.kind = f"{v.keyword} {word}", _OBJECTS[word]
            _ddl_effects(v, sig, i, j)
            break
        if word == "DEFINER" and j + 1 < len(sig) and sig[j + 1][1] == "=":
            # Skip the account: it may be named like an object word ("user").
            j = _skip_account(sig, j + 2)
            continue
        if word not in _DDL_MODIFIERS and word != "DEFINER" and sig[j][1] != "=":
            break
        j += 1
    if v.keyword == "CREATE FUNCTION" and any(up(t) == "SONAME" for t in sig):
        v.kind, v.body_at = A, None  # a UDF from a shared library: code execution on the server
    if v.keyword.startswith("RENAME"):
        v.refinable = False  # RENAME TABLE a TO b, …: the keyword layer knows all of it


def _ddl_effects(v: KeywordVerdict, sig: list[Token], i: int, obj_at: int) -> None:
    """Implied drops, routine bodies and names of the DDL statement at ``i`` (object word at ``obj_at``)."""
    first, word = up(sig[i]), up(sig[obj_at])
    if first == "CREATE" and any(up(t) == "REPLACE" for t in sig[i + 1 : obj_at]):
        v.implied.append(f"DROP {word}")  # CREATE OR REPLACE drops the old object first
    if first == "CREATE" and word == "PACKAGE":
        v.body_at, v.refinable = -1, False  # Oracle-mode package bodies are not walked: fail closed
    if first == "DROP" and word == "PREPARE":
        v.prepared_name = lower_name(sig, obj_at + 1)
    if first == "ALTER" and word == "TABLE":
        v.implied += alter_drops(sig, obj_at + 1)
        if any(up(t) == "IGNORE" for t in sig[i + 1 : obj_at]):
            v.implied.append("DELETE")  # ALTER IGNORE deletes the rows that collide on a new unique key
    if word in _ROUTINES and (first == "CREATE" or (first == "ALTER" and word == "EVENT")):
        header = routine_header.body_start(sig, obj_at)
        v.refinable = False
        v.object_name, v.trigger_table = header.name, header.table
        if first == "CREATE" or header.start >= 0:  # ALTER EVENT without DO has no body
            v.body_at = header.start
