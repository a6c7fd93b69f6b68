"""Benchmark the audit trail: journal appends, bulk indexing into OpenSearch/Elasticsearch, search latency.

Run: ``.venv/bin/python bench/audit.py [--engine opensearch|elasticsearch|both] [--events 1000000]
[--queries 300]``. For each engine it starts an embedded node (OpenSearch 2.19 from
tests/search/launcher, Elasticsearch 9.1 from tests/search/es-launcher, both built by Maven),
writes synthetic MySQL/SSH events to a fresh journal, lets the real indexer (journal ->
documents -> ``streaming_bulk``) index them, then times a mix of searches. The engines run one
after the other, never together, with the same heap and the same events. Targets (issue 7):
indexing >= 10k events/s, search p95 < 200 ms over 1M events.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Literal

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bastion.audit.backends.engine import EngineBackend  # noqa: E402
from bastion.audit.indexer import Indexer  # noqa: E402
from bastion.audit.journal import Journal  # noqa: E402
from bastion.audit.query import Search  # noqa: E402
from bastion.config.model import AuditIndexConfig  # noqa: E402
from tests.search import elasticsearch  # noqa: E402
from tests.search.opensearch import OpenSearchNode, build  # noqa: E402

USERS = [f"user{i:02d}" for i in range(50)]
TARGETS = [f"db-{i:02d}" for i in range(15)] + [f"host-{i:02d}" for i in range(10)]
TABLES = ["customers", "orders", "invoices", "payments", "shipments", "products", "refunds", "audit_log"]
COLUMNS = ["id", "email", "name", "total", "status", "created_at", "country", "sku"]
WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"]


def synthetic(rng: random.Random, i: int, start: float, span: float) -> dict[str, object]:
    at = start + span * i / 1_000_000
    session = f"s{i // 40:07d}"
    user, target = USERS[(i // 40) % len(USERS)], TARGETS[(i // 40) % len(TARGETS)]
    if i % 40 == 0:
        proto = "mysql" if target.startswith("db") else "ssh"
        return {"type": "session.start", "session_id": session, "at": at, "id": "", "schema": 1,
                "data": {"protocol": proto, "user": user, "target": target, "account": "app"}}
    if target.startswith("db"):
        t, c = rng.choice(TABLES), rng.choice(COLUMNS)
        stmt = (f"SELECT {c}, {rng.choice(COLUMNS)} FROM {t} WHERE {c} = '{rng.choice(WORDS)}{rng.randint(0, 99999)}' "
                f"ORDER BY id LIMIT {rng.randint(1, 500)}")
        verdict = "deny" if rng.random() < 0.02 else "allow"
        return {"type": "query", "session_id": session, "at": at, "id": "", "schema": 1,
                "data": {"protocol": "mysql", "statement": stmt, "verdict": verdict,
                         "rule": f"rule-{rng.randint(1, 9)}", "rows": rng.randint(0, 500), "duration_ms": 1.5}}
    if i % 7 == 0:
        path = f"/srv/{rng.choice(WORDS)}/{rng.choice(TABLES)}-{rng.randint(1, 999)}.csv"
        return {"type": "fileop", "session_id": session, "at": at, "id": "", "schema": 1,
                "data": {"op": "read", "path": path, "verdict": "allow", "rule": "ssh-ops", "result": "ok"}}
    line = f"grep -r {rng.choice(WORDS)}{rng.randint(0, 9999)} /var/log/{rng.choice(TABLES)}"
    return {"type": "command", "session_id": session, "at": at, "id": "", "schema": 1,
            "data": {"mode": "exec", "line": line, "verdict": "allow", "rule": "ssh-ops",
                     "output": f"{rng.choice(WORDS)} {rng.choice(WORDS)} matched line {rng.randint(0, 10**6)}\n"}}


def bench_journal(directory: Path, n: int = 3000) -> None:
    for fsync in (True, False):
        journal = Journal(directory / f"fsync-{fsync}", fsync=fsync)
        event = {"type": "query", "session_id": "s", "at": time.time(), "id": "", "schema": 1,
                 "data": {"statement": "SELECT 1", "verdict": "allow"}}
        began = time.perf_counter()
        for _ in range(n):
            journal.append(event)
        took = time.perf_counter() - began
        journal.close()
        print(f"journal append, fsync={'on ' if fsync else 'off'}: {took / n * 1e6:8.1f} µs/event "
              f"({n / took:,.0f} events/s)")


def timed(fn: object, *args: object) -> float:
    began = time.perf_counter()
    fn(*args)  # type: ignore[operator]
    return (time.perf_counter() - began) * 1000


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--batch", type=int, default=5000)
    ap.add_argument("--heap", default="2g")
    ap.add_argument("--engine", choices=["opensearch", "elasticsearch", "both"], default="both")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bastion-bench-audit-"))
    try:
        bench_journal(work)
        for engine in ("opensearch", "elasticsearch") if args.engine == "both" else (args.engine,):
            bench_engine(engine, work / engine, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


Engine = Literal["opensearch", "elasticsearch"]


def engine_node(engine: Engine, home: Path, heap: str) -> OpenSearchNode:
    if engine == "elasticsearch":
        return elasticsearch.ElasticsearchNode(home, elasticsearch.build(), heap=heap)
    return OpenSearchNode(home, build(), heap=heap)


def bench_engine(engine: Engine, work: Path, args: argparse.Namespace) -> None:
    node = engine_node(engine, work / "node", args.heap)
    node.start()
    print(f"== {node.engine} started in {node.started_in:.1f}s")
    try:
        rng = random.Random(7)
        journal = Journal(work / "audit", fsync=False, rotate_bytes=64 << 20)
        start, span = time.time() - 7 * 86400, 7 * 86400.0
        began = time.perf_counter()
        for i in range(args.events):
            journal.append(synthetic(rng, i, start, span * args.events / 1_000_000))
        journal.close()
        print(f"journal: {args.events:,} synthetic events written in {time.perf_counter() - began:.1f}s")

        cfg = AuditIndexConfig(backend=engine, url=node.url, index_prefix="bench", timeout=60)
        backend = EngineBackend.from_config(cfg)
        indexer = Indexer(work / "audit", backend, batch_size=args.batch)
        began = time.perf_counter()
        indexed = indexer.catch_up(timeout=3600)
        took = time.perf_counter() - began
        print(f"indexing: {indexed:,} events in {took:.1f}s = {indexed / took:,.0f} events/s "
              f"(journal -> documents -> streaming_bulk, batch {args.batch})")
        backend.refresh()
        count = node.request("GET", "/bench-*/_count")["count"]
        print(f"documents in bench-*: {count:,}")

        search_latency(backend, args.queries, start, span)
        indexer.close()
        backend.close()
    finally:
        node.stop()


def search_latency(backend: EngineBackend, n: int, start: float, span: float) -> None:
    rng = random.Random(11)
    kinds = {
        "word": lambda: Search(text=rng.choice(WORDS) + str(rng.randint(0, 9999))),
        "phrase": lambda: Search(text=f'"FROM {rng.choice(TABLES)} WHERE"'),
        "word+filters": lambda: Search(text=rng.choice(TABLES), user=(rng.choice(USERS),), verdict=("allow",)),
        "filters+range": lambda: Search(target=(rng.choice(TARGETS),),
                                        since=start + rng.random() * span * 0.8, until=start + span),
        "path": lambda: Search(text=f"/srv/{rng.choice(WORDS)}"),
    }
    for _ in range(20):  # warm-up
        backend.search(kinds["word"]())
    all_ms: list[float] = []
    for name, make in kinds.items():
        ms = sorted(timed(backend.search, make()) for _ in range(max(1, n // len(kinds))))
        all_ms += ms
        print(f"search {name:14s} p50 {statistics.median(ms):6.1f} ms  p95 {ms[int(len(ms) * 0.95) - 1]:6.1f} ms")
    deep: list[float] = []
    q = Search(text="customers", size=50)
    for _ in range(40):  # 40 pages deep with search_after
        began = time.perf_counter()
        page = backend.search(q)
        deep.append((time.perf_counter() - began) * 1000)
        if not page.next_cursor:
            break
        q = Search(text="customers", size=50, after=page.next_cursor)
    deep.sort()
    all_ms += deep
    all_ms.sort()
    print(f"search_after pages 1-{len(deep)}: p50 {statistics.median(deep):.1f} ms  p95 "
          f"{deep[int(len(deep) * 0.95) - 1]:.1f} ms  (page {len(deep)}: {deep[-1]:.1f} ms max)")
    print(f"search overall p95: {all_ms[int(len(all_ms) * 0.95) - 1]:.1f} ms over {len(all_ms)} searches")


if __name__ == "__main__":
    sys.exit(main())
