"""The sqlite index: ``fts`` in step with ``docs`` batch by batch, idempotent writes, an older index's trigger."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bastion.audit.backends.sqlite import SQLiteBackend
from bastion.audit.query import Search
from bastion.audit.schema import TEXT_FIELDS, SessionInfo, document

OLD_TRIGGER = f"""CREATE TRIGGER docs_ai AFTER INSERT ON docs BEGIN
    INSERT INTO fts (rowid, {', '.join(TEXT_FIELDS)}) VALUES (new.rowid, {', '.join('new.' + c for c in TEXT_FIELDS)});
END;"""


def doc(seq: int, statement: str, type_: str = "query") -> dict:
    record = {"seq": seq, "prev": "p", "hash": "h",
              "event": {"type": type_, "session_id": "s1", "at": 1700000000.0 + seq, "id": "", "schema": 2,
                        "data": {"statement": statement, "verdict": "allow", "reason": "no rule matched"}}}
    return document(record, "n1", SessionInfo(user="alice", target="shop-db", protocol="mysql"))


def fts_check(path: Path) -> tuple[int, int]:
    """(rows in docs, rows in fts's docsize), after FTS5's own integrity check passes."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("INSERT INTO fts (fts, rank) VALUES ('integrity-check', 1)")  # compares with docs
        return (conn.execute("SELECT count(*) FROM docs").fetchone()[0],
                conn.execute("SELECT count(*) FROM fts_docsize").fetchone()[0])
    finally:
        conn.close()


@pytest.fixture
def backend(tmp_path: Path):
    b = SQLiteBackend(tmp_path / "audit.db")
    b.setup()
    yield b
    b.close()


def test_batches_fill_fts_and_rewrites_add_nothing(backend: SQLiteBackend) -> None:
    backend.write([doc(i, f"SELECT c FROM sbtest1 WHERE id={i}") for i in range(1, 6)])
    # a batch sent again after a crash, overlapping the next one: only the new documents count
    backend.write([doc(i, f"SELECT c FROM sbtest1 WHERE id={i}") for i in range(4, 9)])
    backend.write([doc(3, "SELECT c FROM sbtest1 WHERE id=3")])
    assert fts_check(backend.path) == (8, 8)
    page = backend.search(Search(text="sbtest1", size=100))
    assert page.total == 8 and len({h.id for h in page.hits}) == 8
    hit = backend.search(Search(text='"id 7"')).hits
    assert [h.doc["statement"] for h in hit] == ["SELECT c FROM sbtest1 WHERE id=7"]
    assert hit[0].highlights["statement"] == ["SELECT c FROM sbtest1 WHERE <mark>id=7</mark>"]
    assert hit[0].doc["data"]["verdict"] == "allow" and hit[0].doc["user"] == "alice"
    assert backend.search(Search(text="rule", size=100)).total == 8  # the message field


def test_an_older_index_loses_its_trigger(tmp_path: Path) -> None:
    """An audit.db made by an earlier version filled fts by trigger: kept, it would index twice."""
    old = SQLiteBackend(tmp_path / "audit.db")
    old.setup()
    old.close()
    conn = sqlite3.connect(tmp_path / "audit.db")
    conn.executescript(OLD_TRIGGER)
    conn.execute("INSERT INTO docs (id, seq, schema, time, statement) VALUES ('n1:000000000001', 1, 2, 1, 'DROP x')")
    conn.commit()
    conn.close()
    new = SQLiteBackend(tmp_path / "audit.db")
    new.setup()
    new.write([doc(2, "SELECT 2")])
    assert fts_check(new.path) == (2, 2)
    assert backend_total(new, "x") == 1 and backend_total(new, "select") == 1
    new.close()


def backend_total(b: SQLiteBackend, text: str) -> int:
    return b.search(Search(text=text)).total
