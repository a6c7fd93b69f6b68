"""The classifier's exact and shape caches, through classify() and the LRU itself."""

from __future__ import annotations

import pytest

from policies.sql import Kind, cache_clear, cache_info, classify
from policies.sql.cache import LRU


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    cache_clear()


def test_exact_repeat_hits_exact_cache() -> None:
    first = classify("SELECT * FROM t WHERE id = 1")
    assert classify("SELECT * FROM t WHERE id = 1") is first
    assert cache_info().exact_hits == 1


def test_different_literals_hit_the_template_cache() -> None:
    for i in range(5):
        c = classify(f"SELECT name FROM users WHERE id = {i} AND tag = 'v{i}'")
        assert c.statements[0].text.endswith(f"id = {i} AND tag = 'v{i}'")
    info = cache_info()
    assert (info.shape_misses, info.shape_hits, info.template_hits) == (1, 0, 4)


def test_statements_a_literal_decides_never_come_from_a_template() -> None:
    for i in range(3):  # KILL's id, SET's value, USE's name: each text classified in full
        classify(f"KILL {i}")
        classify(f"SET NAMES 'latin{i}'")
        classify(f"SELECT f{i}('x') FROM t INTO OUTFILE '/tmp/{i}'")
    assert cache_info().template_hits == 0 and cache_info().template_size == 0


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


def test_lru_evicts_least_recently_used_by_count() -> None:
    lru: LRU[str, int] = LRU(maxsize=2, maxweight=1_000)
    lru.put("a", 1, 1)
    lru.put("b", 2, 1)
    assert lru.get("a") == 1  # "a" is now the most recently used
    lru.put("c", 3, 1)
    assert (lru.get("a"), lru.get("b"), lru.get("c")) == (1, None, 3)
    assert (lru.hits, lru.misses) == (3, 1)


def test_lru_evicts_by_weight_and_skips_huge_entries() -> None:
    lru: LRU[str, int] = LRU(maxsize=100, maxweight=160)
    lru.put("huge", 0, 11)  # over maxweight // 16: never cached
    assert lru.get("huge") is None and lru.weight == 0
    for i in range(20):
        lru.put(f"k{i}", i, 10)
    assert lru.weight <= 160 and len(lru.data) == 16
    assert lru.get("k0") is None and lru.get("k19") == 19
    lru.put("k19", 19, 4)  # re-put replaces the old weight
    assert lru.weight == 154
    lru.clear()
    assert (lru.data, lru.weight, lru.hits, lru.misses) == ({}, 0, 0, 0)


TEMPLATED = [
    "SELECT c FROM sbtest1 WHERE id={}",
    "SELECT a, b FROM t JOIN u ON t.id = u.tid WHERE u.name = {} AND t.x > {}",
    "UPDATE t SET a = {} WHERE id = {}",
    "DELETE FROM t WHERE c = {} OR id > {}",
    "INSERT INTO t (a, b) VALUES ({}, {})",
    "REPLACE INTO t VALUES ({}, {})",
    "SELECT f({}) FROM t WHERE g({}) = 1",
    "SELECT * FROM t WHERE a IN ({}, {}) ORDER BY b LIMIT 5",
    "SELECT card_number FROM customers WHERE email LIKE {} AND id <> {}",
]
LITERALS = ["1", "42", "'x'", "'DROP TABLE t'", "'a;b'", "'-- c'", "'/* x */'", "'it''s'", "'back\\\\slash'",
            "'\\''", "0x41", "NULL", "'\"'", "-7", "1.5e3", "_utf8mb4'ü'", "''"]


@pytest.mark.parametrize("shape", TEMPLATED)
def test_a_classification_from_a_template_is_the_one_classified_in_full(shape: str) -> None:
    """The template cache is an optimisation only: for every literal, what it returns is
    exactly what classifying the text from nothing gives."""
    used = 0
    for first in ("1", "'seed'"):
        for literal in LITERALS:
            sql = shape.format(literal, literal)
            cache_clear()
            full = classify(sql)
            cache_clear()
            classify(shape.format(first, first))  # leaves a template when the shape allows one
            assert classify(sql) == full, sql
            used += cache_info().template_hits
    assert used >= len(LITERALS)  # the templates were really used
