"""classify(): API contract, per-statement details, fingerprints and the caches."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies.sql import LARGE, Kind, cache_clear, cache_info, classify, fingerprint, stricter


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    cache_clear()


def test_strictness_order() -> None:
    order = ["read", "transaction", "session", "write", "exec", "ddl", "dcl", "file", "admin", "unknown"]
    for weaker, strongest in zip(order, order[1:], strict=False):
        assert stricter(Kind(weaker), Kind(strongest)) is Kind(strongest)
        assert stricter(Kind(strongest), Kind(weaker)) is Kind(strongest)


def test_classification_fields() -> None:
    c = classify("SELECT u.name, o.total FROM shop.users u JOIN orders o ON o.user_id = u.id WHERE u.id = 42")
    assert c.kind is Kind.READ and c.error == "" and c.flags == frozenset()
    (s,) = c.statements
    assert s.keyword == "SELECT"
    assert s.tables == c.tables == {"shop.users", "orders"}
    assert {"name", "total", "user_id", "id"} <= s.columns
    assert s.text.endswith("WHERE u.id = 42")
    assert c.digest_text.endswith("WHERE u.id = ?")
    assert len(c.fingerprint) == 40


def test_strictest_kind_over_statements() -> None:
    c = classify("SELECT 1; UPDATE t SET a = 1 WHERE id = 2; SET NAMES utf8mb4")
    assert c.kind is Kind.WRITE
    assert [s.kind for s in c.statements] == [Kind.READ, Kind.WRITE, Kind.SESSION]
    assert "multi_statement" in c.flags


def test_wrapped_columns_for_masking() -> None:
    c = classify("SELECT HEX(card), name, CONCAT(first, last) AS full, (email), CAST(ssn AS CHAR) FROM customers")
    (s,) = c.statements
    assert s.wrapped_columns == {"card", "first", "last", "ssn"}
    sub = classify("SELECT * FROM (SELECT REVERSE(card) AS c FROM customers) x").statements[0]
    assert sub.wrapped_columns == {"card"}


def test_cte_names_are_not_tables() -> None:
    c = classify("WITH recent AS (SELECT * FROM orders) SELECT * FROM recent JOIN users ON users.id = recent.uid")
    assert c.tables == {"orders", "users"}


@pytest.mark.parametrize(
    ("sql", "tables"),
    [
        ("LOCK TABLES shop.orders READ", {"shop.orders"}),
        ("RENAME TABLE a TO b", {"a", "b"}),
        ("TRUNCATE TABLE logs", {"logs"}),
        ("HANDLER t OPEN", {"t"}),
        ("LOAD DATA INFILE '/x' INTO TABLE `shop`.`t`", {"shop.t"}),
        ("REPLACE INTO t (a) VALUES (1)", {"t"}),
        ("SELECT a INTO OUTFILE '/tmp/x' FROM secrets s, keys k", {"secrets", "keys"}),
    ],
)
def test_tables_without_an_ast(sql: str, tables: set[str]) -> None:
    assert classify(sql).tables == tables


@pytest.mark.parametrize(
    ("sql", "kill_id", "query"),
    [("KILL 5", 5, False), ("KILL QUERY 77", 77, True), ("KILL CONNECTION 9", 9, False),
     ("KILL QUERY ID 12", 12, True), ("KILL @id", None, False), ("KILL 1 + 1", None, False)],
)  # fmt: skip
def test_kill(sql: str, kill_id: int | None, query: bool) -> None:
    (s,) = classify(sql).statements
    assert (s.kind, s.kill_id, s.kill_query) == (Kind.ADMIN, kill_id, query)
    assert "kill" in s.flags


@pytest.mark.parametrize(("sql", "db"), [("USE shop", "shop"), ("use `My-DB`", "My-DB"), ("USE /*!x*/ y", "x")])
def test_use(sql: str, db: str) -> None:
    (s,) = classify(sql).statements
    assert (s.kind, s.use_db, "use" in s.flags) == (Kind.SESSION, db, True)


@pytest.mark.parametrize(
    ("sql", "keyword"),
    [
        ("SELECT 1", "SELECT"),
        ("(SELECT 1) UNION (SELECT 2)", "SELECT"),
        ("create temporary table t (a int)", "CREATE TABLE"),
        ("CREATE OR REPLACE VIEW v AS SELECT 1", "CREATE VIEW"),
        ("CREATE UNIQUE INDEX i ON t (a)", "CREATE INDEX"),
        ("DROP TABLE IF EXISTS t", "DROP TABLE"),
        ("SET GLOBAL max_connections = 5", "SET GLOBAL"),
        ("SET NAMES utf8mb4", "SET NAMES"),
        ("START TRANSACTION", "START TRANSACTION"),
        ("LOAD DATA INFILE '/x' INTO TABLE t", "LOAD DATA"),
        ("LOCK TABLES t WRITE", "LOCK TABLES"),
        ("DEALLOCATE PREPARE s", "DEALLOCATE PREPARE"),
        ("DROP PREPARE s", "DROP PREPARE"),
    ],
)
def test_keyword(sql: str, keyword: str) -> None:
    assert classify(sql).statements[0].keyword == keyword


def test_drop_prepare_is_exec() -> None:
    assert classify("DROP PREPARE s").kind is Kind.EXEC


def test_set_sql_mode_flag_only_when_sql_mode_changes() -> None:
    assert "set_sql_mode" in classify("SET sql_mode = 'ANSI_QUOTES'").flags
    assert "set_sql_mode" in classify("SET @@SESSION.sql_mode = ''").flags
    assert "set_sql_mode" not in classify("SET @x = 'sql_mode'").flags


def test_empty_and_lex_error_contract() -> None:
    empty = classify("  ")
    assert (empty.kind, empty.flags, empty.statements) == (Kind.UNKNOWN, {"empty"}, ())
    bad = classify("SELECT 'secret")
    assert bad.kind is Kind.UNKNOWN and "lex_error" in bad.flags and bad.error
    assert "secret" not in bad.digest_text


def test_unparseable_with_is_unknown() -> None:
    c = classify("WITH a AS (SELECT 1) DELETE FROM t WHERE id = (")
    assert c.kind is Kind.UNKNOWN and "unparseable" in c.flags and c.error


def test_large_statement_skips_ast() -> None:
    sql = "INSERT INTO t VALUES " + ",".join(f"({i}, 'row {i}', NOW())" for i in range(2000))
    assert len(sql) > LARGE
    c = classify(sql)
    assert c.kind is Kind.WRITE and "large" in c.flags and c.tables == {"t"}
    assert "unbounded_write" not in c.flags
    assert cache_info().shape_misses == 0  # sqlglot never ran


def test_update_with_where_above_cap_is_bounded() -> None:
    sql = "UPDATE t SET a = 1 WHERE id IN (" + ",".join(map(str, range(5000))) + ")"
    assert "unbounded_write" not in classify(sql).flags


def test_fingerprint_ignores_literals_and_includes_modes() -> None:
    fp1, d1 = fingerprint("SELECT * FROM t WHERE a = 'x' AND b = 1")
    fp2, d2 = fingerprint("select  * FROM t /* c */ WHERE a = 'yy' AND b = 22")
    assert d1 == "SELECT * FROM t WHERE a = ? AND b = ?"
    assert d2 == "select * FROM t WHERE a = ? AND b = ?"
    assert fingerprint("SELECT * FROM t WHERE a = 'q' AND b = 3")[0] == fp1
    assert fp1 != fp2  # keyword case is kept in the digest
    assert fingerprint("SELECT 1", no_backslash_escapes=True)[0] != fingerprint("SELECT 1")[0]
    assert classify("SELECT * FROM t WHERE a = 'x' AND b = 1").fingerprint == fp1


def test_exact_repeat_hits_exact_cache() -> None:
    first = classify("SELECT * FROM t WHERE id = 1")
    assert classify("SELECT * FROM t WHERE id = 1") is first
    assert cache_info().exact_hits == 1


def test_different_literals_hit_shape_cache() -> None:
    for i in range(5):
        c = classify(f"SELECT name FROM users WHERE id = {i} AND tag = 'v{i}'")
        assert c.statements[0].text.endswith(f"id = {i} AND tag = 'v{i}'")
    info = cache_info()
    assert (info.shape_misses, info.shape_hits) == (1, 4)


def test_kill_ids_do_not_leak_across_literals() -> None:
    assert classify("KILL 5").statements[0].kill_id == 5
    assert classify("KILL 6").statements[0].kill_id == 6
    assert classify("KILL QUERY 6").statements[0].kill_query


def test_prepare_literals_do_not_leak() -> None:
    safe = classify("PREPARE s FROM 'SELECT 1'")
    assert safe.kind is Kind.EXEC and not safe.flags
    evil = classify("PREPARE s FROM 'DROP TABLE t'")
    assert evil.kind is Kind.DDL
    assert classify("PREPARE s FROM 'SELECT 2'").kind is Kind.EXEC
    assert fingerprint("PREPARE s FROM 'SELECT 1'")[0] == fingerprint("PREPARE s FROM 'DROP TABLE t'")[0]


def test_literal_dependent_flags_do_not_leak_through_shape_cache() -> None:
    assert "unbounded_write" not in classify("DELETE FROM t WHERE id = 1").flags
    assert "unbounded_write" in classify("DELETE FROM t WHERE 1 = 1").flags  # a WHERE without a column
    assert "outfile" not in classify("SELECT 'INTO OUTFILE' FROM t WHERE a = 1").flags
    assert "outfile" in classify("SELECT a FROM t WHERE a = 1 INTO OUTFILE '/tmp/x'").flags


def test_lone_surrogate_does_not_break_fingerprint() -> None:
    assert classify("SELECT '\udcff'").kind is Kind.READ


def test_modes_are_separate_cache_entries() -> None:
    sql = "SELECT 'a\\' ; DROP TABLE t; -- '"
    assert classify(sql).kind is Kind.READ
    assert classify(sql, no_backslash_escapes=True).kind is Kind.DDL
    assert classify(sql).kind is Kind.READ


def test_cache_is_bounded() -> None:
    for i in range(50):
        classify(f"SELECT c{i} FROM t")
    assert cache_info().exact_size == 50
    assert cache_info().maxsize >= 1000


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80), st.booleans(), st.booleans())
def test_classify_never_raises(sql: str, nbe: bool, ansi: bool) -> None:
    c = classify(sql, no_backslash_escapes=nbe, ansi_quotes=ansi)
    assert isinstance(c.kind, Kind)
    if c.kind is not Kind.UNKNOWN:
        assert c.statements


@pytest.mark.parametrize("size", [16 * 1024 * 1024 + 7, 34 * 1024 * 1024])
def test_huge_literal_statement_is_classified_with_its_ast(size: int) -> None:
    """Only the skeleton goes to sqlglot: a 34 MB literal neither times out nor hides what follows it."""
    literal = "'" + ("x" * 1000 + "\\'" + "''") * (size // 1004) + "'"
    c = classify(f"INSERT INTO t (a, b) VALUES ({literal}, 1)")
    assert (c.kind, c.flags, c.tables, c.error) == (Kind.WRITE, frozenset(), {"t"}, "")
    evil = classify(f"SELECT {literal}, HEX(card_number), LOAD_FILE('/etc/passwd') FROM customers")
    assert evil.kind is Kind.FILE and "load_file" in evil.flags and "large" not in evil.flags
    assert evil.statements[0].wrapped_columns == {"card_number"}
