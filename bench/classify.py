"""Benchmark the SQL classifier: µs per statement, cold (caches cleared), literal variant, cached.

Run: ``.venv/bin/python bench/classify.py``. "cold" clears both caches before every
call (lexer + keywords + sqlglot); "shape hit" changes the literals so only the sqlglot
summary is reused; "cached" repeats the exact text (exact LRU hit). The huge-literal rows
report CPU milliseconds (``time.process_time``) per classification, as the pipeline's
per-stage budget counts them.

``--oracle N`` runs the differential oracle (tests/integration/mysql/oracle.py) for N
generated statements against a private MariaDB and prints every disagreement; the exit
status is 1 if there was any.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from policies.sql import cache_clear, classify  # noqa: E402
from policies.sql.lexer import lex  # noqa: E402


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


def _huge_literals() -> None:
    print(f"\n{'huge literal':<28}{'bytes':>12}{'CPU ms':>9}   verdict")
    for label, body in (("plain", "x"), ("escaped quote every 1 KB", "x" * 1020 + "\\'"),
                        ("escaped quote every 5 B", "ab\\'c")):  # fmt: skip
        for mb in (16, 34):
            sql = "INSERT INTO t (a) VALUES ('" + body * (mb * 1024 * 1024 // len(body)) + "')"
            cache_clear()
            start = time.process_time()
            c = classify(sql)
            ms = (time.process_time() - start) * 1000
            print(f"{label:<28}{len(sql):>12}{ms:>9.1f}   {c.kind.value} {sorted(c.flags)}")
    for mb in (1, 16):
        row = "(12345,'c12345@example.com','Name 12345','2024-01-01 12:00:00',81.25,NULL)"
        sql = "INSERT INTO `customers` VALUES " + ",".join([row] * (mb * 1024 * 1024 // (len(row) + 1)))
        cache_clear()
        start = time.process_time()
        c = classify(sql)
        ms = (time.process_time() - start) * 1000
        print(f"{'bulk VALUES (dump rows)':<28}{len(sql):>12}{ms:>9.1f}   {c.kind.value} {sorted(c.flags)}")


def _oracle(n: int) -> int:
    from hypothesis import HealthCheck, given, settings

    from bastion.demo.services import MariaDB
    from tests.integration.mysql.oracle import Case, Oracle, cases, disagreement

    with tempfile.TemporaryDirectory(prefix="bench-oracle-") as tmp:
        db = MariaDB(Path(tmp)).start()
        try:
            oracle = Oracle(db.socket)
            found: list[str] = []
            start = time.perf_counter()

            @settings(max_examples=n, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))  # fmt: skip
            @given(cases())
            def run(case: Case) -> None:
                why = disagreement(case, oracle.commands(case))
                if why is not None:
                    found.append(why)
                    print(why, flush=True)

            run()
            elapsed = time.perf_counter() - start
            print(f"oracle: {n} cases in {elapsed:.0f}s ({n / elapsed:.0f}/s), {len(found)} disagreements")
            oracle.close()
        finally:
            db.stop()
    return 1 if found else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--oracle", type=int, metavar="N", help="run the differential oracle for N cases")
    args = parser.parse_args()
    if args.oracle:
        sys.exit(_oracle(args.oracle))
    print(f"{'statement':<20}{'bytes':>8}{'lex':>10}{'cold':>11}{'shape hit':>11}{'cached':>9}   (µs/statement)")
    for name, make in STATEMENTS.items():
        print(_measure(name, make))
    _huge_literals()


if __name__ == "__main__":
    main()
