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


def test_different_literals_hit_shape_cache() -> None:
    for i in range(5):
        c = classify(f"SELECT name FROM users WHERE id = {i} AND tag = 'v{i}'")
        assert c.statements[0].text.endswith(f"id = {i} AND tag = 'v{i}'")
    info = cache_info()
    assert (info.shape_misses, info.shape_hits) == (1, 4)


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
