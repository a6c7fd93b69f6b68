"""The local audit journal: append-only JSON lines, hash-chained, the source of truth.

Each line is ``{"seq", "prev", "hash", "event"}`` where ``hash`` is SHA-256 over the
previous hash and the canonical JSON of the event, so editing, removing or reordering a
line breaks the chain (``bastion audit verify``). ``append`` writes and flushes (and
fsyncs, unless ``audit.fsync`` is off) before returning: an event is durable before the
session moves on.

The journal is split into segments (see :mod:`bastion.audit.segments`): the active
``journal.jsonl`` is renamed to ``journal-<first seq>.jsonl`` once it reaches
``audit.rotate_bytes`` (or at the first record of a new UTC day with
``audit.rotate_daily``); the chain and the sequence numbers run on across segments.
Retention (:func:`prune`) deletes whole old segments and writes ``journal.anchor``, the
``(seq, hash)`` of the last deleted record, from which verification continues.

Crash safety: a record torn by ``kill -9`` or a power cut (a last line without ``\\n``) is
detected when the journal reopens. It is terminated with ``\\n`` and left in place as
evidence; readers skip it, ``verify`` reports it, and the chain continues from the last
complete record (the torn append never returned, so no session relied on it).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from bastion.audit import segments as seg
from bastion.core import records
from bastion.core.contracts import AuditEvent
from bastion.runtime.metrics import AUDIT_FSYNCS, AUDIT_RECORDS

if TYPE_CHECKING:
    from bastion.context import PluginContext

log = logging.getLogger("bastion.audit.journal")

GENESIS = "0" * 64
Offload = Callable[[Callable[[int], None], int], None]
"""Runs ``fn(fd)`` (an fsync) and returns when it is done."""
DAY = 86400


_ORJSON_OPTIONS = (orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME
                   | orjson.OPT_PASSTHROUGH_SUBCLASS)


def _not_native(value: object) -> object:
    raise TypeError(f"{type(value).__name__} is left to json.dumps")


def canonical(event: dict[str, Any]) -> bytes:
    """``json.dumps(event, sort_keys=True, separators=(",", ":"), default=str)`` as bytes.

    orjson writes it when it can (about ten times faster): for ASCII output of plain
    JSON types the bytes are the same. Anything else — non-ASCII text (json escapes it as
    ``\\uXXXX``), lone surrogates, subclasses, dataclasses, dates, integers past 64 bits,
    non-string keys — goes through ``json.dumps``. One known difference remains: orjson
    spells floats below 1e-4 without an exponent; the value is the same after parsing, and
    :func:`verify` hashes the bytes as written, so the chain holds either way.
    """
    try:
        body = orjson.dumps(event, default=_not_native, option=_ORJSON_OPTIONS)
    except TypeError:
        pass
    else:
        if body.isascii():
            return body
    return json.dumps(event, sort_keys=True, separators=(",", ":"), default=str).encode()


def _digest(prev: str, body: bytes) -> str:
    digest = hashlib.sha256(prev.encode())
    digest.update(body)
    return digest.hexdigest()


def chain_hash(prev: str, event: dict[str, Any]) -> str:
    return _digest(prev, canonical(event))


def record_line(seq: int, prev: str, event: dict[str, Any]) -> tuple[bytes, str]:
    """The journal line of ``event`` and its hash. The event is serialised once: the line
    is exactly ``json.dumps({"seq", "prev", "hash", "event"}, sort_keys=True, compact)``,
    whose ``event`` member is the canonical JSON the hash covers."""
    body = canonical(event)
    digest = _digest(prev, body)
    return b'{"event":%s,"hash":"%s","prev":"%s","seq":%d}\n' % (body, digest.encode(), prev.encode(), seq), digest


def event_dict(event: AuditEvent) -> dict[str, Any]:
    """``dataclasses.asdict`` without its deep copy (the event is serialised at once)."""
    return {"type": event.type, "session_id": event.session_id, "at": event.at, "data": dict(event.data),
            "id": event.id, "schema": event.schema}


def _write_all(fh: Any, data: bytes) -> None:
    """One write(2) in practice; a short write (disk full, signal) continues where it stopped."""
    view = memoryview(data)
    while view:
        view = view[fh.write(view):]


def _inline(fn: Callable[[int], None], fd: int) -> None:
    fn(fd)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Journal:
    """One journal per bastion node, in ``audit.journal_dir``. Thread- and greenlet-safe."""

    def __init__(self, directory: str | Path, fsync: bool = True, rotate_bytes: int = 0,
                 rotate_daily: bool = False, offload: Offload | None = None) -> None:
        """``offload(os.fsync, fd)`` runs an fsync where it does not stop the caller's
        siblings (the gevent runtime passes its thread pool); by default it runs inline."""
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = self.dir / seg.ACTIVE
        self.fsync = fsync
        self.rotate_bytes = rotate_bytes
        self.rotate_daily = rotate_daily
        self._lock = threading.Lock()
        self._sync_lock = threading.Lock()
        """Held while an fsync runs; appends that want theirs queue here (group commit)."""
        self._offload = offload or _inline
        self.torn = self._recover()
        self.seq, self.prev, last_at = self._tail()
        first = seg.first_record(self.path)
        self._active_first = int(first["seq"]) if first else 0
        self._day = int(last_at // DAY) if self._active_first else -1
        # Unbuffered: each record is one write(2) straight to the OS (no copy into a Python
        # buffer and flush): it survives a crash of the process as soon as append returns.
        self._fh = open(self.path, "ab", buffering=0)  # noqa: SIM115 - kept open for the process lifetime
        self._size = self._fh.tell()
        self._synced = self.seq

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
        with self._sync_lock:  # no fsync may run on the descriptor being closed
            self._sync()  # an append made with sync=False must not move into a segment unsynced
            self._fh.close()
            os.rename(self.path, self.dir / seg.segment_name(self._active_first))
            self._fh = open(self.path, "ab", buffering=0)  # noqa: SIM115
            _fsync_dir(self.dir)
        self._size, self._active_first = 0, 0

    def append(self, event: dict[str, Any], sync: bool = True) -> int:
        """Write one event (durably unless ``sync`` is False: then the next synced append
        makes it durable, and a crash of the process alone never loses it); returns its
        sequence number."""
        with self._lock:
            at = float(event.get("at") or time.time())
            if self._should_rotate(at):
                self._rotate()
            seq = self.seq + 1
            line, digest = record_line(seq, self.prev, event)
            _write_all(self._fh, line)
            self.seq, self.prev = seq, digest  # the line is in the file, synced or not
            AUDIT_RECORDS.inc()
            self._size += len(line)
            self._day = int(at // DAY)
            if not self._active_first:
                self._active_first = seq
        if sync and self.fsync:
            self._durable(seq)
        return seq

    def _durable(self, seq: int) -> None:
        """Return once record ``seq`` is on disk. Group commit: one fsync covers every
        record written before it started, so appends that queue while one runs (off the
        hub, through ``offload``) share the next one instead of taking turns."""
        with self._sync_lock:
            if self._synced < seq:
                self._sync(self._offload)

    def _sync(self, run: Offload | None = None) -> None:
        """fsync every record written so far, through ``run`` (default: inline); the
        caller holds ``_sync_lock``."""
        if self.fsync and not self._fh.closed:
            upto = self.seq
            (run or _inline)(os.fsync, self._fh.fileno())
            AUDIT_FSYNCS.inc()
            self._synced = max(self._synced, upto)

    def close(self) -> None:
        with self._lock, self._sync_lock:
            self._sync()
            self._fh.close()


def _hash_ok(raw: bytes, record: dict[str, Any], prev: str) -> bool:
    """Does the record's hash cover its event? Checked on the event's bytes as written
    (the line is ``{"event":<bytes>,"hash":…,"prev":…,"seq":…}``), else on its canonical
    JSON (a line laid out otherwise, e.g. rewritten by a tool)."""
    digest = record.get("hash")
    tail = b',"hash":"%s","prev":"%s","seq":%d}\n' % (str(digest).encode(), str(record.get("prev")).encode(),
                                                       record["seq"])
    if raw.startswith(b'{"event":') and raw.endswith(tail) and _digest(prev, raw[9:-len(tail)]) == digest:
        return True
    return chain_hash(prev, record["event"]) == digest


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    records: int
    segments: int
    torn: int
    problem: str = ""


def verify(directory: Path) -> VerifyResult:
    """Check the chain across every segment (from ``journal.anchor`` when retention pruned)."""
    directory = directory if directory.is_dir() else directory.parent
    anchor = seg.read_anchor(directory)
    expect_seq, prev = (anchor[0] + 1, anchor[1]) if anchor else (1, GENESIS)
    count = torn = 0
    segments = seg.list_segments(directory)
    for segment in segments:
        if anchor and not segment.active and segment.first_seq < expect_seq:
            last = seg.last_record(segment.path)
            if last is not None and last["seq"] <= anchor[0]:
                continue  # retention wrote the anchor but crashed before deleting this segment
        if segment.first_seq != expect_seq:
            return VerifyResult(False, count, len(segments), torn,
                                f"{segment.path.name}: starts at record {segment.first_seq}, "
                                f"expected {expect_seq} (missing or extra segment)")
        with open(segment.path, "rb") as fh:
            for lineno, raw in enumerate(fh, 1):
                if not raw.endswith(b"\n"):
                    break  # being written (or torn and not yet reopened): not part of the chain yet
                record = seg.parse_line(raw)
                where = f"{segment.path.name} line {lineno}"
                if record is None:
                    torn += 1
                    continue
                count += 1
                if record.get("prev") != prev or record["seq"] != expect_seq:
                    return VerifyResult(False, count, len(segments), torn,
                                        f"{where} (record {record['seq']}): chain broken "
                                        f"(missing, reordered or inserted record)")
                if not _hash_ok(raw, record, prev):
                    return VerifyResult(False, count, len(segments), torn,
                                        f"{where} (record {record['seq']}): content does not match its hash "
                                        f"(edited)")
                prev, expect_seq = record["hash"], expect_seq + 1
    return VerifyResult(True, count, len(segments), torn)


def prune(directory: Path, retention_days: int, indexed_seq: int | None, now: float | None = None) -> list[Path]:
    """Delete rotated segments whose last record is older than ``retention_days``.

    Never deletes the active segment, nor a segment holding a record the indexer has not
    indexed yet (``indexed_seq``; None when no indexer runs). Writes ``journal.anchor``
    before deleting, so :func:`verify` continues from the last deleted record.
    """
    if retention_days <= 0:
        return []
    cutoff = (now or time.time()) - retention_days * DAY
    deleted: list[Path] = []
    for segment in seg.list_segments(directory):
        last = seg.last_record(segment.path)
        if segment.active or last is None or float(last["event"].get("at", 0)) >= cutoff:
            break
        if indexed_seq is not None and last["seq"] > indexed_seq:
            break
        tmp = directory / (seg.ANCHOR + ".tmp")
        tmp.write_text(json.dumps({"seq": last["seq"], "hash": last["hash"], "at": last["event"].get("at")}))
        os.replace(tmp, directory / seg.ANCHOR)
        segment.path.unlink()
        deleted.append(segment.path)
    if deleted:
        _fsync_dir(directory)
        log.info("journal retention deleted %d segment(s)", len(deleted))
    return deleted


def _hub_offload(ctx: PluginContext) -> Offload | None:
    """Under the gevent runtime, fsync in the hub's thread pool while other sessions are
    open: they go on meanwhile (and queue for the next fsync). With one session or none,
    inline: nobody would run meanwhile, and the trip through the pool costs the statement
    more than the fsync blocks (measured: about 0.1 ms a trip on the development VM).
    Elsewhere (tools, tests) inline."""
    from gevent import monkey

    if not monkey.is_module_patched("threading"):
        return None
    import gevent

    def offload(fn: Callable[[int], None], fd: int) -> None:
        sessions = ctx.open_sessions
        if sessions is not None and sessions() <= 1:
            fn(fd)
        else:
            gevent.get_hub().threadpool.apply(fn, (fd,))
    return offload


STARTS = records.STARTS
"""Records written before a request runs, and the type of their outcome."""


class JournalSink:
    """The ``journal`` entry point of ``bastion.sinks``."""

    name = "journal"
    required = True
    """The source of truth: when it cannot write, the context fails closed (AuditGate)."""

    def __init__(self, ctx: PluginContext) -> None:
        cfg = ctx.settings.config.audit
        self.journal = Journal(cfg.journal_dir, fsync=cfg.fsync, rotate_bytes=cfg.rotate_bytes,
                               rotate_daily=cfg.rotate_daily, offload=_hub_offload(ctx))
        self._started: dict[tuple[str, str], None] = {}
        """Statements and commands whose start record is durable and whose outcome is due."""

    def close_orphans(self) -> None:
        """Sessions, statements and commands this node started but never ended (the process
        was killed): none survives a restart, so record their end now — the audit never
        shows a ghost session, and a statement that was running says its outcome is unknown."""
        sessions: dict[str, dict[str, Any]] = {}
        running: dict[tuple[str, str], dict[str, Any]] = {}
        for segment in seg.list_segments(self.journal.dir)[-2:]:  # rotation is rare inside a session
            for record in seg.iter_all_segment(segment.path):
                event = record.get("event", {})
                type_, sid = event.get("type"), str(event.get("session_id") or "")
                key = (sid, str((event.get("data") or {}).get("event_id", "")))
                if type_ == "session.start":
                    sessions[sid] = event
                elif type_ == "session.end":
                    sessions.pop(sid, None)
                elif type_ in STARTS:
                    running[key] = event
                elif type_ in STARTS.values():
                    running.pop(key, None)
        for (sid, _), start in running.items():
            self.journal.append(event_dict(AuditEvent(
                type=STARTS[start["type"]], session_id=sid, at=time.time(),
                data={**start.get("data", {}), "verdict": "allow", "recovered": True, "started_at": start.get("at"),
                      "error": "outcome unknown: the bastion stopped while it ran (crash or kill)"})))
        for sid, start in sessions.items():
            self.journal.append(event_dict(AuditEvent(
                type="session.end", session_id=sid, at=time.time(),
                data={"reason": "bastion stopped without closing the session (crash or kill)",
                      "recovered": True, "started_at": start.get("at")})))
        if sessions or running:
            log.warning("closed %d session(s) and %d statement(s) or command(s) left open by a previous run",
                        len(sessions), len(running))

    def emit(self, event: AuditEvent) -> None:
        key = (event.session_id, str(event.data.get("event_id", "")))
        if event.type in STARTS:
            self.journal.append(event_dict(event))
            if len(self._started) >= 100_000:  # outcomes lost with their session: forget the oldest
                self._started.pop(next(iter(self._started)))
            self._started[key] = None
        elif event.type in STARTS.values() and key in self._started:
            # Its start is durable; the next synced append (every start is one) covers it.
            del self._started[key]
            self.journal.append(event_dict(event), sync=False)
        else:
            self.journal.append(event_dict(event))

    def close(self) -> None:
        self.journal.close()
