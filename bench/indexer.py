"""CPU per indexed document of ``bastion indexer`` (sqlite backend) over a journal of real statements.

``bench/mysql.py`` counts the indexer child in the bastion's CPU per statement; this bench
isolates it. It first records a journal with the real MySQL session of
``bench/statement.py`` (demo policy, text protocol: point-selects ``SELECT c FROM sbtest1
WHERE id=N``, each a ``query.start`` and a ``query`` record; ``--sessions`` sessions of
``--statements`` in all), then indexes a fresh copy of it ``--rounds`` times per batch size
(``--batch``; by default each revision's own ``audit.index.batch_size``),
each time in a child process set up like ``bastion indexer`` (gevent monkey-patched, the demo
configuration and its maskers loaded, the indexer built by ``build_indexer`` with blocking
calls offloaded to the hub's thread pool unless ``--no-offload``), and prints the child's CPU
time (user + system, every thread) per indexed document, best of the rounds, with the wall
time and the size of ``audit.db``.

``--baseline REV`` indexes the same journal with the indexer of git revision ``REV`` too
(its files exported beside the journal, first on the child's ``sys.path``), alternating
with the current tree in every round, so before and after come from one run::

    .venv/bin/python bench/indexer.py --baseline main
    .venv/bin/python bench/indexer.py --baseline main --batch 500 2000
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def record_journal(work: Path, statements: int, sessions: int) -> Path:
    """A journal of ``statements`` point-selects through the real session, in ``sessions``
    sessions, at ``work/journal`` (``work/bastion.yaml`` configures it); kept if it exists."""
    journal = work / "journal"
    if (work / "bastion.yaml").is_file() and journal.is_dir():
        return journal
    from bench.statement import context, run

    ctx = context(work, "demo", fsync=False)
    per = max(1, statements // sessions)
    for _ in range(sessions):
        run(ctx, "text", per, None)
    for name in ("indexer.db", "indexer.db-wal", "indexer.db-shm", "audit.db", "audit.db-wal", "audit.db-shm"):
        (journal / name).unlink(missing_ok=True)
    return journal


def measure(journal: Path, batch: int, offload: bool) -> dict[str, Any]:
    """Index a copy of ``journal`` like ``bastion indexer`` does; runs in the child process."""
    from gevent import monkey

    monkey.patch_all()
    from bastion.audit.backends.sqlite import SQLiteBackend
    from bastion.audit.indexer_process import indexer_context
    from bastion.audit.service import build_indexer

    ctx = indexer_context(str(journal.parent / "bastion.yaml"))

    work = Path(tempfile.mkdtemp(prefix="bastion-bench-idx-"))
    try:
        copy = work / "journal"
        shutil.copytree(journal, copy)
        backend = SQLiteBackend(copy / "audit.db")
        backend.setup()
        indexer = build_indexer(ctx, offload=offload, journal_dir=copy, backend=backend)
        assert indexer is not None
        indexer.batch_size = batch or indexer.batch_size
        wall, cpu = time.perf_counter(), time.process_time()
        records = indexer.catch_up(timeout=3600)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        docs = backend._connect().execute("SELECT count(*) FROM docs").fetchone()[0]
        indexer.close()
        size = sum(f.stat().st_size for f in copy.glob("audit.db*"))
        return {"records": records, "docs": docs, "cpu": cpu, "wall": wall, "bytes": size, "batch": indexer.batch_size}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def child(journal: Path, batch: int, offload: bool, src: Path | None) -> dict[str, Any]:
    """One measurement in a fresh process (``src``: the exported tree of the baseline)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--measure", str(journal), "--batch", str(batch)]
    if not offload:
        cmd.append("--no-offload")
    env = {**os.environ, "BENCH_INDEXER_SRC": str(src or ROOT)}
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--statements", type=int, default=20_000)
    ap.add_argument("--sessions", type=int, default=8, help="client sessions (8 clients in the profiled run)")
    ap.add_argument("--batch", type=int, nargs="+", default=[0],
                    help="audit.index.batch_size values (default: each revision's own default)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-offload", action="store_true", help="call sqlite on the hub's thread, no thread pool")
    ap.add_argument("--baseline", metavar="REV", help="also index with the indexer of git revision REV")
    ap.add_argument("--workdir", type=Path, help="record the journal here, or reuse the one recorded there")
    ap.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.batch[0], not args.no_offload)))
        return 0
    with tempfile.TemporaryDirectory(prefix="bastion-bench-indexer-") as tmp:
        work = Path(tmp)
        began = time.perf_counter()
        journal = record_journal(args.workdir or work, args.statements, args.sessions)
        print(f"journal: {journal} ({sum(f.stat().st_size for f in journal.glob('journal*.jsonl')) / 1e6:.1f} MB, "
              f"recorded in {time.perf_counter() - began:.1f}s)", flush=True)
        trees: dict[str, Path | None] = {"current": None}
        if args.baseline:
            from bench.baseline import export

            trees = {f"baseline {args.baseline}": export(args.baseline, work / "baseline-src"), **trees}
        for batch in args.batch:
            best: dict[str, dict[str, Any]] = {}
            for _ in range(args.rounds):
                for name, src in trees.items():
                    r = child(journal, batch, not args.no_offload, src)
                    if name not in best or r["cpu"] < best[name]["cpu"]:
                        best[name] = r
            for name, r in best.items():
                print(f"batch {r['batch']:5d} {name:>16s}: {r['cpu'] / r['docs'] * 1e6:6.1f} µs CPU per document "
                      f"({r['docs']:,} documents from {r['records']:,} records; wall {r['wall']:.2f}s; "
                      f"audit.db {r['bytes'] / r['docs']:.0f} B/doc; best of {args.rounds})", flush=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.environ.get("BENCH_INDEXER_SRC") or str(ROOT))
    sys.exit(main())
