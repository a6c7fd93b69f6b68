"""The query API of the audit dashboard: search, session timelines, live sessions, exports.

Everything reads the index (derived data) through an :class:`IndexBackend`, so results
trail the journal by the indexer's lag (normally under a second). Roles are the web
layer's business: callers check that the user is an auditor or admin before calling.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import time
from collections.abc import Iterator
from typing import Any

from bastion.audit.backends import IndexBackend, open_backend
from bastion.audit.query import MAX_SIZE, Hit, Page, Search
from bastion.config.model import AuditConfig

EXPORT_COLUMNS = ("time", "type", "user", "target", "protocol", "account", "session", "event_id", "verdict",
                  "rule", "result", "statement", "command", "path", "output", "message", "client_addr", "id")
LIVE_WINDOW = 7 * 86400.0
"""How far back ``live_sessions`` looks for a ``session.start`` without its ``session.end``."""


def iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{int(seconds * 1000) % 1000:03d}Z"


class AuditSearch:
    def __init__(self, backend: IndexBackend) -> None:
        self.backend = backend

    @classmethod
    def from_config(cls, audit: AuditConfig) -> AuditSearch | None:
        """None when ``audit.index.backend`` is ``none``."""
        backend = open_backend(audit.index, audit.journal_dir)
        return cls(backend) if backend is not None else None

    def search(self, q: Search) -> Page:
        """One page of hits with highlights; pass ``page.next_cursor`` as ``after`` for the next."""
        return self.backend.search(q)

    def scan(self, q: Search) -> Iterator[Hit]:
        """Every hit of a search, page by page (search_after), in the search's order."""
        q = dataclasses.replace(q, size=MAX_SIZE)
        while True:
            page = self.backend.search(q)
            yield from page.hits
            if page.next_cursor is None:
                return
            q = dataclasses.replace(q, after=page.next_cursor)

    def session_timeline(self, session_id: str, include_output: bool = False) -> list[Hit]:
        """Every event of a session, oldest first (terminal output chunks only on request)."""
        hits = self.scan(Search(session=(session_id,), order="oldest", highlight=False))
        return [h for h in hits if include_output or h.doc.get("type") != "output"]

    def live_sessions(self, now: float | None = None, window: float = LIVE_WINDOW) -> list[dict[str, Any]]:
        """Sessions with a ``session.start`` and no ``session.end`` yet, newest first.

        A bastion killed without a chance to write ``session.end`` leaves its sessions here
        until ``window`` passes.
        """
        since = (now or time.time()) - window
        starts = list(self.scan(Search(type=("session.start",), since=since, highlight=False)))
        ended: set[str] = set()
        ids = [h.doc["session"] for h in starts]
        for i in range(0, len(ids), 500):
            q = Search(type=("session.end",), session=tuple(ids[i:i + 500]), highlight=False)
            ended.update(h.doc["session"] for h in self.scan(q))
        return [{"session": h.doc["session"], "started": h.time, "user": h.doc.get("user", ""),
                 "target": h.doc.get("target", ""), "protocol": h.doc.get("protocol", ""),
                 "account": h.doc.get("account", ""), "client_addr": h.doc.get("client_addr", "")}
                for h in starts if h.doc["session"] not in ended]

    # ------------------------------------------------------------------ exports

    @staticmethod
    def row(hit: Hit) -> dict[str, Any]:
        doc = hit.doc
        return {c: iso(hit.time) if c == "time" else doc.get(c, "") for c in EXPORT_COLUMNS}

    def export_csv(self, q: Search) -> Iterator[str]:
        """A CSV document, yielded line by line (for a streaming HTTP response)."""
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=EXPORT_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for hit in self.scan(dataclasses.replace(q, highlight=False)):
            writer.writerow({k: _csv_safe(v) for k, v in self.row(hit).items()})
            if buf.tell() > 64 * 1024:
                yield buf.getvalue()
                buf.seek(0)
                buf.truncate()
        yield buf.getvalue()

    def export_json(self, q: Search) -> Iterator[str]:
        """JSON lines: one object per hit with its full document (``data`` included)."""
        for hit in self.scan(dataclasses.replace(q, highlight=False)):
            yield json.dumps({**self.row(hit), "data": hit.doc.get("data", {})}, ensure_ascii=False,
                             default=str) + "\n"


def _csv_safe(value: Any) -> Any:
    """Defuse spreadsheet formulas (a cell starting with = + - @ is shown as text)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
