"""Keyword → category table and the token-level rules around it.

Contract: :func:`analyze` looks only at lexer tokens of one statement (no sqlglot) and
returns a :class:`KeywordVerdict`. It fails closed: a first token that is not a known
ASCII keyword gives ``Kind.UNKNOWN``. Flags found here (dangerous functions,
``INTO OUTFILE``, unbounded DELETE/UPDATE, ``SET GLOBAL``…) do not depend on sqlglot, so
they hold even when the AST is skipped or unavailable. Sub-statements that MySQL would
execute (``PREPARE … FROM 'literal'``, ``EXECUTE IMMEDIATE 'literal'``, ``SET STATEMENT …
FOR``, ``ANALYZE <stmt>``, ``EXPLAIN ANALYZE``) are returned in ``inner`` for the caller
to classify: text to lex (a literal's value) or the index where the carried statement
starts in the same tokens. A compound statement or a routine/trigger/event body gives
``body_at`` (walked by ``compound``); ``implied`` names statements that run implicitly
(``CREATE OR REPLACE`` drops, ``ALTER TABLE … DROP``).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field

from policies.sql import compound
from policies.sql.effects import Assignment, alter_drops, assignments
from policies.sql.lexer import IDENTS, NUMBER, ROWS, STRING, WORD, Token, unquote


class Kind(enum.StrEnum):
    READ = "read"
    WRITE = "write"
    DDL = "ddl"
    DCL = "dcl"
    ADMIN = "admin"
    FILE = "file"
    SESSION = "session"
    TRANSACTION = "transaction"
    EXEC = "exec"
    UNKNOWN = "unknown"


_ORDER = ("read", "transaction", "session", "write", "exec", "ddl", "dcl", "file", "admin", "unknown")
RANK: dict[Kind, int] = {Kind(v): i for i, v in enumerate(_ORDER)}


def stricter(a: Kind, b: Kind) -> Kind:
    """The stricter of two kinds (unknown > admin > file > dcl > ddl > exec > write > …)."""
    return a if RANK[a] >= RANK[b] else b


R, W, D, C, A, F, S, T, X = (Kind.READ, Kind.WRITE, Kind.DDL, Kind.DCL, Kind.ADMIN, Kind.FILE,
                             Kind.SESSION, Kind.TRANSACTION, Kind.EXEC)  # fmt: skip


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# First keyword → default category; handlers below refine by the following words.
FIRST: dict[str, Kind] = {
    **dict.fromkeys(_words("SELECT SHOW DESCRIBE DESC EXPLAIN HELP VALUES TABLE WITH"), R),
    **dict.fromkeys(_words("INSERT REPLACE UPDATE DELETE MERGE"), W),
    **dict.fromkeys(_words("TRUNCATE CREATE ALTER DROP RENAME"), D),
    **dict.fromkeys(_words("GRANT REVOKE"), C),
    **dict.fromkeys(
        _words(
            "SHUTDOWN RESTART KILL FLUSH RESET PURGE INSTALL UNINSTALL BINLOG CHANGE START STOP HANDLER XA "
            "LOCK CACHE OPTIMIZE REPAIR ANALYZE CHECK CHECKSUM CLONE IMPORT BACKUP"
        ),
        A,
    ),
    "LOAD": F,
    # UNLOCK only releases the session's own locks (mysqldump always sends it): harmless.
    **dict.fromkeys(_words("SET USE UNLOCK"), S),
    **dict.fromkeys(_words("BEGIN COMMIT ROLLBACK SAVEPOINT RELEASE"), T),
    **dict.fromkeys(_words("CALL PREPARE EXECUTE DEALLOCATE DO"), X),
}
# Statements whose AST sqlglot can refine (tables, WHERE, columns).
REFINABLE = _words(
    "SELECT TABLE VALUES DESCRIBE DESC EXPLAIN WITH INSERT REPLACE UPDATE DELETE MERGE "
    "CREATE ALTER DROP RENAME TRUNCATE"
)
# First keywords whose keyword string includes the second word ("LOAD DATA", "LOCK TABLES").
_TWO_WORDS = _words(
    "START STOP LOAD LOCK UNLOCK CHANGE CACHE RESET PURGE INSTALL UNINSTALL DEALLOCATE XA FLUSH CHECK "
    "CHECKSUM OPTIMIZE REPAIR RELEASE BACKUP SHOW"
)
# DDL object word → category (default DDL).
_OBJECTS: dict[str, Kind] = {
    **dict.fromkeys(
        _words(
            "TABLE VIEW INDEX DATABASE SCHEMA PROCEDURE FUNCTION TRIGGER EVENT SERVER TABLESPACE LOGFILE "
            "SEQUENCE PACKAGE SYNONYM"
        ),
        D,
    ),
    **dict.fromkeys(_words("USER ROLE"), C),
    **dict.fromkeys(_words("INSTANCE RESOURCE"), A),
    "PREPARE": X,
}
_DDL_MODIFIERS = _words(
    "OR REPLACE TEMPORARY UNIQUE FULLTEXT SPATIAL ONLINE OFFLINE IGNORE AGGREGATE ALGORITHM MERGE "
    "TEMPTABLE UNDEFINED SQL SECURITY INVOKER IF NOT EXISTS UNDO EXTERNAL NONBLOCKING"
)
DML_VERBS = _words("SELECT INSERT UPDATE DELETE REPLACE TABLE VALUES")
WRITE_VERBS = _words("INSERT UPDATE DELETE REPLACE")
_FUNC_FLAGS = {"LOAD_FILE": "load_file", "SLEEP": "sleep", "BENCHMARK": "sleep"}
_ROUTINES = _words("PROCEDURE FUNCTION TRIGGER EVENT")
# SET targets that turn off or redirect auditing/logging: admin, never plain session.
_ADMIN_VARS = _words(
    "SQL_LOG_BIN SQL_LOG_OFF GENERAL_LOG GENERAL_LOG_FILE SLOW_QUERY_LOG SLOW_QUERY_LOG_FILE LOG_OUTPUT"
)
# Words after which a table name follows (keyword fallback when there is no AST).
_TABLE_INTRO = _words("FROM JOIN STRAIGHT_JOIN INTO TABLE TABLES")
_FIRST_INTRO = _words("UPDATE TRUNCATE DESCRIBE DESC HANDLER")
_NOT_ALIAS = _words(
    "WHERE JOIN INNER LEFT RIGHT CROSS NATURAL STRAIGHT_JOIN ON USING SET GROUP ORDER LIMIT HAVING UNION "
    "FOR LOCK WINDOW PARTITION VALUES VALUE SELECT READ WRITE INTO USE FORCE IGNORE LOW_PRIORITY TO AS "
    "OPEN CLOSE LIKE WITH FIELDS COLUMNS LINES CHARACTER ROWS OUTFILE DUMPFILE TABLE KEY SKIP NOWAIT "
    "SHARE MODE IF EXISTS NOT"
)


@dataclass(slots=True)
class KeywordVerdict:
    """What the tokens alone say about one statement."""

    kind: Kind
    keyword: str
    flags: set[str] = field(default_factory=set)
    inner: list[str | int] = field(default_factory=list)
    """Carried statements: a literal's value to lex, or the index where they start."""
    refinable: bool = False
    kill_id: int | None = None
    kill_query: bool = False
    use_db: str | None = None
    body_at: int | None = None
    """Index of a compound statement or routine body to walk; -1: header not understood."""
    implied: list[str] = field(default_factory=list)
    assignments: tuple[Assignment, ...] = ()
    prepared_name: str | None = None
    routine: str | None = None
    object_name: str | None = None
    trigger_table: str | None = None


