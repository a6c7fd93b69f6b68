"""Bypass and benign corpora for the SQL classifier (table data only).

Each bypass case: (id, sql, modes, expected kind, flags that must be present). Kind
``None`` means "any kind at least as strict as the one implied by the flags"; the test
then checks only the flags. A bypass passes when the expected kind is reached or a
stricter one is (UNKNOWN is always acceptable for something MySQL rejects anyway).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from policies.sql import Kind

K = Kind


@dataclass(frozen=True)
class Case:
    id: str
    sql: str
    kind: Kind
    flags: frozenset[str] = field(default_factory=frozenset)
    nbe: bool = False
    ansi: bool = False
    exact: bool = False  # the kind must match exactly, not just be at least as strict


def case(id: str, sql: str, kind: Kind, *flags: str, nbe: bool = False, ansi: bool = False,
         exact: bool = False) -> Case:  # fmt: skip
    return Case(id, sql, kind, frozenset(flags), nbe, ansi, exact)


BYPASS: list[Case] = [
    # versioned comments of every form
    case("ver-bare", "/*!DROP TABLE t*/", K.DDL, "versioned_comment"),
    case("ver-5digit-glued", "/*!50000DROP TABLE t*/", K.DDL, "versioned_comment"),
    case("ver-5digit-space", "/*!50000 DROP TABLE t*/", K.DDL, "versioned_comment"),
    case("ver-space-before-version", "/*! 50000 DROP TABLE t*/", K.DDL, "versioned_comment"),
    case("ver-space-after-bang", "/*! DROP TABLE t */", K.DDL, "versioned_comment"),
    case("ver-future-version", "/*!99999 DROP TABLE t*/", K.DDL, "versioned_comment"),
    case("ver-mariadb", "/*M!100000 DROP TABLE t*/", K.DDL, "versioned_comment"),
    case("ver-mariadb-lower", "/*m!100000 DROP TABLE t*/", K.DDL, "versioned_comment"),
    case("ver-in-select-load-file", "SELECT 1 /*!, (SELECT LOAD_FILE('/etc/passwd'))*/", K.FILE, "load_file"),
    case("ver-semicolon-inside", "SELECT 1 /*!50000 ; DROP TABLE t */", K.DDL, "multi_statement"),
    case("ver-keyword-split", "/*!50000 DROP*/ TABLE t", K.DDL, "versioned_comment"),
    case("ver-outfile", "SELECT * FROM t /*!50000 INTO OUTFILE '/tmp/x' */", K.FILE, "outfile"),
    case("ver-unterminated", "/*!50000 DROP TABLE t", K.UNKNOWN, "lex_error"),
    case("ver-sleep-hidden", "SELECT id FROM t WHERE id = 1 /*!AND SLEEP(5)*/", K.READ, "sleep"),
    # comment-split keywords and comments before keywords
    case("comment-inside-keyword", "DR/**/OP TABLE t", K.UNKNOWN),
    case("comment-between-words", "DROP/**/TABLE t", K.DDL),
    case("block-comment-prefix", "/* x */ DROP TABLE t", K.DDL),
    case("dash-comment-prefix", "-- c\nDROP TABLE t", K.DDL),
    case("hash-comment-prefix", "#c\nDROP TABLE t", K.DDL),
    case("hint-comment", "SELECT /*+ MAX_EXECUTION_TIME(1) */ 1; DROP TABLE t", K.DDL, "multi_statement"),
    case("dashdash-not-comment", "SELECT 1--1\n; DROP TABLE t", K.DDL, "multi_statement"),
    case("dash-tab-comment", "DELETE FROM t --\tWHERE id = 1", K.WRITE, "unbounded_write"),
    case("hash-hides-where", "DELETE FROM t # WHERE id = 1", K.WRITE, "unbounded_write"),
    # case and whitespace
    case("mixed-case-tab", "dRoP\tTABLE t", K.DDL),
    case("leading-newlines", "\n\n  drop table t", K.DDL),
    case("parenthesized-select-then-drop", "(SELECT 1); DROP TABLE t", K.DDL, "multi_statement"),
    case("cr-lf", "SELECT 1;\r\nDROP\r\nTABLE t", K.DDL, "multi_statement"),
    # string/escape confusion
    case("backslash-default-one-stmt", "SELECT 'a\\' ; DROP TABLE t; -- '", K.READ, exact=True),
    case("backslash-nbe-two-stmts", "SELECT 'a\\' ; DROP TABLE t; -- '", K.DDL, "multi_statement", nbe=True),
    case("doubled-quote", "SELECT 'it''s'; DROP TABLE t", K.DDL, "multi_statement"),
    case("dq-string-default", 'SELECT "a\\" ; DROP TABLE t; -- "', K.READ, exact=True),
    case("dq-ident-ansi", 'SELECT "a\\" ; DROP TABLE t; -- "', K.DDL, "multi_statement", ansi=True),
    case("ansi-ident-then-drop", 'SELECT "a" ; DROP TABLE t', K.DDL, "multi_statement", ansi=True),
    case("ansi-quoted-table", 'DELETE FROM "t"', K.WRITE, "unbounded_write", ansi=True),
    case("backtick-no-backslash", "SELECT `a\\`; DROP TABLE t", K.DDL, "multi_statement"),
    case("unterminated-string", "SELECT 'abc", K.UNKNOWN, "lex_error"),
    case("unterminated-comment", "SELECT 1 /* abc", K.UNKNOWN, "lex_error"),
    case("unterminated-backtick", "SELECT `abc", K.UNKNOWN, "lex_error"),
    case("nul-byte", "SELECT 1\x00; DROP TABLE t", K.UNKNOWN, "lex_error"),
    case("nul-in-string", "SELECT 'a\x00b'", K.UNKNOWN, "lex_error"),
    # multi-statements and dynamic SQL
    case("multi", "SELECT 1; DROP TABLE t", K.DDL, "multi_statement"),
    case("multi-trailing-empty", "SELECT 1;;; ;DELETE FROM t", K.WRITE, "multi_statement", "unbounded_write"),
    case("prepare-from-var", "SET @s='DROP TABLE t'; PREPARE x FROM @s; EXECUTE x", K.EXEC, "dynamic_sql"),
    case("prepare-from-literal", "PREPARE x FROM 'DELETE FROM t'", K.EXEC, "unbounded_write"),
    case("prepare-literal-drop", "PREPARE x FROM 'DROP TABLE t'", K.DDL),
    case("prepare-literal-concat", "PREPARE x FROM 'DROP ' 'TABLE t'", K.DDL),
    case("prepare-literal-escaped", "PREPARE x FROM 'SELECT LOAD_FILE(\\'/etc/passwd\\')'", K.FILE, "load_file"),
    case("prepare-literal-versioned", "PREPARE x FROM '/*!50000 DROP TABLE t*/'", K.DDL, "versioned_comment"),
    case("prepare-from-concat", "PREPARE x FROM CONCAT('DROP ', 'TABLE t')", K.EXEC, "dynamic_sql"),
    case("prepare-introducer", "PREPARE x FROM _utf8mb4'DROP TABLE t'", K.EXEC, "dynamic_sql"),
    case("prepare-nested", "PREPARE a FROM 'PREPARE b FROM ''DROP TABLE t'''", K.DDL),
    case("execute-immediate", "EXECUTE IMMEDIATE 'SELECT 1'", K.EXEC),  # a literal is judged, not dynamic
    case("execute-immediate-drop", "EXECUTE IMMEDIATE 'DROP TABLE t'", K.DDL),
    case("execute-immediate-concat", "EXECUTE IMMEDIATE 'DROP ' 'TABLE t'", K.DDL),
    case("execute-immediate-expr", "EXECUTE IMMEDIATE CONCAT('DROP ', 'TABLE t')", K.EXEC, "dynamic_sql"),
    case("set-statement-for", "SET STATEMENT max_statement_time=1 FOR DROP TABLE t", K.DDL),
    case("begin-not-atomic", "BEGIN NOT ATOMIC DROP TABLE t; END", K.DDL),  # the body is judged
    case("compound-if", "IF 1 THEN DROP TABLE t; END IF", K.DDL),
    case("compound-unterminated", "BEGIN NOT ATOMIC SELECT 1; SELECT 2", K.UNKNOWN),
    case("mariadb-analyze-stmt", "ANALYZE DELETE FROM t", K.WRITE, "unbounded_write"),
    case("explain-analyze", "EXPLAIN ANALYZE SELECT LOAD_FILE('/etc/passwd')", K.FILE, "load_file"),
    # CTE-wrapped writes
    case("cte-delete", "WITH a AS (SELECT 1) DELETE FROM t", K.WRITE, "cte_write", "unbounded_write"),
    case("cte-update", "WITH a AS (SELECT id FROM s) UPDATE t SET x = 1 WHERE id IN (SELECT id FROM a)",
         K.WRITE, "cte_write"),  # fmt: skip
    case("cte-insert", "WITH a AS (SELECT 1) INSERT INTO t SELECT * FROM a", K.WRITE, "cte_write"),
    case("cte-recursive-delete", "WITH RECURSIVE a (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM a WHERE n < 5) "
         "DELETE FROM t", K.WRITE, "cte_write", "unbounded_write"),  # fmt: skip
    case("cte-garbage", "WITH a AS (SELECT 1) FROBNICATE t", K.UNKNOWN),
    # unbounded writes
    case("delete-no-where", "DELETE FROM orders", K.WRITE, "unbounded_write"),
    case("delete-limit", "DELETE FROM t LIMIT 10", K.WRITE, "unbounded_write"),
    case("update-order-limit", "UPDATE t SET a=1 ORDER BY id LIMIT 5", K.WRITE, "unbounded_write"),
    case("update-where-in-subquery-only", "UPDATE t SET a = (SELECT b FROM s WHERE s.id = 1)", K.WRITE,
         "unbounded_write"),  # fmt: skip
    case("delete-where-constant", "DELETE FROM t WHERE 1=1", K.WRITE, "unbounded_write"),
    case("multi-delete-join", "DELETE t1 FROM t1 JOIN t2 ON t1.a = t2.a", K.WRITE, "unbounded_write"),
    case("multi-delete-where", "DELETE t1, t2 FROM t1 JOIN t2 ON t1.a = t2.a WHERE t1.x = 1", K.WRITE,
         "unbounded_write"),  # fmt: skip
    case("multi-delete-using", "DELETE FROM t1 USING t1 JOIN t2 ON t1.a = t2.a WHERE t2.b = 1", K.WRITE,
         "unbounded_write"),  # fmt: skip
    case("multi-update-join", "UPDATE t1 JOIN t2 ON t1.a = t2.a SET t1.b = 1", K.WRITE, "unbounded_write"),
    case("multi-update-comma", "UPDATE t1, t2 SET t1.b = t2.b WHERE t1.a = t2.a", K.WRITE, "unbounded_write"),
    case("truncate", "TRUNCATE TABLE t", K.DDL, "unbounded_write"),
    case("truncate-short", "truncate t", K.DDL, "unbounded_write"),
    case("update-low-priority", "UPDATE LOW_PRIORITY IGNORE t SET a = 1", K.WRITE, "unbounded_write"),
    # files, functions, exec
    case("call", "CALL cleanup()", K.EXEC, "procedure_call"),
    case("outfile", "SELECT * FROM t INTO OUTFILE '/tmp/x'", K.FILE, "outfile"),
    case("outfile-before-from", "SELECT a INTO OUTFILE '/tmp/x' FROM t", K.FILE, "outfile"),
    case("dumpfile", "SELECT a FROM t INTO DUMPFILE '/tmp/x'", K.FILE, "outfile"),
    case("load-file", "SELECT LOAD_FILE('/etc/passwd')", K.FILE, "load_file"),
    case("load-file-space", "SELECT load_file ('/etc/passwd')", K.FILE, "load_file"),
    case("load-file-backticks", "SELECT `load_file`('/etc/passwd')", K.FILE, "load_file"),
    case("load-file-in-insert", "INSERT INTO t (a) VALUES (LOAD_FILE('/etc/passwd'))", K.FILE, "load_file"),
    case("load-data-local", "LOAD DATA LOCAL INFILE '/etc/passwd' INTO TABLE t", K.FILE, "load_data"),
    case("load-data", "LOAD DATA INFILE '/x' REPLACE INTO TABLE t FIELDS TERMINATED BY ','", K.FILE, "load_data"),
    case("load-xml", "LOAD XML LOCAL INFILE '/x' INTO TABLE t", K.FILE, "load_data"),
    case("sleep", "SELECT SLEEP(10)", K.READ, "sleep"),
    case("benchmark", "SELECT BENCHMARK(1000000, MD5('a'))", K.READ, "sleep"),
    case("do-sleep", "DO SLEEP(5)", K.EXEC, "sleep"),
    case("sleep-in-where", "SELECT * FROM t WHERE id = 1 AND SLEEP(5)", K.READ, "sleep"),
    # session/global state, privileges, admin
    case("set-global", "SET GLOBAL general_log=1", K.ADMIN, "set_global"),
    case("set-global-var", "SET @@global.read_only=0", K.ADMIN, "set_global"),
    case("set-global-upper", "SET @@GLOBAL.max_connections = 1", K.ADMIN, "set_global"),
    case("set-persist", "SET PERSIST max_connections = 10", K.ADMIN, "set_global"),
    case("set-persist-only", "SET PERSIST_ONLY local_infile = 1", K.ADMIN, "set_global"),
    case("set-second-item-global", "SET autocommit = 1, GLOBAL general_log = 0", K.ADMIN, "set_global"),
    case("sql-log-bin", "SET sql_log_bin=0", K.ADMIN, "set_log_bin"),
    case("sql-log-bin-session", "SET @@session.sql_log_bin = 0", K.ADMIN, "set_log_bin"),
    case("sql-log-bin-quoted", "SET `sql_log_bin` = 0", K.ADMIN, "set_log_bin"),
    case("sql-log-off", "SET sql_log_off = 1", K.ADMIN),
    case("set-sql-mode", "SET SESSION sql_mode = 'NO_BACKSLASH_ESCAPES'", K.SESSION, "set_sql_mode", exact=True),
    case("set-sql-mode-var", "SET @@sql_mode = 'ANSI_QUOTES'", K.SESSION, "set_sql_mode"),
    case("set-password", "SET PASSWORD FOR bob = 'x'", K.DCL),
    case("grant", "GRANT ALL ON *.* TO x", K.DCL, "grant"),
    case("revoke", "REVOKE SELECT ON db.* FROM x", K.DCL),
    case("create-user", "CREATE USER bob IDENTIFIED BY 'x'", K.DCL),
    case("create-user-if-not-exists", "CREATE USER IF NOT EXISTS bob", K.DCL),
    case("drop-user", "DROP USER bob", K.DCL),
    case("alter-user", "ALTER USER root IDENTIFIED BY 'x'", K.DCL),
    case("rename-user", "RENAME USER a TO b", K.DCL),
    case("create-role", "CREATE ROLE r", K.DCL),
    case("set-role", "SET ROLE ALL", K.DCL),
    case("shutdown", "SHUTDOWN", K.ADMIN),
    case("kill", "KILL 5", K.ADMIN, "kill"),
    case("kill-query", "KILL QUERY 5", K.ADMIN, "kill"),
    case("handler", "HANDLER t OPEN", K.ADMIN),
    case("xa", "XA START 'x'", K.ADMIN),
    case("install", "INSTALL SONAME 'x'", K.ADMIN),
    case("install-plugin", "INSTALL PLUGIN p SONAME 'p.so'", K.ADMIN),
    case("udf", "CREATE FUNCTION sys_exec RETURNS STRING SONAME 'lib_mysqludf_sys.so'", K.ADMIN),
    case("flush", "FLUSH PRIVILEGES", K.ADMIN),
    case("ftwrl", "FLUSH TABLES WITH READ LOCK", K.ADMIN, "lock"),
    case("lock-tables", "LOCK TABLES t READ", K.ADMIN, "lock"),
    case("purge", "PURGE BINARY LOGS BEFORE NOW()", K.ADMIN),
    case("change-master", "CHANGE MASTER TO MASTER_HOST='evil'", K.ADMIN),
    case("start-slave", "START SLAVE", K.ADMIN),
    case("binlog", "BINLOG 'abc'", K.ADMIN),
    case("optimize", "OPTIMIZE TABLE t", K.ADMIN),
    case("analyze-table", "ANALYZE TABLE t", K.ADMIN),
    case("reset-master", "RESET MASTER", K.ADMIN),
    # DDL and writes that must not pass as reads
    case("create-trigger", "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 0", K.DDL),
    case("create-definer-user", "CREATE DEFINER=user@localhost PROCEDURE p() SELECT 1", K.DDL),
    case("create-event", "CREATE EVENT e ON SCHEDULE EVERY 1 HOUR DO DELETE FROM t", K.DDL),
    case("create-or-replace-view", "CREATE OR REPLACE ALGORITHM=MERGE VIEW v AS SELECT 1", K.DDL),
    case("drop-database", "DROP DATABASE shop", K.DDL),
    case("rename-table", "RENAME TABLE a TO b", K.DDL),
    case("alter-table", "ALTER TABLE t DROP COLUMN c", K.DDL),
    case("replace-into", "REPLACE INTO t VALUES (1)", K.WRITE, exact=True),
    case("insert-odku", "INSERT INTO t VALUES (1) ON DUPLICATE KEY UPDATE a=2", K.WRITE, exact=True),
    case("merge", "MERGE INTO t USING s ON t.a = s.a WHEN MATCHED THEN DELETE", K.WRITE),
    # look-alikes and odd input
    case("fullwidth-drop", "ＤＲＯＰ TABLE t", K.UNKNOWN),
    case("fullwidth-select", "ＳＥＬＥＣＴ 1", K.UNKNOWN),
    case("cyrillic-e-select", "SЕLECT 1", K.UNKNOWN),  # Cyrillic Е
    case("nbsp-after-keyword", "SELECT\u00a01", K.UNKNOWN),
    case("long-s-select", "\u017felect 1", K.UNKNOWN),  # ſ upper-cases to S in Python
    case("unknown-keyword", "FROBNICATE t", K.UNKNOWN),
    case("number-first", "1 DROP TABLE t", K.UNKNOWN),
    case("empty", "", K.UNKNOWN, "empty"),
    case("comment-only", "/* nothing */ -- here\n", K.UNKNOWN, "empty"),
    case("null-literal-backslash-n", "SELECT \\N; DROP TABLE t", K.DDL, "multi_statement"),
    case("very-long-delete", "DELETE FROM t WHERE id IN (" + ",".join(map(str, range(9000))) + ")",
         K.WRITE, "large"),  # fmt: skip
    case("very-long-delete-no-where", "DELETE FROM t ORDER BY " + ", ".join(f"c{i}" for i in range(4000)),
         K.WRITE, "large", "unbounded_write"),  # fmt: skip
    case("very-long-select-then-drop", "SELECT " + "1+" * 10000 + "1; DROP TABLE t", K.DDL, "multi_statement"),
    case("very-long-load-file", "SELECT '" + "x" * 20000 + "', LOAD_FILE('/etc/passwd')", K.FILE,
         "load_file"),  # fmt: skip  (a long literal is no long shape: the AST still runs)
    case("deep-parens", "SELECT " + "(" * 3000 + "1" + ")" * 3000, K.READ),
]

# (id, sql, expected kind) — everyday statements: no dangerous flag allowed.
BENIGN: list[tuple[str, str, Kind]] = [
    ("point-select", "SELECT id, name FROM users WHERE id = 42", K.READ),
    ("select-star-limit", "SELECT * FROM orders ORDER BY created_at DESC LIMIT 50", K.READ),
    ("join", "SELECT u.name, o.total FROM users u JOIN orders o ON o.user_id = u.id WHERE o.total > 10", K.READ),
    ("left-join-group", "SELECT c.name, COUNT(*) FROM customers c LEFT JOIN orders o ON o.customer_id = c.id "
     "GROUP BY c.name HAVING COUNT(*) > 2", K.READ),  # fmt: skip
    ("subquery", "SELECT * FROM users WHERE id IN (SELECT user_id FROM orders WHERE total > 100)", K.READ),
    ("exists", "SELECT name FROM users u WHERE EXISTS (SELECT 1 FROM orders o WHERE o.user_id = u.id)", K.READ),
    ("window", "SELECT id, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY created_at) AS rn FROM orders",
     K.READ),  # fmt: skip
    ("cte-select", "WITH recent AS (SELECT * FROM orders WHERE created_at > NOW() - INTERVAL 7 DAY) "
     "SELECT COUNT(*) FROM recent", K.READ),  # fmt: skip
    ("union", "SELECT id FROM a UNION ALL SELECT id FROM b", K.READ),
    ("select-for-update", "SELECT * FROM accounts WHERE id = 1 FOR UPDATE", K.READ),
    ("lock-in-share-mode", "SELECT * FROM accounts WHERE id = 1 LOCK IN SHARE MODE", K.READ),
    ("select-version", "SELECT @@version", K.READ),
    ("select-version-comment", "SELECT @@version_comment LIMIT 1", K.READ),
    ("select-database", "SELECT DATABASE(), USER(), NOW()", K.READ),
    ("information-schema", "SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS "
     "WHERE TABLE_SCHEMA = 'shop' AND TABLE_NAME = 'orders'", K.READ),  # fmt: skip
    ("json", "SELECT data->>'$.name' FROM events WHERE JSON_EXTRACT(data, '$.type') = 'click'", K.READ),
    ("like-escape", "SELECT * FROM t WHERE name LIKE 'a\\_b%'", K.READ),
    ("double-quoted-string", 'SELECT "hello" AS greeting', K.READ),
    ("values", "VALUES ROW(1, 2), ROW(3, 4)", K.READ),
    ("table-stmt", "TABLE orders", K.READ),
    ("show-tables", "SHOW TABLES", K.READ),
    ("show-databases", "SHOW DATABASES", K.READ),
    ("show-create-table", "SHOW CREATE TABLE orders", K.READ),
    ("show-full-columns", "SHOW FULL COLUMNS FROM orders", K.READ),
    ("show-variables", "SHOW VARIABLES LIKE 'sql_mode'", K.READ),
    ("describe", "DESCRIBE orders", K.READ),
    ("desc", "DESC orders", K.READ),
    ("explain", "EXPLAIN SELECT * FROM orders WHERE id = 1", K.READ),
    ("explain-format", "EXPLAIN FORMAT=JSON SELECT * FROM orders", K.READ),
    ("insert-one", "INSERT INTO orders (user_id, total) VALUES (1, 9.99)", K.WRITE),
    ("insert-multi", "INSERT INTO orders (user_id, total) VALUES (1, 9.99), (2, 19.99), (3, 5)", K.WRITE),
    ("insert-select", "INSERT INTO archive SELECT * FROM orders WHERE created_at < '2020-01-01'", K.WRITE),
    ("update-where", "UPDATE users SET last_login = NOW() WHERE id = 7", K.WRITE),
    ("update-where-limit", "UPDATE users SET flag = 1 WHERE created_at < '2020-01-01' LIMIT 100", K.WRITE),
    ("delete-where", "DELETE FROM sessions WHERE expires_at < NOW()", K.WRITE),
    ("delete-where-in", "DELETE FROM carts WHERE user_id IN (SELECT id FROM users WHERE banned = 1)", K.WRITE),
    ("begin", "BEGIN", K.TRANSACTION),
    ("start-transaction", "START TRANSACTION", K.TRANSACTION),
    ("start-transaction-ro", "START TRANSACTION READ ONLY", K.TRANSACTION),
    ("commit", "COMMIT", K.TRANSACTION),
    ("rollback", "ROLLBACK", K.TRANSACTION),
    ("savepoint", "SAVEPOINT s1", K.TRANSACTION),
    ("rollback-to", "ROLLBACK TO SAVEPOINT s1", K.TRANSACTION),
    ("set-transaction", "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED", K.TRANSACTION),
    ("set-names", "SET NAMES utf8mb4", K.SESSION),
    ("set-names-collate", "SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci", K.SESSION),
    ("set-character-set", "SET CHARACTER SET utf8mb4", K.SESSION),
    ("set-autocommit", "SET autocommit=0", K.SESSION),
    ("set-user-var", "SET @total = 0", K.SESSION),
    ("use", "USE shop", K.SESSION),
    ("dump-charset", "/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */", K.SESSION),
    ("dump-time-zone", "/*!40103 SET TIME_ZONE='+00:00' */", K.SESSION),
    ("dump-unique-checks", "/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */", K.SESSION),
    ("dump-names", "/*!40101 SET NAMES utf8mb4 */", K.SESSION),
    ("quote-show-create", "SET SQL_QUOTE_SHOW_CREATE=1", K.SESSION),
    ("comment-then-select", "-- list users\nSELECT id FROM users /* all */ WHERE active = 1", K.READ),
    ("hint", "SELECT /*+ MAX_EXECUTION_TIME(1000) */ id FROM users WHERE id = 1", K.READ),
    ("trailing-semicolon", "SELECT 1;", K.READ),
]

DANGEROUS_FLAGS = frozenset({
    "unbounded_write", "outfile", "load_data", "load_file", "sleep", "dynamic_sql", "set_global", "set_log_bin",
    "procedure_call", "multi_statement", "cte_write", "kill", "lex_error", "unparseable", "large", "empty",
    "lock", "grant",
})  # fmt: skip
