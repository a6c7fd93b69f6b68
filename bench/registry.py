"""Benchmark the shared connection registry: what a MySQL connection costs in the state store
(id, owner, release) and how long a KILL takes to reach the process that serves the connection.

Run: ``.venv/bin/python bench/registry.py [--connections 500]``. Runs against SQLite (a temp
file) and against a private MariaDB (bastion.demo.services, as the tests start it). Per
connection the bastion runs ``allocate`` (insert, check, set the id), ``claim`` (the owner)
and ``release`` (delete); a KILL for another process is a request row, the owner's poll
(every 0.2 s in plugins.mysql.cluster) and its answer.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bastion.demo.services import MariaDB  # noqa: E402
from bastion.state.connections import ConnectionRegistry, Outcome  # noqa: E402
from bastion.state.store import StateStore  # noqa: E402
from plugins.mysql.cluster import POLL_SECONDS  # noqa: E402


def per_connection(store: StateStore, n: int) -> list[float]:
    reg = ConnectionRegistry(store, "bench", "bench-1")
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        conn_id = reg.allocate("127.0.0.1:1")
        reg.claim(conn_id, user="alice", target="db", db=None)
        reg.release(conn_id)
        times.append(time.perf_counter() - t0)
    return times


def kill_latency(store: StateStore, rounds: int) -> list[float]:
    owner_side, asker = ConnectionRegistry(store, "a", "owner"), ConnectionRegistry(StateStore(store.url), "b", "ask")
    conn_id = owner_side.allocate("c")
    owner_side.claim(conn_id, user="alice", target="db", db=None)
    stop = threading.Event()

    def owner_loop() -> None:  # as plugins.mysql.cluster does it
        while not stop.wait(POLL_SECONDS):
            for request_id, _cid, _q, _by in owner_side.take_requests():
                owner_side.answer(request_id, Outcome("killed", thread_id=1))
    thread = threading.Thread(target=owner_loop)
    thread.start()
    owner = asker.owner(conn_id, "alice")
    assert owner is not None
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        assert asker.request_kill(owner, True, "alice", poll=0.02).kind == "killed"
        times.append(time.perf_counter() - t0)
    stop.set()
    thread.join()
    return times


def report(name: str, store: StateStore, n: int) -> None:
    store.migrate()
    conn = sorted(per_connection(store, n))
    kills = sorted(kill_latency(store, 20))
    print(f"{name:8} per connection: median {statistics.median(conn) * 1000:.2f} ms, "
          f"p95 {conn[int(len(conn) * 0.95)] * 1000:.2f} ms | KILL via another process: "
          f"median {statistics.median(kills) * 1000:.0f} ms, max {kills[-1] * 1000:.0f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--connections", type=int, default=500)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        report("sqlite", StateStore(f"sqlite:///{tmp}/state.db"), args.connections)
        db = MariaDB(Path(tmp) / "mariadb")
        db.start()
        try:
            db.sql("CREATE DATABASE bench_state")
            report("mariadb", _store(db), args.connections)
        finally:
            db.stop()


def _store(db: MariaDB) -> StateStore:
    db.sql("CREATE USER IF NOT EXISTS bench@'127.0.0.1' IDENTIFIED BY 'bench-pw'; "
           "GRANT ALL ON bench_state.* TO bench@'127.0.0.1';")
    return StateStore(f"mysql+pymysql://bench:bench-pw@127.0.0.1:{db.port}/bench_state")


if __name__ == "__main__":
    main()