Handler = Callable[[KeywordVerdict, list[Token], int, bool], None]


def _up(tok: Token | None) -> str:
    """Upper-cased bare word, or "" for anything else (quoted identifiers are never keywords)."""
    return tok[1].upper() if tok is not None and tok[0] == WORD and tok[1].isascii() else ""


def _ident(tok: Token) -> str:
    return tok[1] if tok[0] == WORD else unquote(tok[1])


def render(sig: list[Token]) -> str:
    """Code text of a token slice (for re-lexing sub-statements)."""
    return " ".join(t for _, t in sig)


def analyze(sig: list[Token], *, no_backslash_escapes: bool = False) -> KeywordVerdict:
    """Classify one statement's significant tokens by keyword; see the module contract."""
    start = 0
    while start < len(sig) and sig[start] == ("p", "("):
        start += 1
    first = _up(sig[start]) if start < len(sig) else ""
    if start == 0 and compound.is_compound_start(sig, 0, top=True):  # BEGIN NOT ATOMIC, IF, labels…
        word = first if first in compound.OPENERS else _up(sig[2])
        keyword = "BEGIN NOT ATOMIC" if word == "BEGIN" else word
        return KeywordVerdict(Kind.EXEC, keyword, flags=scan(sig), body_at=0)
    kind = FIRST.get(first)
    if kind is None:
        shown = first or (sig[start][1][:32] if start < len(sig) else "")
        return KeywordVerdict(Kind.UNKNOWN, shown, flags=scan(sig))
    second = _up(sig[start + 1]) if start + 1 < len(sig) else ""
    v = KeywordVerdict(kind, f"{first} {second}" if first in _TWO_WORDS and second else first)
    v.refinable = first in REFINABLE
    handler = _HANDLERS.get(first)
    if handler is not None:
        handler(v, sig, start, no_backslash_escapes)
    v.flags |= scan(sig)
    v.refinable = v.refinable and v.kind in (R, W, D)
    return v


