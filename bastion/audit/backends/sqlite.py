"""The embedded index: SQLite with FTS5 in its own file (``audit.db``, never the state store).

``docs`` holds one row per document (keyword columns indexed for filters and the time
sort); ``fts`` is an external-content FTS5 table over the text columns. ``INSERT OR
IGNORE`` on the unique document id makes writes idempotent. A batch is one transaction:
the documents, then one ``INSERT … SELECT`` copying the text of the rows it added (rowids
above the batch's starting maximum; an ignored duplicate adds none) into ``fts``. Not a
trigger: a trigger makes every row's INSERT a statement with its own savepoint, and FTS5
flushes its pending terms into a new segment at every savepoint — one segment per
document, merged again and again: about 40 % of the indexer's CPU (bench/indexer.py).
Writes come from the indexer only (one connection); every search opens its own
short-lived read connection, so WAL lets searches run while the indexer writes.

The writer runs with ``synchronous=FULL``: the indexer saves its journal position right
after a batch commits, so the batch must be on disk by then (with ``NORMAL`` a power cut
could lose committed batches while the position that skips them survives).
"""

from __future__ import annotations

import dataclasses
import json
import operator
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bastion.audit.backends import BackendUnavailable
from bastion.audit.query import TOTAL_LIMIT, Hit, Page, Search, encode_cursor, fts_match, mark, sql_order, sql_where
from bastion.audit.schema import KEYWORD_FIELDS, TEXT_FIELDS, encode_data

COLUMNS = (*KEYWORD_FIELDS, "seq", "schema", "time", *TEXT_FIELDS, "data")
TOKENIZE = "unicode61 remove_diacritics 2 tokenchars '_'"
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS docs (
    rowid INTEGER PRIMARY KEY,
    {', '.join(f'{c} TEXT NOT NULL DEFAULT ""' for c in KEYWORD_FIELDS if c != "id")},
    id TEXT NOT NULL UNIQUE, seq INTEGER NOT NULL, schema INTEGER NOT NULL, time INTEGER NOT NULL,
    {', '.join(f'{c} TEXT NOT NULL DEFAULT ""' for c in TEXT_FIELDS)},
    data TEXT NOT NULL DEFAULT '{{}}'
);
CREATE INDEX IF NOT EXISTS docs_time ON docs (time, id);
CREATE INDEX IF NOT EXISTS docs_session ON docs (session, time);
CREATE INDEX IF NOT EXISTS docs_user ON docs (user, time);
CREATE INDEX IF NOT EXISTS docs_target ON docs (target, time);
CREATE INDEX IF NOT EXISTS docs_type ON docs (type, time);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(
    {', '.join(TEXT_FIELDS)}, content='docs', content_rowid='rowid', tokenize="{TOKENIZE}");
DROP TRIGGER IF EXISTS docs_ai;
"""
"""An index made by an earlier version has ``docs_ai``, a trigger filling ``fts``: dropped, since
:meth:`SQLiteBackend.write` fills ``fts`` itself (both would index every document twice)."""
INSERT_DOCS = f"INSERT OR IGNORE INTO docs ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
INSERT_FTS = (f"INSERT INTO fts (rowid, {', '.join(TEXT_FIELDS)}) "
              f"SELECT rowid, {', '.join(TEXT_FIELDS)} FROM docs WHERE rowid > ? ORDER BY rowid")
SNIPPET_TOKENS = 24
_FIELDS = operator.itemgetter(*COLUMNS[:-1])


def _row(doc: dict[str, Any]) -> tuple[Any, ...]:
    """The ``docs`` row of a document: its columns in order (``data`` last, as JSON); a
    document lacking a column stores ``""`` there."""
    try:
        fields: tuple[Any, ...] = _FIELDS(doc)
    except KeyError:
        fields = tuple(doc.get(c, "") for c in COLUMNS[:-1])
    return (*fields, encode_data(doc))


class SQLiteBackend:
    name = "sqlite"
    blocking = True

    def __init__(self, path: Path) -> None:
        self.path = path
        self.key = f"sqlite:{path}"
        self._writer: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _connect(self, writer: bool = False) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
        if writer:
            # Only the writer sets the journal mode (it stays in the file). A reader switching
            # it could get "database is locked" at once, without the busy timeout, while the
            # writer creates the index (a search racing the first events).
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
        conn.row_factory = sqlite3.Row
        return conn

    def setup(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self._writer is None:
                self._writer = self._connect(writer=True)
                self._writer.executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise BackendUnavailable(f"sqlite {self.path}: {exc}") from exc

    def write(self, docs: Sequence[dict[str, Any]]) -> list[tuple[str, str]]:
        if self._writer is None:
            self.setup()
        assert self._writer is not None
        rows = [_row(d) for d in docs]
        with self._lock:
            try:
                self._writer.execute("BEGIN IMMEDIATE")
                top = self._writer.execute("SELECT coalesce(max(rowid), 0) FROM docs").fetchone()[0]
                self._writer.executemany(INSERT_DOCS, rows)
                self._writer.execute(INSERT_FTS, (top,))
                self._writer.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._writer.in_transaction:
                    self._writer.execute("ROLLBACK")
                raise BackendUnavailable(f"sqlite {self.path}: {exc}") from exc
        return []

    def search(self, q: Search) -> Page:
        match = fts_match(q)
        clauses, params = sql_where(q)
        if match:
            source = "fts JOIN docs d ON d.rowid = fts.rowid"
            clauses.insert(0, "fts MATCH ?")
            params.insert(0, match)
        else:
            source = "docs d"
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        snippets = ""
        if match and q.highlight:
            snippets = "".join(f", snippet(fts, {i}, '\x02', '\x03', '…', {SNIPPET_TOKENS}) AS hl_{f}"
                               for i, f in enumerate(TEXT_FIELDS))
        conn = self._connect()
        try:
            rows = conn.execute(f"SELECT d.*{snippets} FROM {source} {where} {sql_order(q)} LIMIT ?",
                                [*params, q.size]).fetchall()
            count_where, count_params = where, params
            if q.after:  # the total counts the whole result, not what is left after the cursor
                base = dataclasses.replace(q, after=None)
                count_clauses, count_params = sql_where(base)
                if match:
                    count_clauses.insert(0, "fts MATCH ?")
                    count_params.insert(0, match)
                count_where = f"WHERE {' AND '.join(count_clauses)}" if count_clauses else ""
            total = conn.execute(f"SELECT count(*) FROM (SELECT 1 FROM {source} {count_where} LIMIT ?)",
                                 [*count_params, TOTAL_LIMIT + 1]).fetchone()[0]
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return Page([], None, 0)
            raise
        finally:
            conn.close()
        hits = [self._hit(row, bool(snippets)) for row in rows]
        cursor = encode_cursor(hits[-1].sort) if len(hits) == q.size else None
        return Page(hits, cursor, min(total, TOTAL_LIMIT), total <= TOTAL_LIMIT)

    @staticmethod
    def _hit(row: sqlite3.Row, with_snippets: bool) -> Hit:
        doc = {c: row[c] for c in COLUMNS}
        doc["data"] = json.loads(row["data"])
        highlights: dict[str, list[str]] = {}
        if with_snippets:
            for f in TEXT_FIELDS:
                frag = row[f"hl_{f}"]
                if frag and "\x02" in frag:
                    highlights[f] = [mark(frag)]
        return Hit(id=doc["id"], time=doc["time"] / 1000, doc=doc, highlights=highlights,
                   sort=(int(doc["time"]), str(doc["id"])))

    def refresh(self) -> None:
        return None

    def close(self) -> None:
        with self._lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None
