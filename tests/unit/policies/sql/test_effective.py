"""Effective statements: every statement that will execute is exposed and judged.

Table-driven over the disguises of issue 14 (statement inside a statement, literal
sub-statements under both quoting modes, compound bodies, implied drops)."""

from __future__ import annotations

import pytest

from policies.sql import Kind, classify


def keywords(sql: str, *, nbe: bool = False, ansi: bool = False) -> list[str]:
    return [s.keyword for s in classify(sql, no_backslash_escapes=nbe, ansi_quotes=ansi).effective]


@pytest.mark.parametrize(
    ("sql", "expected", "nbe", "ansi"),
    [
        # reproduction 2: SET STATEMENT … FOR
        ("SET STATEMENT max_statement_time=0 FOR DROP TABLE t", ["SET STATEMENT", "DROP TABLE"], False, False),
        ("set statement max_statement_time=0, sql_mode='' for /*!drop*/ database d",
         ["SET STATEMENT", "DROP DATABASE"], False, False),
        ("SET STATEMENT a=(SELECT 1) FOR TRUNCATE t", ["SET STATEMENT", "TRUNCATE"], False, False),
        ("SET STATEMENT a=1 FOR SET STATEMENT b=2 FOR DELETE FROM t",
         ["SET STATEMENT", "SET STATEMENT", "DELETE"], False, False),
        # reproduction 3: PREPARE … FROM '<literal>', also concatenated and under both modes
        ("PREPARE p FROM 'DROP TABLE t'", ["PREPARE", "DROP TABLE"], False, False),
        ("PREPARE p FROM 'DROP ' 'TABLE t'", ["PREPARE", "DROP TABLE"], False, False),
        ('PREPARE p FROM "DELETE FROM t"', ["PREPARE", "DELETE"], False, False),
        ("PREPARE p FROM 'DELETE FROM t WHERE c = ''x'''", ["PREPARE", "DELETE"], True, False),
        ("PREPARE p FROM 'DELETE FROM t WHERE c = \\'x\\''", ["PREPARE", "DELETE"], False, True),
        ("PREPARE a FROM 'PREPARE b FROM ''DROP TABLE t'''", ["PREPARE", "PREPARE", "DROP TABLE"], False, False),
        # reproduction 5: ANALYZE <stmt> / EXPLAIN ANALYZE execute
        ("ANALYZE DELETE FROM t", ["ANALYZE", "DELETE"], False, False),
        ("ANALYZE FORMAT=JSON UPDATE t SET a = 1", ["ANALYZE", "UPDATE"], False, False),
        ("EXPLAIN ANALYZE DELETE FROM t", ["EXPLAIN ANALYZE", "DELETE"], False, False),
        ("EXECUTE IMMEDIATE 'DROP TABLE t'", ["EXECUTE IMMEDIATE", "DROP TABLE"], False, False),
        ("EXECUTE IMMEDIATE 'DELETE FROM t WHERE a = ?' USING 1", ["EXECUTE IMMEDIATE", "DELETE"], False, False),
        # reproductions 4 and 12: routine bodies, simple and compound
        ("CREATE PROCEDURE p() DROP TABLE t", ["CREATE PROCEDURE", "DROP TABLE"], False, False),
        ("CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END", ["CREATE PROCEDURE", "SELECT", "SELECT"], False, False),
        ("CREATE DEFINER=`u`@`%` PROCEDURE IF NOT EXISTS s.p(IN a INT, OUT b TEXT) COMMENT 'c' "
         "MODIFIES SQL DATA SQL SECURITY INVOKER lbl: BEGIN DELETE FROM t WHERE id = a; END lbl",
         ["CREATE PROCEDURE", "DELETE"], False, False),
        ("CREATE FUNCTION f() RETURNS INT UNSIGNED DETERMINISTIC RETURN (SELECT COUNT(*) FROM t)",
         ["CREATE FUNCTION", "SELECT"], False, False),
        ("CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW DELETE FROM audit", ["CREATE TRIGGER", "DELETE"],
         False, False),
        ("CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO TRUNCATE TABLE t", ["CREATE EVENT", "TRUNCATE"], False, False),
        ("ALTER EVENT e DO DROP TABLE t", ["ALTER EVENT", "DROP TABLE"], False, False),
        ("ALTER EVENT e DISABLE", ["ALTER EVENT"], False, False),
        ("CREATE PROCEDURE p() BEGIN DECLARE c CURSOR FOR SELECT a FROM t; "
         "DECLARE EXIT HANDLER FOR SQLSTATE '23000', NOT FOUND BEGIN DROP TABLE t; END; OPEN c; CLOSE c; END",
         ["CREATE PROCEDURE", "SELECT", "DROP TABLE"], False, False),
        ("CREATE PROCEDURE p() BEGIN CASE WHEN 1 THEN DELETE FROM t; ELSE BEGIN END; END CASE; "
         "REPEAT TRUNCATE t; UNTIL 1 END REPEAT; FOR i IN 1 .. 3 DO DROP TABLE u; END FOR; END",
         ["CREATE PROCEDURE", "SELECT", "DELETE", "TRUNCATE", "SELECT", "DROP TABLE"], False, False),
        ("BEGIN NOT ATOMIC DECLARE x INT DEFAULT 1; WHILE x > 0 DO DELETE FROM t; SET x = 0; END WHILE; END",
         ["BEGIN NOT ATOMIC", "SELECT", "SELECT", "DELETE", "SET"], False, False),
        # reproduction 10: implied drops
        ("CREATE OR REPLACE TABLE t (a INT)", ["CREATE TABLE", "DROP TABLE"], False, False),
        ("CREATE OR REPLACE VIEW v AS SELECT 1", ["CREATE VIEW", "DROP VIEW"], False, False),
        ("CREATE OR REPLACE DEFINER=u PROCEDURE p() SELECT 1", ["CREATE PROCEDURE", "SELECT", "DROP PROCEDURE"],
         False, False),
        ("ALTER TABLE t DROP COLUMN c", ["ALTER TABLE", "DROP COLUMN"], False, False),
        ("ALTER TABLE t DROP c, DROP INDEX i, DROP PRIMARY KEY", ["ALTER TABLE", "DROP COLUMN", "DROP INDEX",
                                                                   "DROP PRIMARY KEY"], False, False),
        ("ALTER TABLE t TRUNCATE PARTITION p0", ["ALTER TABLE", "TRUNCATE PARTITION"], False, False),
        ("ALTER TABLE t ADD COLUMN c INT", ["ALTER TABLE"], False, False),
        # rows destroyed without a DROP or TRUNCATE word
        ("ALTER TABLE t ENGINE=BLACKHOLE", ["ALTER TABLE", "TRUNCATE"], False, False),
        ("alter online table t engine 'blackhole'", ["ALTER TABLE", "TRUNCATE"], False, False),
        ("ALTER TABLE t ADD c INT, ENGINE = `BlackHole`", ["ALTER TABLE", "TRUNCATE"], False, False),
        ("ALTER TABLE t /*!ENGINE=BLACKHOLE*/", ["ALTER TABLE", "TRUNCATE"], False, False),
        ('ALTER TABLE t ENGINE="BLACKHOLE"', ["ALTER TABLE", "TRUNCATE"], False, True),
        ("ALTER TABLE t PARTITION BY HASH(id) (PARTITION p0 ENGINE BLACKHOLE)", ["ALTER TABLE", "TRUNCATE"],
         False, False),
        ("ALTER TABLE t DISCARD TABLESPACE", ["ALTER TABLE", "TRUNCATE"], False, False),
        ("ALTER TABLE t DISCARD PARTITION p0 TABLESPACE", ["ALTER TABLE", "TRUNCATE"], False, False),
        ("ALTER TABLE t ENGINE=InnoDB", ["ALTER TABLE"], False, False),
        ("ALTER TABLE t COMMENT 'ENGINE=BLACKHOLE'", ["ALTER TABLE"], False, False),
        ("ALTER TABLE t IMPORT TABLESPACE", ["ALTER TABLE"], False, False),
        ("ALTER IGNORE TABLE t ADD UNIQUE (c)", ["ALTER TABLE", "DELETE"], False, False),
        ("alter online ignore table t add primary key (id)", ["ALTER TABLE", "DELETE"], False, False),
        ("ALTER /*!50000 IGNORE */ TABLE t ADD UNIQUE (c)", ["ALTER TABLE", "DELETE"], False, False),
        ("ALTER TABLE t ADD UNIQUE (c)", ["ALTER TABLE"], False, False),
        ("WITH x AS (SELECT 1) DELETE FROM t", ["WITH", "DELETE"], False, False),
        ("WITH x AS (SELECT 1) UPDATE t SET a = 1", ["WITH", "UPDATE"], False, False),
        ("WITH x AS (SELECT 1) SELECT * FROM x", ["WITH"], False, False),
    ],
)  # fmt: skip
def test_effective_statements(sql: str, expected: list[str], nbe: bool, ansi: bool) -> None:
    assert keywords(sql, nbe=nbe, ansi=ansi) == expected


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2",  # body not terminated
        "CREATE PROCEDURE p BEGIN SELECT 1; END",  # no parameter list
        "CREATE PROCEDURE p() BEGIN FROBNICATE; END",  # unknown statement inside the body
        "CREATE PROCEDURE p() BEGIN IF 1 THEN SELECT 1; END; END",  # END IF missing
        "CREATE PROCEDURE p() BEGIN FOR i IN 1 .. (SELECT 3) DO SELECT 1; END FOR; END",  # bound with a query
        "CREATE PROCEDURE p() BEGIN SELECT 1; END extra words",
        "CREATE FUNCTION f() BEGIN RETURN 1; END",  # no RETURNS
        "CREATE TRIGGER tr ON t FOR EACH ROW SET @a = 1",  # no timing/event
        "BEGIN NOT ATOMIC SELECT 1",
        "CREATE PACKAGE BODY pkg AS PROCEDURE p AS BEGIN DROP TABLE t; END; END",  # Oracle mode: not walked
    ],
)
def test_bodies_not_understood_fail_closed(sql: str) -> None:
    c = classify(sql)
    assert c.kind is Kind.UNKNOWN and c.error