def scan(sig: list[Token]) -> set[str]:
    """Flags visible anywhere in the statement: dangerous function calls and INTO OUTFILE/DUMPFILE."""
    flags: set[str] = set()
    last = len(sig) - 1
    for i, (k, t) in enumerate(sig):
        if k not in IDENTS or i == last:
            continue
        nxt = sig[i + 1]
        if nxt == ("p", "(") or nxt[0] == ROWS:  # f(1, 2), (3), … lexes as one ROWS token
            # A quoted name calls the native function too: `load_file`('/etc/passwd').
            flag = _FUNC_FLAGS.get(_ident((k, t)).upper())
            if flag:
                flags.add(flag)
            if k == WORD and t.upper() == "ANALYSE" and i > 0 and _up(sig[i - 1]) == "PROCEDURE":
                flags.add("procedure_analyse")
        elif len(t) == 4 and t.upper() == "INTO" and _up(nxt) in ("OUTFILE", "DUMPFILE"):
            flags.add("outfile")
    return flags


def unbounded(sig: list[Token], verb_at: int) -> bool:
    """DELETE/UPDATE at ``verb_at``: True unless single-table with a WHERE at paren depth 0.

    LIMIT alone is unbounded; multi-table forms (``DELETE t1 FROM t1 JOIN t2``, ``USING``,
    ``UPDATE t1 JOIN t2`` / ``UPDATE t1, t2``) count as unbounded whatever their WHERE.
    """
    verb = _up(sig[verb_at])
    i = verb_at + 1
    while _up(sig[i] if i < len(sig) else None) in ("LOW_PRIORITY", "QUICK", "IGNORE"):
        i += 1
    if verb == "DELETE" and _up(sig[i] if i < len(sig) else None) != "FROM":
        return True
    depth, before_set = 0, True
    for tok in sig[i:]:
        if tok[0] == "p":
            depth += {"(": 1, ")": -1}.get(tok[1], 0)
            if depth == 0 and tok[1] == "," and before_set:
                return True
            continue
        word = _up(tok) if depth == 0 else ""
        if word == "WHERE":
            return False
        if word in ("JOIN", "STRAIGHT_JOIN", "USING") and before_set:
            return True
        if word == "SET" and verb == "UPDATE":
            before_set = False
    return True


