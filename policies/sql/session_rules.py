"""Keyword rules for session and server statements: ``SET`` (assignments, and the forms
that are really DCL, admin or transaction control), ``START``/``BEGIN``, ``USE``,
``LOAD``, locks and ``KILL``."""

from __future__ import annotations

from policies.sql.effects import assignments
from policies.sql.keyword_verdict import KeywordVerdict
from policies.sql.kinds import A, C, Kind, T
from policies.sql.lexer import IDENTS, NUMBER, Token
from policies.sql.tokens import ident, up, word_set

# SET targets that turn off or redirect auditing/logging: admin, never plain session.
_ADMIN_VARS = word_set(
    "SQL_LOG_BIN SQL_LOG_OFF GENERAL_LOG GENERAL_LOG_FILE SLOW_QUERY_LOG SLOW_QUERY_LOG_FILE LOG_OUTPUT"
)


def set_rule(v: KeywordVerdict, sig: list[Token], i: int, nbe: bool) -> None:
    # Quoted names count: `sql_log_bin` is a valid system variable reference.
    words = {ident(t).upper() for t in sig[i + 1 :] if t[0] in IDENTS}
    second = up(sig[i + 1]) if i + 1 < len(sig) else ""
    if second == "STATEMENT":  # MariaDB SET STATEMENT var=x FOR <statement>
        v.keyword = "SET STATEMENT"
        depth = 0
        for j in range(i + 2, len(sig)):
            depth += {"(": 1, ")": -1}.get(sig[j][1], 0) if sig[j][0] == "p" else 0
            if depth == 0 and up(sig[j]) == "FOR" and j + 1 < len(sig):
                v.inner.append(j + 1)
                v.assignments = assignments(sig[:j], i + 1, no_backslash_escapes=nbe)
                break
        else:
            v.kind = Kind.UNKNOWN
    elif second in ("PASSWORD", "ROLE") or (second == "DEFAULT" and "ROLE" in words):
        v.kind, v.keyword = C, f"SET {second}" + (" ROLE" if second == "DEFAULT" else "")
    elif second in ("NAMES", "CHARSET") or (second == "CHARACTER" and "SET" in words):
        v.keyword = "SET NAMES" if second == "NAMES" else "SET CHARACTER SET"
    elif second == "RESOURCE":
        v.kind, v.keyword = A, "SET RESOURCE GROUP"
    elif "TRANSACTION" in words and second in ("TRANSACTION", "SESSION", "LOCAL"):
        v.kind, v.keyword = T, "SET TRANSACTION"
    if second not in ("STATEMENT", "PASSWORD", "ROLE", "DEFAULT", "RESOURCE", "TRANSACTION"):
        v.assignments = assignments(sig, i, no_backslash_escapes=nbe)
    if words & {"GLOBAL", "PERSIST", "PERSIST_ONLY"}:
        v.kind, v.keyword = A, "SET PERSIST" if "GLOBAL" not in words else "SET GLOBAL"
        v.flags.add("set_global")
    if "SQL_LOG_BIN" in words:
        v.flags.add("set_log_bin")
    if words & _ADMIN_VARS:
        v.kind = A
    if "SQL_MODE" in words:
        v.flags.add("set_sql_mode")


def start_rule(v: KeywordVerdict, sig: list[Token], i: int, nbe: bool) -> None:
    if v.keyword == "START TRANSACTION":
        v.kind = T


def begin_rule(v: KeywordVerdict, sig: list[Token], i: int, nbe: bool) -> None:
    # BEGIN [WORK] starts a transaction; BEGIN NOT ATOMIC is caught by analyze() as a
    # compound statement; anything else is not understood.
    rest = [up(t) for t in sig[i + 1 :]]
    if rest not in ([], ["WORK"]):
        v.kind = Kind.UNKNOWN


def load_rule(v: KeywordVerdict, sig: list[Token], i: int, nbe: bool) -> None:
    if v.keyword in ("LOAD DATA", "LOAD XML"):
        v.flags.add("load_data")
    elif v.keyword == "LOAD INDEX":
        v.kind = A
    else:
        v.kind = Kind.UNKNOWN


def lock_rule(v: KeywordVerdict, sig: list[Token], i: int, nbe: bool) -> None:
    words = [up(t) for t in sig[i:]]
    if v.keyword.startswith("LOCK") or v.keyword == "BACKUP LOCK":
        v.flags.add("lock")
    elif "LOCK" in words or "EXPORT" in words:  # FLUSH TABLES … WITH READ LOCK / FOR EXPORT
        v.flags.add("lock")


def kill_rule(v: KeywordVerdict, sig: list[Token], i: int, nbe: bool) -> None:
    v.flags.add("kill")
    j = i + 1
    while j < len(sig) and up(sig[j]) in ("HARD", "SOFT", "CONNECTION", "QUERY", "ID"):
        v.kill_query = v.kill_query or up(sig[j]) == "QUERY"
        j += 1
    if j == len(sig) - 1 and sig[j][0] == NUMBER and sig[j][1].isdigit():
        v.kill_id = int(sig[j][1])


def use_rule(v: KeywordVerdict, sig: list[Token], i: int, nbe: bool) -> None:
    v.flags.add("use")
    if i + 1 < len(sig) and sig[i + 1][0] in IDENTS:
        v.use_db = ident(sig[i + 1])
