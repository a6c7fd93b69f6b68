"""The indexer: tails the journal and feeds the search index, off the data path.

The journal (written synchronously by the sessions) is the source of truth; the index is
derived from it, asynchronously, by the ``bastion indexer`` process (recording is
synchronous and local, indexing asynchronous and derived). The indexer never touches a
session: if the engine is down, sessions go on and the indexer falls behind, then catches up.

One :meth:`Indexer.step` reads the next complete records after its saved position,
turns them into documents (tagging each with its session's user and target, and adding
``output`` documents for terminal recordings), writes them idempotently, and only then
saves the new position. Hence no record is skipped (the position moves only after the
write was acknowledged) and none is stored twice (document ids are ``<node>:<seq>``,
and a backend keeps the first copy of an id). :meth:`run` repeats steps, sleeping
``poll_interval`` when caught up and backing off exponentially (up to ``max_backoff``)
while the backend is unavailable. Blocking work (file reads, sqlite) runs in gevent's
thread pool when ``offload`` is set, so the hub keeps serving sessions meanwhile.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from bastion.audit import segments
from bastion.audit.backends import BackendUnavailable, IndexBackend
from bastion.audit.recordings import output_documents
from bastion.audit.schema import SessionInfo, document
from bastion.audit.state import IndexState, node_id
from bastion.core.records import STARTS
from bastion.runtime.metrics import AUDIT_INDEX_FAILURES, AUDIT_INDEX_LAG

log = logging.getLogger("bastion.audit.index")
T = TypeVar("T")
METRICS_EVERY = 2.0
"""Seconds between lag measurements while the indexer is behind (each reads the journal's tail)."""
REJECTED = "index-rejected.jsonl"
"""Documents an engine refused for good (mapping errors): logged here, the journal keeps the event."""


class Indexer:
    def __init__(self, journal_dir: str | Path, backend: IndexBackend, *, batch_size: int = 2000,
                 poll_interval: float = 0.5, max_backoff: float = 30.0, max_output_bytes: int = 1 << 20,
                 redact: Callable[[str], str] | None = None, offload: bool = False) -> None:
        self.dir = Path(journal_dir)
        self.backend = backend
        self.node = node_id(self.dir)
        self.state = IndexState(self.dir / "indexer.db", backend.key)
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.max_backoff = max_backoff
        self.max_output_bytes = max_output_bytes
        self.redact = redact or (lambda text: text)
        self.offload = offload
        self._stop = threading.Event()
        self._sessions: dict[str, SessionInfo] = {}
        self._ready = False
        self.failures = 0
        """Consecutive failed steps (0 while healthy)."""
        self.last_error = ""
        self.indexed = 0
        """Records indexed by this process."""
        self._measured = 0.0

    # ------------------------------------------------------------------ one step

    def _call(self, fn: Callable[..., T], *args: Any) -> T:
        if not self.offload:
            return fn(*args)
        import gevent

        result: T = gevent.get_hub().threadpool.apply(fn, args)
        return result

    def _session(self, session_id: str) -> SessionInfo | None:
        if not session_id:
            return None
        info = self._sessions.get(session_id)
        if info is None:
            info = self.state.session(session_id)
            if info is not None:
                self._remember(session_id, info)
        return info

    def _remember(self, session_id: str, info: SessionInfo) -> None:
        if len(self._sessions) >= 10_000:
            self._sessions.pop(next(iter(self._sessions)))
        self._sessions[session_id] = info

    def documents(self, records: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, SessionInfo]]:
        """Documents for a batch of journal records, and the sessions that started in it."""
        docs: list[dict[str, Any]] = []
        started: dict[str, SessionInfo] = {}
        for record in records:
            event = record["event"]
            if event["type"] in STARTS:
                continue  # its outcome record (or the one recovered after a crash) says it all
            sid = str(event.get("session_id") or "")
            if event["type"] == "session.start" and sid:
                started[sid] = SessionInfo.from_start(event.get("data") or {})
                self._remember(sid, started[sid])
            info = self._session(sid)
            doc = document(record, self.node, info)
            docs.append(doc)
            if event["type"] == "recording":
                docs.extend(output_documents(doc, record, self.node, info, self.redact, self.max_output_bytes))
        return docs, started

    def step(self) -> int:
        """Index the next batch; returns how many journal records it covered.

        Raises BackendUnavailable (nothing saved: the same batch is read again next time).
        """
        if not self._ready:
            # like write: an engine client's pooled (gevent) connections must stay on the hub's
            # thread; one opened in the thread pool fails the next bulk ("Cannot switch to a
            # different thread")
            if self.backend.blocking:
                self._call(self.backend.setup)
            else:
                self.backend.setup()
            self._ready = True
        position = self.state.position
        records, new_pos, torn = self._call(segments.read_from, self.dir, position, self.batch_size)
        if torn:
            log.warning("journal: skipped %d torn line(s) left by a crash", torn)
        if not records:
            if new_pos != position:
                self._call(self.state.commit, new_pos, {})
            return 0
        docs, started = self.documents(records)
        rejected = self._call(self.backend.write, docs) if self.backend.blocking else self.backend.write(docs)
        if rejected:
            self._reject(rejected)
        self._call(self.state.commit, new_pos, started)
        self.indexed += len(records)
        return len(records)

    def _reject(self, rejected: list[tuple[str, str]]) -> None:
        log.error("%s rejected %d document(s); see %s", self.backend.name, len(rejected), REJECTED)
        with open(self.dir / REJECTED, "a", encoding="utf-8") as fh:
            for doc, reason in rejected:
                fh.write(json.dumps({"at": time.time(), "backend": self.backend.key, "id": doc,
                                     "reason": reason}) + "\n")

    # ------------------------------------------------------------------ loops

    def catch_up(self, timeout: float = 60.0) -> int:
        """Step until nothing is left (or ``timeout``); returns records indexed. Raises on failure."""
        deadline = time.monotonic() + timeout
        total = 0
        while time.monotonic() < deadline:
            n = self.step()
            total += n
            if n == 0:
                break
        return total

    def backoff(self) -> float:
        """Seconds to wait after ``failures`` consecutive failures: exponential, jittered, capped."""
        base = min(self.max_backoff, 0.5 * 2 ** min(self.failures - 1, 16))
        return float(base * random.uniform(0.8, 1.0))

    def run(self) -> None:
        """Index until :meth:`stop`; never raises. Waits are cut short by :meth:`stop`."""
        self._stop.clear()
        while not self._stop.is_set():
            try:
                n = self.step()
            except BackendUnavailable as exc:
                self._failed(str(exc))
                self._stop.wait(self.backoff())
                continue
            except Exception as exc:  # noqa: BLE001 - the indexer must survive anything and retry
                log.exception("indexer step failed")
                self._failed(repr(exc))
                self._stop.wait(self.backoff())
                continue
            if self.failures:
                log.info("%s index reachable again; catching up", self.backend.name)
                self.failures, self.last_error = 0, ""
                AUDIT_INDEX_FAILURES.set(0)
            self._measure(caught_up=n < self.batch_size)
            if n < self.batch_size:
                self._stop.wait(self.poll_interval)
            elif self.offload:
                import gevent

                gevent.sleep(0)  # a long catch-up still lets sessions run between batches

    def _measure(self, caught_up: bool) -> None:
        """Update the lag gauge: 0 right after a short batch (everything written so far was
        read), otherwise from the journal's last record, at most every METRICS_EVERY seconds."""
        if caught_up:
            AUDIT_INDEX_LAG.set(0)
            self._measured = 0.0
            return
        now = time.monotonic()
        if now - self._measured < METRICS_EVERY:
            return
        self._measured = now
        try:
            AUDIT_INDEX_LAG.set(self._call(self.status)["lag"])
        except (OSError, ValueError):
            log.debug("journal lag measurement failed", exc_info=True)

    def _failed(self, error: str) -> None:
        self.failures += 1
        self._ready = False
        self.last_error = error
        AUDIT_INDEX_FAILURES.set(self.failures)
        self._measure(caught_up=False)
        if self.failures == 1 or self.failures % 20 == 0:
            log.warning("%s index unavailable (%d attempt(s)), events wait in the journal: %s",
                        self.backend.name, self.failures, error)

    def stop(self) -> None:
        """Ask :meth:`run` to return after the current step."""
        self._stop.set()

    def close(self) -> None:
        self.backend.close()
        self.state.close()

    def status(self) -> dict[str, Any]:
        """Position, lag (journal records not yet indexed) and health, for /metrics and the CLI."""
        last = 0
        segs = segments.list_segments(self.dir)
        if segs:
            record = segments.last_record(segs[-1].path)
            last = int(record["seq"]) if record else 0
        return {"backend": self.backend.key, "node": self.node, "indexed_seq": self.state.position.seq,
                "journal_seq": last, "lag": max(0, last - self.state.position.seq),
                "failures": self.failures, "last_error": self.last_error}