def fallback_tables(sig: list[Token]) -> set[str]:
    """Best-effort table names after FROM/JOIN/INTO/TABLE…, for statements without an AST."""
    out: set[str] = set()
    n = len(sig)
    first = _up(sig[0]) if sig else ""
    for i, tok in enumerate(sig):
        if tok[0] != WORD or not 2 <= len(tok[1]) <= 13:
            continue
        word = _up(tok)
        intro = word in _TABLE_INTRO or (i == 0 and word in _FIRST_INTRO)
        if not intro and not (word == "TO" and first == "RENAME"):
            continue
        j = i + 1
        while _up(sig[j] if j < n else None) in ("LOW_PRIORITY", "IGNORE", "QUICK"):
            j += 1
        while j < n and sig[j][0] in IDENTS and _up(sig[j]) not in _NOT_ALIAS:
            name = _ident(sig[j]).lower()
            j += 1
            if j + 1 < n and sig[j][1] == "." and sig[j + 1][0] in IDENTS:
                name = f"{name}.{_ident(sig[j + 1]).lower()}"
                j += 2
            out.add(name)
            if _up(sig[j] if j < n else None) == "AS":
                j += 1
            if j < n and sig[j][0] in IDENTS and _up(sig[j]) not in _NOT_ALIAS:
                j += 1  # alias
            if not (j < n and sig[j] == ("p", ",")):
                break
            j += 1
    return out


# ---- handlers: (verdict, tokens, index of first keyword, no_backslash_escapes) -> None


def _skip_account(sig: list[Token], j: int) -> int:
    """Index after a ``user@host`` / ``CURRENT_USER()`` account starting at ``j``."""
    j += 1
    if j < len(sig) and sig[j][1] == "@":
        return j + 2
    if j + 1 < len(sig) and sig[j] == ("p", "(") and sig[j + 1] == ("p", ")"):
        return j + 2
    return j


def _ddl(v: KeywordVerdict, sig: list[Token], i: int, nbe: bool) -> None:
    j, limit = i + 1, min(len(sig), i + 16)
    while j < limit:
        word = _up(sig[j])
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
    if v.keyword == "CREATE FUNCTION" and any(_up(t) == "SONAME" for t in sig):
        v.kind, v.body_at = A, None  # a UDF from a shared library: code execution on the server
    if v.keyword.startswith("RENAME"):
        v.refinable = False  # RENAME TABLE a TO b, …: the keyword layer knows all of it


def _ddl_effects(v: KeywordVerdict, sig: list[Token], i: int, obj_at: int) -> None:
    """Implied drops, routine bodies and names of the DDL statement at ``i`` (object word at ``obj_at``)."""
    first, word = _up(sig[i]), _up(sig[obj_at])
    if first == "CREATE" and any(_up(t) == "REPLACE" for t in sig[i + 1 : obj_at]):
        v.implied.append(f"DROP {word}")  # CREATE OR REPLACE drops the old object first
    if first == "CREATE" and word == "PACKAGE":
        v.body_at, v.refinable = -1, False  # Oracle-mode package bodies are not walked: fail closed
    if first == "DROP" and word == "PREPARE":
        v.prepared_name = _name(sig, obj_at + 1)
    if first == "ALTER" and word == "TABLE":
        v.implied += alter_drops(sig, obj_at + 1)
    if word in _ROUTINES and (first == "CREATE" or (first == "ALTER" and word == "EVENT")):
        header = compound.body_start(sig, obj_at)
        v.refinable = False
        v.object_name, v.trigger_table = header.name, header.table
        if first == "CREATE" or header.start >= 0:  # ALTER EVENT without DO has no body
            v.body_at = header.start


