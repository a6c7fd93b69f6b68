"""classify(): API contract, per-statement details, fingerprints and the caches."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies.sql import LARGE, Kind, cache_clear, cache_info, classify, fingerprint


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    cache_clear()


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
