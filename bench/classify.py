"""Benchmark the SQL classifier: µs per statement, cold (caches cleared), literal variant, cached.

Run: ``.venv/bin/python bench/classify.py``. "cold" clears both caches before every
call (lexer + keywords + sqlglot); "shape hit" changes the literals so only the sqlglot
summary is reused; "cached" repeats the exact text (exact LRU hit).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from policies.sql import cache_clear, classify
from policies.sql.lexer import lex


def _report_query(variant: int) -> str:
    cases = " ".join(f"WHEN r.status = 'status_{i}_{variant}' AND r.total > {i} THEN {i}" for i in range(25))
    return (
        "WITH recent AS (SELECT o.id, o.customer_id, o.total, o.status, o.created_at FROM shop.orders o "
        f"WHERE o.created_at >= '2024-01-0{variant % 9 + 1}' AND o.deleted_at IS NULL) "
        f"SELECT c.id, c.name, c.country, SUM(CASE {cases} ELSE 0 END) AS status_score, "
        "COUNT(DISTINCT r.id) AS orders, SUM(r.total) AS revenue, AVG(r.total) AS avg_order, "
        "MAX(r.created_at) AS last_order, MIN(r.created_at) AS first_order "
        "FROM recent r JOIN shop.customers c ON c.id = r.customer_id "
        "LEFT JOIN shop.regions g ON g.code = c.country "
        f"WHERE c.active = 1 AND g.enabled = {variant} "
        "GROUP BY c.id, c.name, c.country HAVING SUM(r.total) > 100 "
        "ORDER BY revenue DESC, c.name ASC LIMIT 500"
    )


def _dump_insert(variant: int) -> str:
    rows = ",".join(
        f"({i},{variant},'c{i:05d}@example.com','Name {i}','2024-01-01 12:00:{i % 60:02d}',{i * 3.25:.2f},NULL)"
        for i in range(1000)
    )
    return f"INSERT INTO `customers` VALUES {rows};"


STATEMENTS: dict[str, Callable[[int], str]] = {
    "point select": lambda v: f"SELECT id, name, email FROM users WHERE id = {42 + v}",
    "join": lambda v: (
        "SELECT u.id, u.name, COUNT(o.id) AS n FROM users u JOIN orders o ON o.user_id = u.id "
        f"WHERE o.created_at > '2024-0{v % 9 + 1}-01' GROUP BY u.id, u.name ORDER BY n DESC LIMIT {10 + v}"
    ),
    "insert": lambda v: f"INSERT INTO orders (user_id, total, status) VALUES ({v}, 19.99, 'new')",
    "update": lambda v: f"UPDATE users SET last_login = NOW(), logins = logins + 1 WHERE id = {v}",
    "delete": lambda v: f"DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE banned = {v})",
    "2 KB report": _report_query,
    "76 KB dump INSERT": _dump_insert,
}


def _per_call_us(fn: Callable[[], object], budget_s: float = 0.3, max_n: int = 2000) -> float:
    n, start = 0, time.perf_counter()
    while n < max_n and (n < 3 or time.perf_counter() - start < budget_s):
        fn()
        n += 1
    return (time.perf_counter() - start) / n * 1e6


def _measure(name: str, make: Callable[[int], str]) -> str:
    sql = make(1)
    variants = iter([make(i) for i in range(2, 400)])
    lex_us = _per_call_us(lambda: lex(sql))

    def cold() -> None:
        cache_clear()
        classify(sql)

    cold_us = _per_call_us(cold)
    cache_clear()
    classify(sql)
    shape_us = _per_call_us(lambda: classify(next(variants)), max_n=398)
    cached_us = _per_call_us(lambda: classify(sql))
    c = classify(sql)
    return (
        f"{name:<20}{len(sql):>8}{lex_us:>10.1f}{cold_us:>11.1f}{shape_us:>11.1f}{cached_us:>9.2f}"
        f"   {c.kind.value} {sorted(c.flags)}"
    )


def main() -> None:
    print(f"{'statement':<20}{'bytes':>8}{'lex':>10}{'cold':>11}{'shape hit':>11}{'cached':>9}   (µs/statement)")
    for name, make in STATEMENTS.items():
        print(_measure(name, make))


if __name__ == "__main__":
    main()