def _set(v: KeywordVerdict, sig: list[Token], i: int, nbe: bool) -> None:
    # Quoted names count: `sql_log_bin` is a valid system variable reference.
    words = {_ident(t).upper() for t in sig[i + 1 :] if t[0] in IDENTS}
    second = _up(sig[i + 1]) if i + 1 < len(sig) else ""
    if second == "STATEMENT":  # MariaDB SET STATEMENT var=x FOR <statement>
        v.keyword = "SET STATEMENT"
        depth = 0
        for j in range(i + 2, len(sig)):
            depth += {"(": 1, ")": -1}.get(sig[j][1], 0) if sig[j][0] == "p" else 0
            if depth == 0 and _up(sig[j]) == "FOR" and j + 1 < len(sig):
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


def _start(v: KeywordVerdict, sig: list[Token], i: int, nbe: bool) -> None:
    if v.keyword == "START TRANSACTION":
        v.kind = T


def _begin(v: KeywordVerdict, sig: list[Token], i: int, nbe: bool) -> None:
    # BEGIN [WORK] starts a transaction; BEGIN NOT ATOMIC is caught by analyze() as a
    # compound statement; anything else is not understood.
    rest = [_up(t) for t in sig[i + 1 :]]
    if rest not in ([], ["WORK"]):
        v.kind = Kind.UNKNOWN


def _load(v: KeywordVerdict, sig: list[Token], i: int, nbe: bool) -> None:
    if v.keyword in ("LOAD DATA", "LOAD XML"):
        v.flags.add("load_data")
    elif v.keyword == "LOAD INDEX":
        v.kind = A
    else:
        v.kind = Kind.UNKNOWN


def _lock(v: KeywordVerdict, sig: list[Token], i: int, nbe: bool) -> None:
    words = [_up(t) for t in sig[i:]]
    if v.keyword.startswith("LOCK") or v.keyword == "BACKUP LOCK":
        v.flags.add("lock")
    elif "LOCK" in words or "EXPORT" in words:  # FLUSH TABLES … WITH READ LOCK / FOR EXPORT
        v.flags.add("lock")


def _kill(v: KeywordVerdict, sig: list[Token], i: int, nbe: bool) -> None:
    v.flags.add("kill")
    j = i + 1
    while j < len(sig) and _up(sig[j]) in ("HARD", "SOFT", "CONNECTION", "QUERY", "ID"):
        v.kill_query = v.kill_query or _up(sig[j]) == "QUERY"
        j += 1
    if j == len(sig) - 1 and sig[j][0] == NUMBER and sig[j][1].isdigit():
        v.kill_id = int(sig[j][1])


def _use(v: KeywordVerdict, sig: list[Token], i: int, nbe: bool) -> None:
    v.flags.add("use")
    if i + 1 < len(sig) and sig[i + 1][0] in IDENTS:
        v.use_db = _ident(sig[i + 1])


def _name(sig: list[Token], j: int) -> str | None:
    """A prepared statement's name at ``j`` (case-insensitive in the server: lower-cased)."""
    return _ident(sig[j]).lower() if j < len(sig) and sig[j][0] in IDENTS else None


def _literal_source(v: KeywordVerdict, source: list[Token], nbe: bool) -> None:
    """``'a' 'b'`` (adjacent literals concatenate, as in MySQL) is carried; anything else is dynamic."""
    if source and all(t[0] == STRING for t in source):
        v.inner.append("".join(unquote(t[1], no_backslash_escapes=nbe) for t in source))
    else:
        v.flags.add("dynamic_sql")


def _prepare(v: KeywordVerdict, sig: list[Token], i: int, nbe: bool) -> None:
    if len(sig) < i + 4 or _up(sig[i + 2]) != "FROM":
        v.kind = Kind.UNKNOWN
        return
    v.prepared_name = _name(sig, i + 1)
    _literal_source(v, sig[i + 3 :], nbe)


