"""The local audit journal: append-only JSON lines, hash-chained, the source of truth.

Each line is ``{"seq", "prev", "hash", "event"}`` (:mod:`bastion.audit.chain`), so editing,
removing or reordering a line breaks the chain (``bastion audit verify``,
:mod:`bastion.audit.verify`). ``append`` returns once its record is durable (unless
``audit.fsync`` is off, or the caller says the next synced append may cover it).

Group commit. Records are written in the order of their sequence numbers, in one
``write`` per group: while one commit (write + ``fdatasync``) runs, the records appended
meanwhile wait in a buffer, and the next commit writes them all at once and syncs them
with one ``fdatasync``. Whenever no commit runs, a record is written at once — so a record
that was appended survives a crash of the process alone as soon as no commit is in
flight, and at the latest when the commit in flight ends. ``fdatasync`` flushes the data
and the file size (what reading the records back needs) but not the timestamps: on the
development VM's ext4 it costs about 0.7 of an ``fsync``. Preallocating the file
(``posix_fallocate``) was measured slower still there (bench/journal.py: the first write
into each preallocated block converts it, a journaled metadata change), so the file grows
with its records and readers never meet a preallocated tail.

The journal is split into segments (see :mod:`bastion.audit.segments`): the active
``journal.jsonl`` is renamed to ``journal-<first seq>.jsonl`` once it reaches
``audit.rotate_bytes`` (or at the first record of a new UTC day with
``audit.rotate_daily``); the chain and the sequence numbers run on across segments.
Retention (:mod:`bastion.audit.retention`) deletes whole old segments and writes
``journal.anchor``, from which verification continues.

Crash safety: a record torn by ``kill -9`` or a power cut (a last line without ``\\n``) is
detected when the journal reopens. It is terminated with ``\\n`` and left in place as
evidence; readers skip it, ``verify`` reports it, and the chain continues from the last
complete record (the torn append never returned, so no session relied on it).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bastion.audit import segments as seg
from bastion.audit.chain import GENESIS, canonical, chain_hash, event_dict, record_line
from bastion.audit.fsutil import fsync_dir
from bastion.audit.retention import prune
from bastion.audit.verify import VerifyResult, verify
from bastion.runtime.metrics import AUDIT_FSYNCS, AUDIT_RECORDS

log = logging.getLogger("bastion.audit.journal")

__all__ = ["GENESIS", "Journal", "Offload", "VerifyResult", "canonical", "chain_hash", "event_dict", "prune",
           "record_line", "verify"]

Offload = Callable[[Callable[[int], None], int], None]
"""Runs ``fn(fd)`` (an fdatasync) and returns when it is done."""
DAY = 86400


def _write_all(fd: int, data: bytes) -> None:
    """One write(2) in practice; a short write (disk full, signal) continues where it stopped."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _inline(fn: Callable[[int], None], fd: int) -> None:
    fn(fd)


