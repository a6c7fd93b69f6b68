"""Benchmark the audit journal: µs per record for each step of an append.

Run: ``.venv/bin/python bench/journal.py [--dir DIR]``. DIR (default: a temporary
directory under the current one, so on the same file system as a real ``var/audit``) holds
the throw-away journals. Figures:

* ``serialise + hash``: :func:`record_line` alone (canonical JSON of the event, SHA-256
  chained to the previous hash, the line around it), CPU time.
* ``append, no fsync``: :meth:`Journal.append` with ``audit.fsync`` off: everything but
  the disk flush (lock, rotation check, serialise, hash, write), CPU time.
* ``fsync`` / ``fdatasync`` on a growing file, and ``fdatasync`` on a file preallocated
  with ``posix_fallocate`` or with written zeros (records overwrite the preallocated
  bytes): one flush after each 300-byte write on this file system, wall time (the
  latency a session waits for with one statement in flight). The journal uses
  ``fdatasync`` on a growing file: on the development VM's ext4 preallocation with
  ``posix_fallocate`` was slower (the first write into each block converts an unwritten
  extent, a journaled metadata change) and written zeros no faster.
* ``group commit, N threads``: N writers appending synced records at once; wall µs per
  record (one write and one flush cover the records queued while the previous commit
  ran), and writes and flushes per record.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bastion.audit.journal import Journal, event_dict, record_line
from bastion.core.contracts import AuditEvent


def query_event(i: int) -> dict[str, object]:
    """A statement outcome record as the MySQL listener writes it (typical size and shape)."""
    return event_dict(AuditEvent(
        type="query", session_id="5f0c3a9e2b7d4c1a", at=1733300000.0 + i * 0.001,
        data={"event_id": f"q{i}", "statement": f"SELECT id, name, email FROM customers WHERE id = {i}",
              "fingerprint": "select id , name , email from customers where id = ?", "kind": "read",
              "verdict": "allow", "rules": ["default-allow"], "rows": 1, "duration_ms": 0.412,
              "masked": {"email:shop.customers.email": 1}, "tables": ["shop.customers"], "error": None}))


def cpu_per_call(fn: Callable[[int], object], n: int, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        for i in range(n):
            fn(i)
        best = min(best, (time.process_time() - start) / n)
    return best


PREALLOCATE = 8 << 20


def flush_latency(directory: Path, sync: Callable[[int], None], n: int = 200, preallocate: str = "") -> float:
    """Wall seconds per 300-byte write + ``sync``; ``preallocate``: "", "fallocate" or "zeros"."""
    path = directory / "flush.jsonl"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    if preallocate == "fallocate":
        os.posix_fallocate(fd, 0, PREALLOCATE)
    elif preallocate == "zeros":
        os.write(fd, bytes(PREALLOCATE))
    os.fsync(fd)
    line = b"x" * 299 + b"\n"
    start = time.perf_counter()
    for i in range(n):
        os.pwrite(fd, line, i * len(line))
        sync(fd)
    elapsed = (time.perf_counter() - start) / n
    os.close(fd)
    path.unlink()
    return elapsed


class Calls:
    """Counts calls of an ``os`` function while a block runs."""

    def __init__(self, name: str) -> None:
        self.name, self.count = name, 0
        self.real = getattr(os, name)

    def __enter__(self) -> Calls:
        def counted(*args: object) -> object:
            self.count += 1
            return self.real(*args)
        setattr(os, self.name, counted)
        return self

    def __exit__(self, *exc: object) -> None:
        setattr(os, self.name, self.real)


def group_commit(directory: Path, threads: int, per_thread: int = 100) -> tuple[float, float, float]:
    """(wall seconds, writes, flushes) per record with ``threads`` writers."""
    journal = Journal(directory / f"group-{threads}", fsync=True)
    events = [query_event(i) for i in range(per_thread)]

    def writer() -> None:
        for event in events:
            journal.append(event)

    workers = [threading.Thread(target=writer) for _ in range(threads)]
    with Calls("write") as writes, Calls("fsync") as fsyncs, Calls("fdatasync") as fdatasyncs:
        start = time.perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        elapsed = time.perf_counter() - start
    journal.close()
    n = threads * per_thread
    return elapsed / n, writes.count / n, (fsyncs.count + fdatasyncs.count) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", default=".", help="where the throw-away journals go")
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="bench-journal-", dir=args.dir))
    try:
        events = [query_event(i) for i in range(2000)]
        prev = "ab" * 32
        t = cpu_per_call(lambda i: record_line(i + 1, prev, events[i]), 2000)
        print(f"serialise + hash          {t * 1e6:8.2f} µs/record (CPU)")
        journal = Journal(directory / "nosync", fsync=False)
        t = cpu_per_call(lambda i: journal.append(events[i]), 2000)
        journal.close()
        print(f"append, no fsync          {t * 1e6:8.2f} µs/record (CPU)")
        for _round in range(2):  # alternating: the disk's load changes under us
            for name, sync, pre in (("fsync", os.fsync, ""), ("fdatasync", os.fdatasync, ""),
                                    ("fdatasync, fallocated", os.fdatasync, "fallocate"),
                                    ("fdatasync, zero-filled", os.fdatasync, "zeros")):
                t = flush_latency(directory, sync, preallocate=pre)
                print(f"{name:25} {t * 1e6:8.1f} µs/record (wall, one writer)")
        for threads in (1, 8, 32):
            t, writes, flushes = group_commit(directory, threads)
            print(f"group commit, {threads:2} threads  {t * 1e6:8.1f} µs/record (wall), "
                  f"{writes:.2f} writes and {flushes:.2f} flushes per record")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