def test_compound_split_by_the_lexer_is_one_statement() -> None:
    c = classify("CREATE PROCEDURE p() BEGIN SELECT 1; IF 1 THEN SELECT 2; END IF; END")
    assert len(c.statements) == 1 and "multi_statement" not in c.flags
    after = classify("CREATE PROCEDURE p() BEGIN SELECT 1; END; DROP TABLE t")
    assert "multi_statement" in after.flags and after.kind is Kind.DDL
    assert classify("BEGIN; DELETE FROM t WHERE id = 1; COMMIT").flags >= {"multi_statement"}


def test_body_statements_are_classified_like_top_level_ones() -> None:
    c = classify("CREATE PROCEDURE p() BEGIN SELECT HEX(card_number) FROM customers INTO OUTFILE '/tmp/x'; END")
    body = c.effective[1]
    assert body.kind is Kind.FILE and "outfile" in body.flags and body.tables == {"customers"}
    assert c.kind is Kind.FILE and "outfile" in c.flags
    cond = classify("IF (SELECT LOAD_FILE('/etc/passwd')) THEN SELECT 1; END IF")
    assert "load_file" in cond.flags and cond.kind is Kind.FILE


def test_implied_drop_keeps_tables() -> None:
    implied = classify("CREATE OR REPLACE TABLE shop.t (a INT)").effective[1]
    assert (implied.kind, implied.tables, "implied" in implied.flags) == (Kind.DDL, {"shop.t"}, True)
    assert classify("CREATE OR REPLACE USER u").effective[1].kind is Kind.DCL