class Journal:
    """One journal per bastion node, in ``audit.journal_dir``. Thread- and greenlet-safe.

    Locks, always taken in this order: ``_lock`` (sequence, chain, rotation), then
    ``_sync_lock`` (one commit at a time), then ``_buf_lock`` (the buffer and the right
    to write)."""

    def __init__(self, directory: str | Path, fsync: bool = True, rotate_bytes: int = 0,
                 rotate_daily: bool = False, offload: Offload | None = None) -> None:
        """``offload(os.fdatasync, fd)`` runs a flush where it does not stop the caller's
        siblings (the gevent runtime passes its thread pool); by default it runs inline."""
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = self.dir / seg.ACTIVE
        self.fsync = fsync
        self.rotate_bytes = rotate_bytes
        self.rotate_daily = rotate_daily
        self._lock = threading.Lock()
        self._sync_lock = threading.Lock()
        """Held while a commit runs; appends that want theirs queue here (group commit)."""
        self._buf_lock = threading.Lock()
        self._buffer: list[bytes] = []
        """Lines appended while a commit runs, in sequence order, not yet written."""
        self._committing = False
        """A commit is writing or syncing: appends leave their lines in ``_buffer``."""
        self._buffered_upto = 0
        """The sequence number of the last record in ``_buffer`` or already written."""
        self._broken: OSError | None = None
        """A write or flush failed: records may be missing from the file, so nothing more
        is appended or reported durable (the audit gate fails closed)."""
        self._offload = offload or _inline
        self.torn = self._recover()
        self.seq, self.prev, last_at = self._tail()
        first = seg.first_record(self.path)
        self._active_first = int(first["seq"]) if first else 0
        self._day = int(last_at // DAY) if self._active_first else -1
        self._fd = self._open()
        self._size = os.fstat(self._fd).st_size
        self._synced = self._buffered_upto = self.seq

    def _open(self) -> int:
        return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)

    def _recover(self) -> bool:
        """Terminate a torn last line so the next record starts on a line of its own."""
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return False
        if size == 0:
            return False
        with open(self.path, "rb+") as fh:
            fh.seek(size - 1)
            if fh.read(1) == b"\n":
                return False
            fh.write(b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        log.warning("journal %s: torn last record after a crash; continuing after the last complete one",
                    self.path)
        return True

    def _tail(self) -> tuple[int, str, float]:
        for segment in reversed(seg.list_segments(self.dir)):
            record = seg.last_record(segment.path)
            if record is not None:
                return int(record["seq"]), str(record["hash"]), float(record["event"].get("at", 0))
        anchor = seg.read_anchor(self.dir)
        if anchor is not None:
            return anchor[0], anchor[1], 0.0
        return 0, GENESIS, 0.0

    def _should_rotate(self, at: float) -> bool:
        if not self._active_first:
            return False
        if self.rotate_bytes and self._size >= self.rotate_bytes:
            return True
        return self.rotate_daily and int(at // DAY) != self._day

    def _rotate(self) -> None:
        with self._sync_lock:  # no commit may run on the descriptor being closed
            self._commit(_inline)  # records appended with sync=False must not move into a segment unsynced
            os.close(self._fd)
            os.rename(self.path, self.dir / seg.segment_name(self._active_first))
            self._fd = self._open()
            fsync_dir(self.dir)
        self._size, self._active_first = 0, 0

    def append(self, event: dict[str, Any], sync: bool = True) -> int:
        """Write one event (durably unless ``sync`` is False: then the next synced append
        makes it durable); returns its sequence number."""
        with self._lock:
            self._check()
            at = float(event.get("at") or time.time())
            if self._should_rotate(at):
                self._rotate()
            seq = self.seq + 1
            line, digest = record_line(seq, self.prev, event)
            with self._buf_lock:
                if self._committing:
                    self._buffer.append(line)  # the commit in flight writes it when it ends
                else:
                    self._write(line)
                self._buffered_upto = seq
            self.seq, self.prev = seq, digest
            AUDIT_RECORDS.inc()
            self._size += len(line)
            self._day = int(at // DAY)
            if not self._active_first:
                self._active_first = seq
        if sync and self.fsync:
            self._durable(seq)
        return seq

    def _durable(self, seq: int) -> None:
        """Return once record ``seq`` is on disk. Group commit: one write and one
        fdatasync cover every record appended before the commit started, so appends that
        queue while one runs (off the hub, through ``offload``) share the next one."""
        with self._sync_lock:
            self._check()
            if self._synced < seq:
                self._commit(self._offload)

    def _check(self) -> None:
        if self._broken is not None:
            raise OSError(f"journal {self.path}: an earlier write or flush failed ({self._broken})")

    def _write(self, data: bytes) -> None:
        try:
            _write_all(self._fd, data)
        except OSError as exc:
            self._broken = exc
            raise

    def _commit(self, run: Offload) -> None:
        """Write the buffer (one write) and fdatasync through ``run``; the caller holds
        ``_sync_lock``. Lines appended meanwhile are written when it ends."""
        with self._buf_lock:
            data, upto = b"".join(self._buffer), self._buffered_upto
            self._buffer.clear()
            self._committing = True
        try:
            if data:
                self._write(data)
            if self.fsync:
                try:
                    run(os.fdatasync, self._fd)
                except OSError as exc:
                    self._broken = exc
                    raise
                AUDIT_FSYNCS.inc()
                self._synced = max(self._synced, upto)
        finally:
            with self._buf_lock:
                self._committing = False
                if self._buffer and self._broken is None:  # appended meanwhile: written now, synced by the next
                    data = b"".join(self._buffer)
                    self._buffer.clear()
                    self._write(data)

    def close(self) -> None:
        with self._lock, self._sync_lock:
            if self._fd >= 0:
                try:
                    if self._broken is None:
                        self._commit(_inline)
                finally:
                    os.close(self._fd)
                    self._fd = -1


def __getattr__(name: str) -> Any:
    """``JournalSink`` and ``STARTS`` live in :mod:`bastion.audit.sink` (which imports this
    module); the ``journal`` entry point and older imports name them here."""
    if name in ("JournalSink", "STARTS"):
        from bastion.audit import sink

        return getattr(sink, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