def _execute(v: KeywordVerdict, sig: list[Token], i: int, nbe: bool) -> None:
    if _up(sig[i + 1] if i + 1 < len(sig) else None) == "IMMEDIATE":  # MariaDB
        v.keyword = "EXECUTE IMMEDIATE"
        end = next((j for j in range(i + 2, len(sig)) if _up(sig[j]) == "USING"), len(sig))
        _literal_source(v, sig[i + 2 : end], nbe)
    else:
        v.prepared_name = _name(sig, i + 1)


def _deallocate(v: KeywordVerdict, sig: list[Token], i: int, nbe: bool) -> None:
    if v.keyword == "DEALLOCATE PREPARE":
        v.prepared_name = _name(sig, i + 2)


def _call(v: KeywordVerdict, sig: list[Token], i: int, nbe: bool) -> None:
    v.flags.add("procedure_call")
    v.routine = compound.qualified(sig, i + 1)[0]


def _analyze(v: KeywordVerdict, sig: list[Token], i: int, nbe: bool) -> None:
    """ANALYZE TABLE is maintenance; MariaDB ``ANALYZE <stmt>`` and ``EXPLAIN ANALYZE`` execute it."""
    nxt = _up(sig[i + 1]) if i + 1 < len(sig) else ""
    if v.keyword == "ANALYZE" and nxt in ("TABLE", "NO_WRITE_TO_BINLOG", "LOCAL"):
        v.keyword = "ANALYZE TABLE"
        return
    if v.keyword != "ANALYZE" and nxt != "ANALYZE":
        return
    v.keyword = "ANALYZE" if v.keyword == "ANALYZE" else f"{v.keyword} ANALYZE"
    for j in range(i + 1, len(sig)):
        if _up(sig[j]) in DML_VERBS or _up(sig[j]) == "WITH":
            v.kind, v.refinable = R, False
            v.inner.append(j)
            return
    v.kind = Kind.UNKNOWN


def _dml(v: KeywordVerdict, sig: list[Token], i: int, nbe: bool) -> None:
    if v.keyword in ("DELETE", "UPDATE") and unbounded(sig, i):
        v.flags.add("unbounded_write")
    elif v.keyword == "TRUNCATE":
        v.flags.add("unbounded_write")
    elif v.keyword == "WITH":
        depth = 0
        for j in range(i + 1, len(sig)):
            depth += {"(": 1, ")": -1}.get(sig[j][1], 0) if sig[j][0] == "p" else 0
            verb = _up(sig[j]) if depth == 0 else ""
            if verb in WRITE_VERBS:
                v.kind = W
                v.flags.add("cte_write")
                if verb in ("DELETE", "UPDATE") and unbounded(sig, j):
                    v.flags.add("unbounded_write")
                return
            if verb in DML_VERBS:
                return
        v.kind = Kind.UNKNOWN


def _flag(name: str) -> Handler:
    def handler(v: KeywordVerdict, sig: list[Token], i: int, nbe: bool) -> None:
        v.flags.add(name)

    return handler


_HANDLERS: dict[str, Handler] = {
    **dict.fromkeys(("CREATE", "ALTER", "DROP", "RENAME"), _ddl),
    **dict.fromkeys(("DELETE", "UPDATE", "TRUNCATE", "WITH"), _dml),
    **dict.fromkeys(("LOCK", "FLUSH", "BACKUP"), _lock),
    **dict.fromkeys(("ANALYZE", "EXPLAIN", "DESCRIBE", "DESC"), _analyze),
    "SET": _set, "START": _start, "BEGIN": _begin, "LOAD": _load, "KILL": _kill, "USE": _use,
    "PREPARE": _prepare, "EXECUTE": _execute, "CALL": _call, "GRANT": _flag("grant"), "DEALLOCATE": _deallocate,
}  # fmt: skip