def test_procedure_analyse_exposes_every_selected_column() -> None:
    (s,) = classify("SELECT card_number, name FROM customers PROCEDURE ANALYSE()").statements
    assert "procedure_analyse" in s.flags and {"card_number", "name"} <= s.wrapped_columns
    assert "*" in classify("SELECT * FROM customers PROCEDURE ANALYSE(10, 2000)").statements[0].wrapped_columns
    assert "unparseable" not in s.flags


def test_rename_is_parsed_not_unparseable() -> None:
    c = classify("RENAME TABLE a TO b, shop.c TO d")
    assert c.kind is Kind.DDL and c.tables == {"a", "b", "shop.c", "d"} and "unparseable" not in c.flags
    assert classify("RENAME USER a TO b").kind is Kind.DCL


@pytest.mark.parametrize(
    ("sql", "field", "value"),
    [
        ("PREPARE Stmt1 FROM 'SELECT 1'", "prepared_name", "stmt1"),
        ("PREPARE `my stmt` FROM @sql", "prepared_name", "my stmt"),
        ("EXECUTE stmt1 USING @a, @b", "prepared_name", "stmt1"),
        ("DEALLOCATE PREPARE stmt1", "prepared_name", "stmt1"),
        ("DROP PREPARE Stmt1", "prepared_name", "stmt1"),
        ("CALL p", "routine", "p"),
        ("CALL `shop`.`p`(1, 'x')", "routine", "shop.p"),
        ("CREATE PROCEDURE shop.p() SELECT 1", "object_name", "shop.p"),
        ("CREATE TRIGGER tr BEFORE UPDATE ON shop.t FOR EACH ROW SET NEW.a = 1", "trigger_table", "shop.t"),
        ("CREATE EVENT IF NOT EXISTS e ON SCHEDULE AT NOW() DO SELECT 1", "object_name", "e"),
    ],
)
def test_names_for_session_state(sql: str, field: str, value: str) -> None:
    assert getattr(classify(sql).statements[0], field) == value
