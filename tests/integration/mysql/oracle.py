"""Differential oracle: the classifier against MariaDB's own parser (issue 14, item 8).

The server is asked as an unprivileged user (every interesting statement fails on
privileges *after* parsing) and its classification is read from
``performance_schema.events_statements_history`` (``EVENT_NAME`` =
``statement/sql/<command>``, recorded even for failed statements). A statement the server
ran as a command class that none of the classifier's effective statements reports is a
disagreement — unless the bastion denies the statement anyway (kind ``unknown``, several
statements, ``unparseable``), which is the fail-closed direction.

Used by tests/integration/mysql/test_oracle.py (a few thousand cases per run) and by
``bench/classify.py --oracle N`` (long runs).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pymysql
from hypothesis import strategies as st

from policies.sql import Classification, Kind, classify

SCHEMA = "oracle_scratch"
USER = "oracle_probe"

# ---- statements: space-separated tokens, so disguises can act between tokens

BASE = [
    "SELECT a FROM t", "SELECT * FROM t WHERE a = 1", "SELECT a , b FROM t JOIN u ON t.a = u.a",
    "INSERT INTO t ( a ) VALUES ( 1 )", "INSERT INTO t SELECT * FROM u", "REPLACE INTO t VALUES ( 1 , 'x' )",
    "INSERT INTO t ( a ) VALUES ( 1 ) ON DUPLICATE KEY UPDATE a = 2",
    "UPDATE t SET a = 2 WHERE a = 1", "UPDATE t , u SET t.a = 1", "UPDATE t SET a = 1",
    "DELETE FROM t WHERE a = 1", "DELETE t FROM t JOIN u ON t.a = u.a", "DELETE FROM t", "DELETE FROM t LIMIT 1",
    "TRUNCATE TABLE t", "TRUNCATE t", "DROP TABLE t", "DROP TABLE IF EXISTS t , u", "DROP TEMPORARY TABLE t",
    "DROP DATABASE oracle_other", "DROP SCHEMA IF EXISTS oracle_other", "DROP VIEW v", "DROP INDEX i ON t",
    "DROP PROCEDURE p", "DROP FUNCTION f", "DROP TRIGGER tr", "DROP EVENT e", "DROP USER nobody",
    "DROP SEQUENCE s", "CREATE TABLE t2 ( a INT )", "CREATE OR REPLACE TABLE t ( a INT )",
    "CREATE TABLE t3 AS SELECT * FROM t", "CREATE OR REPLACE VIEW v AS SELECT a FROM t",
    "CREATE INDEX i ON t ( a )", "CREATE SEQUENCE s", "ALTER TABLE t DROP COLUMN b", "ALTER TABLE t DROP b",
    "ALTER TABLE t ADD COLUMN c INT", "ALTER TABLE t RENAME TO t9", "RENAME TABLE t TO t9",
    "ALTER TABLE t ENGINE = InnoDB", "ALTER DATABASE oracle_other CHARACTER SET utf8mb4",
    "CREATE PROCEDURE p ( ) SELECT 1", "CREATE PROCEDURE p ( ) BEGIN SELECT 1 ; DELETE FROM t ; END",
    "CREATE PROCEDURE p ( IN x INT ) BEGIN IF x > 0 THEN DROP TABLE t ; ELSE SELECT 2 ; END IF ; END",
    "CREATE FUNCTION f ( ) RETURNS INT RETURN 1", "CREATE FUNCTION f ( ) RETURNS INT BEGIN RETURN 2 ; END",
    "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1",
    "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO DELETE FROM t", "ALTER EVENT e DO TRUNCATE t",
    "GRANT SELECT ON t TO nobody", "REVOKE SELECT ON t FROM nobody", "CREATE USER nobody", "CREATE ROLE r",
    "SET PASSWORD FOR nobody = PASSWORD ( 'x' )", "LOAD DATA INFILE '/tmp/x' INTO TABLE t",
    "SELECT a INTO OUTFILE '/tmp/oracle_x' FROM t", "SELECT LOAD_FILE ( '/etc/hostname' )", "KILL 999999",
    "KILL QUERY 999999", "FLUSH TABLES", "LOCK TABLES t READ", "UNLOCK TABLES", "SHOW TABLES", "CALL p ( )",
    "CALL oracle_scratch.p", "DO 1", "SET @x = 1", "HANDLER t OPEN", "ANALYZE TABLE t", "OPTIMIZE TABLE t",
    "CHECK TABLE t", "REPAIR TABLE t", "CHECKSUM TABLE t", "SHUTDOWN", "INSTALL SONAME 'ha_blackhole'",
    "PURGE BINARY LOGS BEFORE NOW ( )", "RESET MASTER", "CHANGE MASTER TO MASTER_HOST = 'x'", "START SLAVE",
    "BEGIN NOT ATOMIC DELETE FROM t ; END", "IF 1 THEN DELETE FROM t ; END IF",
    "CASE WHEN 1 THEN DROP TABLE t ; END CASE", "WHILE 0 DO TRUNCATE t ; END WHILE",
    "BEGIN NOT ATOMIC DECLARE x INT DEFAULT 1 ; DECLARE CONTINUE HANDLER FOR SQLEXCEPTION SET x = 0 ; "
    "DROP TABLE t ; END",
    "SELECT a FROM t PROCEDURE ANALYSE ( )", "EXPLAIN DELETE FROM t", "DESCRIBE t", "HELP 'x'",
    "XA START 'x'", "BACKUP STAGE START", "SET GLOBAL max_connections = 10", "SET sql_log_bin = 0",
    "BINLOG 'AAAA'", "SELECT 1 FROM DUAL", "VALUES ( 1 )", "TABLE t", "WITH x AS ( SELECT 1 ) SELECT * FROM x",
    "INSERT INTO t VALUES " + " , ".join(f"( {i} , 'v{i}' )" for i in range(9)),
    "SELECT * FROM t WHERE ( a , b ) IN ( " + " , ".join(f"( {i} , 'v' )" for i in range(9)) + " )",
]  # fmt: skip
DML = ("SELECT a FROM t", "DELETE FROM t WHERE a = 1", "UPDATE t SET a = 2 WHERE a = 1", "INSERT INTO t ( a ) "
       "VALUES ( 1 )", "DELETE FROM t", "REPLACE INTO t VALUES ( 1 , 'x' )")  # fmt: skip
WRAPPERS = ["{}", "SET STATEMENT max_statement_time = 1 FOR {}", "SET STATEMENT sql_select_limit = 1 , "
            "max_statement_time = 2 FOR {}", "EXPLAIN {}", "EXECUTE IMMEDIATE {lit}", "PREPARE oracle_p FROM {lit}",
            "ANALYZE {}", "ANALYZE FORMAT = JSON {}"]  # fmt: skip
SEPARATORS = [" ", "  ", "\n", "\t", "/**/", " /* c */ ", " -- c\n", " #c\n", "\r\n"]
VERSIONED = ["/*!{} */", "/*!50000 {} */", "/*M!100000 {} */", "/*!{}*/"]


@dataclass(frozen=True)
class Case:
    sql: str
    nbe: bool
    ansi: bool

    @property
    def sql_mode(self) -> str:
        return ",".join(m for m, on in (("NO_BACKSLASH_ESCAPES", self.nbe), ("ANSI_QUOTES", self.ansi)) if on)


def _literal(text: str, nbe: bool, ansi: bool, double: bool) -> str:
    """``text`` as a string literal the server will unquote back to ``text``."""
    quote = '"' if double and not ansi else "'"
    body = text.replace(quote, quote * 2)
    if not nbe:
        body = body.replace("\\", "\\\\")
    return quote + body + quote


@st.composite
def cases(draw: st.DrawFn) -> Case:
    """A statement from BASE or DML, maybe wrapped, with disguises between and around tokens."""
    nbe, ansi = draw(st.booleans()), draw(st.booleans())
    wrapper = draw(st.sampled_from(WRAPPERS))
    base = draw(st.sampled_from(DML if wrapper.startswith("ANALYZE") else BASE))
    inner = disguise(draw, base)
    if "{lit}" in wrapper:
        sql = wrapper.format(lit=_literal(inner, nbe, ansi, draw(st.booleans())))
        sql = disguise(draw, sql, literal_safe=True)
    else:
        sql = disguise(draw, wrapper.format(inner), literal_safe=True) if wrapper != "{}" else inner
    return Case(sql, nbe, ansi)


def disguise(draw: st.DrawFn, sql: str, *, literal_safe: bool = False) -> str:
    """Re-join tokens with random separators, random case, backquotes and versioned comments."""
    if literal_safe:  # only the outermost words of a wrapper: never split a literal
        head, sep, rest = sql.partition(" ")
        return _case(draw, head) + draw(st.sampled_from(SEPARATORS)) + rest if sep else sql
    out: list[str] = []
    for token in sql.split(" "):
        word = _case(draw, token)
        if token in ("t", "u", "a", "b") and draw(st.integers(0, 3)) == 0:
            word = f"`{token}`"
        if token.isalpha() and token.isupper() and draw(st.integers(0, 9)) == 0:
            word = draw(st.sampled_from(VERSIONED)).format(word)
        out.append(word)
        out.append(draw(st.sampled_from(SEPARATORS)) if draw(st.integers(0, 3)) == 0 else " ")
    return "".join(out[:-1])


def _case(draw: st.DrawFn, token: str) -> str:
    if not token.isalpha() or "'" in token:
        return token
    style = draw(st.integers(0, 3))
    if style == 1:
        return token.lower()
    if style == 2:
        return "".join(c.lower() if i % 2 else c.upper() for i, c in enumerate(token))
    return token


# ---- the server side


class Oracle:
    """An unprivileged session on a scratch schema plus a root session reading its statement history."""

    def __init__(self, socket: Path) -> None:
        self.root = pymysql.connect(unix_socket=str(socket), user="root", autocommit=True)
        with self.root.cursor() as c:
            for stmt in (f"CREATE DATABASE IF NOT EXISTS {SCHEMA}",
                         f"CREATE TABLE IF NOT EXISTS {SCHEMA}.t (a INT, b VARCHAR(10))",
                         f"CREATE TABLE IF NOT EXISTS {SCHEMA}.u (a INT, b VARCHAR(10))",
                         f"CREATE TABLE IF NOT EXISTS {SCHEMA}.visible (a INT)",
                         f"CREATE USER IF NOT EXISTS '{USER}'@'localhost'",
                         f"GRANT SELECT ON {SCHEMA}.visible TO '{USER}'@'localhost'",
                         "UPDATE performance_schema.setup_consumers SET ENABLED = 'YES' "
                         "WHERE NAME IN ('events_statements_current', 'events_statements_history')"):  # fmt: skip
                c.execute(stmt)
        self.user = pymysql.connect(unix_socket=str(socket), user=USER, database=SCHEMA, autocommit=True,
                                    client_flag=pymysql.constants.CLIENT.MULTI_STATEMENTS)  # fmt: skip
        with self.user.cursor() as c:
            c.execute("SET SESSION max_statement_time = 2")
            c.execute("SELECT CONNECTION_ID()")
            connection_id = c.fetchone()[0]
        with self.root.cursor() as c:
            c.execute("SELECT THREAD_ID FROM performance_schema.threads WHERE PROCESSLIST_ID = %s", (connection_id,))
            self.thread_id = c.fetchone()[0]
        self.mode = None
        self.last_event = self._last_event()

    def _last_event(self) -> int:
        with self.root.cursor() as c:
            c.execute("SELECT COALESCE(MAX(EVENT_ID), 0) FROM performance_schema.events_statements_history "
                      "WHERE THREAD_ID = %s", (self.thread_id,))  # fmt: skip
            return int(c.fetchone()[0])

    def commands(self, case: Case) -> list[str]:
        """Command classes the server recorded for ``case`` (``drop_table``, ``error``…), and for each
        statement a compound body ran, ``sp:<its text>``."""
        with self.user.cursor() as c:
            if case.sql_mode != self.mode:
                c.execute("SET SESSION sql_mode = %s", (case.sql_mode,))
                self.mode = case.sql_mode
                self.last_event = self._last_event()
            try:
                c.execute(case.sql)
                while c.nextset():
                    pass
            except pymysql.MySQLError:
                pass
        with self.root.cursor() as c:
            c.execute("SELECT EVENT_ID, EVENT_NAME, NESTING_EVENT_ID, SQL_TEXT "
                      "FROM performance_schema.events_statements_history "
                      "WHERE THREAD_ID = %s AND EVENT_ID > %s ORDER BY EVENT_ID",
                      (self.thread_id, self.last_event))  # fmt: skip
            rows = c.fetchall()
        if rows:
            self.last_event = max(int(r[0]) for r in rows)
        out = []
        for _, name, nesting, text in rows:
            if nesting is None:
                out.append(str(name).removeprefix("statement/sql/"))
            elif name == "statement/sp/stmt" and text:
                out.append("sp:" + str(text))
        return out

    def close(self) -> None:
        self.user.close()
        with self.root.cursor() as c:
            c.execute(f"DROP USER IF EXISTS '{USER}'@'localhost'")
            c.execute(f"DROP DATABASE IF EXISTS {SCHEMA}")
        self.root.close()


# ---- the comparison

_VERBS = {"drop": "DROP", "create": "CREATE", "alter": "ALTER", "rename": "RENAME", "truncate": "TRUNCATE",
          "delete": "DELETE", "update": "UPDATE", "insert": "INSERT", "replace": "REPLACE", "grant": "GRANT",
          "revoke": "REVOKE", "load": "LOAD", "call": "CALL", "prepare": "PREPARE", "execute": "EXECUTE",
          "kill": "KILL", "flush": "FLUSH", "lock": "LOCK", "install": "INSTALL", "uninstall": "UNINSTALL",
          "shutdown": "SHUTDOWN", "purge": "PURGE", "reset": "RESET", "backup": "BACKUP", "xa": "XA",
          "change": "CHANGE", "slave": "START", "binlog": "BINLOG", "optimize": "OPTIMIZE", "repair": "REPAIR",
          "dealloc": "DEALLOCATE"}  # fmt: skip
_OBJECTS = {"table": ("TABLE",), "db": ("DATABASE", "SCHEMA"), "index": ("INDEX",), "view": ("VIEW",),
            "procedure": ("PROCEDURE",), "function": ("FUNCTION",), "spfunction": ("FUNCTION",),
            "trigger": ("TRIGGER",), "event": ("EVENT",), "user": ("USER",), "role": ("ROLE",),
            "sequence": ("SEQUENCE",), "server": ("SERVER",)}  # fmt: skip
_NOT_EXECUTED = ("EXPLAIN", "DESCRIBE", "DESC")
_DML = {"select", "insert", "insert_select", "update", "update_multi", "delete", "delete_multi", "replace",
        "replace_select"}  # fmt: skip


def denied_anyway(c: Classification) -> bool:
    """The bastion refuses it whatever the rules say (built-in fail-closed rules)."""
    return c.kind is Kind.UNKNOWN or bool(c.flags & {"multi_statement", "unparseable", "lex_error"})


def explained(command: str, c: Classification, nbe: bool = False, ansi: bool = False) -> bool:
    """Does some effective statement of ``c`` report the server's command class?"""
    keywords = [st.keyword for st in c.effective]
    if command.startswith("sp:"):  # a statement a compound body ran must be among the effective ones
        # The server's text of it is a raw slice of the body, which may keep the end of a
        # versioned comment (`DROP */ TABLE t`): its keyword may be shorter than ours (DROP
        # vs DROP TABLE); ours must name at least as much.
        ran = classify(command[3:], no_backslash_escapes=nbe, ansi_quotes=ansi)
        return denied_anyway(ran) or all(any(k == st.keyword or k.startswith(st.keyword + " ") for k in keywords)
                                         for st in ran.statements)
    if command in _DML and any(k.split(" ")[0] in _NOT_EXECUTED and not k.endswith("ANALYZE") for k in keywords):
        return True  # EXPLAIN DELETE: parsed as a delete, not run
    if command == "compound_sql":
        return keywords[0] in ("BEGIN NOT ATOMIC", "IF", "CASE", "LOOP", "WHILE", "REPEAT", "FOR")
    if command == "execute_immediate":
        return "EXECUTE IMMEDIATE" in keywords
    if command == "dealloc_sql":
        return any(k in ("DEALLOCATE PREPARE", "DROP PREPARE") for k in keywords)
    verb, _, obj = command.partition("_")
    word = _VERBS.get(verb)
    if word is None:
        return True  # select, show_*, set_option, begin, do, error…: no stricter class to miss
    objects = _OBJECTS.get(obj, ()) if verb in ("drop", "create", "alter") else ()
    wanted = [f"{word} {o}" for o in objects] or [word]
    return any(k == w or k.startswith(w + " ") for k in keywords for w in wanted)


def disagreement(case: Case, commands: list[str]) -> str | None:
    """Why the classifier disagrees with the server on ``case``, or None."""
    c = classify(case.sql, no_backslash_escapes=case.nbe, ansi_quotes=case.ansi)
    if denied_anyway(c):
        return None
    missed = [cmd for cmd in commands if not explained(cmd, c, case.nbe, case.ansi)]
    if not missed:
        return None
    return f"server ran {missed}, classifier reported {[s.keyword for s in c.effective]} for {case}"
