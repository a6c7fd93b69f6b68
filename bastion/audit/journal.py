"""The local audit journal: append-only JSON lines, hash-chained, the source of truth.

Each line is ``{"seq", "prev", "hash", "event"}`` where ``hash`` is SHA-256 over the
previous hash and the canonical JSON of the event, so editing, removing or reordering a
line breaks the chain (``bastion audit verify``). ``emit`` writes and flushes (and
fsyncs, unless disabled for benchmarks) before returning: an event is durable before
the session moves on.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bastion.core.contracts import AuditEvent

if TYPE_CHECKING:
    from bastion.context import PluginContext

GENESIS = "0" * 64


def canonical(event: dict[str, Any]) -> bytes:
    return json.dumps(event, sort_keys=True, separators=(",", ":"), default=str).encode()


def chain_hash(prev: str, event: dict[str, Any]) -> str:
    return hashlib.sha256(prev.encode() + canonical(event)).hexdigest()


class Journal:
    """One journal file per bastion node (``journal.jsonl`` in ``audit.journal_dir``)."""

    def __init__(self, directory: str | Path, fsync: bool = True) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = self.dir / "journal.jsonl"
        self.fsync = fsync
        self._lock = threading.Lock()
        self.seq, self.prev = self._tail()
        self._fh = open(self.path, "ab")  # noqa: SIM115 - kept open for the process lifetime

    def _tail(self) -> tuple[int, str]:
        seq, prev = 0, GENESIS
        if self.path.exists():
            for record in read_records(self.path):
                seq, prev = record["seq"], record["hash"]
        return seq, prev

    def append(self, event: dict[str, Any]) -> int:
        with self._lock:
            seq = self.seq + 1
            digest = chain_hash(self.prev, event)
            line = json.dumps({"seq": seq, "prev": self.prev, "hash": digest, "event": event},
                              sort_keys=True, separators=(",", ":"), default=str)
            self._fh.write(line.encode() + b"\n")
            self._fh.flush()
            if self.fsync:
                os.fsync(self._fh.fileno())
            self.seq, self.prev = seq, digest
            return seq

    def close(self) -> None:
        with self._lock:
            self._fh.close()


def read_records(path: Path) -> Iterator[dict[str, Any]]:
    """Complete records in order; a torn last line (crash mid-write) is skipped."""
    with open(path, "rb") as fh:
        for raw in fh:
            if not raw.endswith(b"\n"):
                return
            yield json.loads(raw)


def verify(path: Path) -> tuple[bool, int, str]:
    """Check the chain: (ok, records checked, problem description)."""
    prev, count = GENESIS, 0
    try:
        for record in read_records(path):
            count += 1
            if record["prev"] != prev or record["seq"] != count:
                return False, count, f"record {count}: chain broken (missing, reordered or inserted record)"
            if chain_hash(prev, record["event"]) != record["hash"]:
                return False, count, f"record {count}: content does not match its hash (edited)"
            prev = record["hash"]
    except (ValueError, KeyError) as exc:
        return False, count, f"record {count + 1}: unreadable ({exc})"
    return True, count, ""


class JournalSink:
    """The ``journal`` entry point of ``bastion.sinks``."""

    name = "journal"

    def __init__(self, ctx: PluginContext) -> None:
        self.journal = Journal(ctx.settings.config.audit.journal_dir)

    def emit(self, event: AuditEvent) -> None:
        self.journal.append(asdict(event))

    def close(self) -> None:
        self.journal.close()
