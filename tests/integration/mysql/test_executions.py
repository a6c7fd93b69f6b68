"""Every COM_STMT_EXECUTE on record before it runs, with its parameters masked (issue 14,
item 7), through a real client's server-side prepared statements against real MariaDB:
the journal and the index hold each execution and its parameters, never a card number in
clear — whether bound as a string, a BLOB, a BIGINT, or sent with COM_STMT_SEND_LONG_DATA."""

from __future__ import annotations

import datetime
import io
from collections.abc import Iterator
from pathlib import Path

import mysql.connector
import pytest

from bastion.audit.query import Search
from bastion.audit.search import AuditSearch
from bastion.config.load import load_settings
from bastion.demo.services import MariaDB
from tests.integration.conftest import BastionProc, mysql_bastion_config, start_bastion, stop_bastion, wait_for
from tests.integration.mysql.clients import session_events, upstream_thread

CARD = "4111111111111111"
CARD_NUMBER = "5555555555554444"  # bound as a BIGINT
CARD_LONG = "378282246310005"  # sent with COM_STMT_SEND_LONG_DATA
CARDS = (CARD, CARD_NUMBER, CARD_LONG)
INSERT = "INSERT INTO lab.exec_cards (id, card, note, n, d, x, blank) VALUES (?, ?, ?, ?, ?, ?, ?)"


@pytest.fixture(scope="module")
def b(tmp_path_factory: pytest.TempPathFactory, mariadb: MariaDB) -> Iterator[BastionProc]:
    mariadb.sql("""
        CREATE DATABASE IF NOT EXISTS lab;
        CREATE OR REPLACE TABLE lab.exec_cards (id INT PRIMARY KEY, card VARCHAR(32), note BLOB, n BIGINT, d DATE,
                                                x DOUBLE, blank VARCHAR(5));
    """)
    workdir = tmp_path_factory.mktemp("executions")
    proc = start_bastion(workdir, mysql_bastion_config(workdir, mariadb))
    yield proc
    assert stop_bastion(proc) == 0, proc.log_text()[-3000:]


def connect(b: BastionProc) -> mysql.connector.MySQLConnection:
    return mysql.connector.connect(host="127.0.0.1", port=b.ports["mysql"], user="shop-db", password=b.token("alice"),
                                   database="lab", use_pure=True, ssl_verify_cert=False, connection_timeout=10)


def stored_bytes(directory: Path) -> bytes:
    """Everything the bastion wrote under ``directory`` (journal segments, the sqlite index
    and its WAL, logs)."""
    return b"".join(p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file())


def test_each_execution_is_journaled_and_indexed_with_masked_parameters(b: BastionProc, mariadb: MariaDB) -> None:
    conn = connect(b)
    try:
        cur = conn.cursor(prepared=True)
        for i in (1, 2):
            cur.execute(INSERT, (i, CARD, f"note {CARD}".encode(), int(CARD_NUMBER), datetime.date(2026, 12, i),
                                 1.5, None))
        cur.execute(INSERT, (3, io.BytesIO(f"long {CARD_LONG}".encode()), b"x", 7, None, -0.25, ""))
        cur.execute("SELECT id FROM lab.exec_cards WHERE card = ? ORDER BY id", (CARD,))
        assert cur.fetchall() == [(1,), (2,)]
        cur.close()
        conn.commit()
        thread_id = upstream_thread(conn)
    finally:
        conn.close()
    # the target holds the real values: the bastion masked only its records
    assert mariadb.sql("SELECT card FROM lab.exec_cards WHERE id = 3").strip().endswith(f"long {CARD_LONG}")

    starts = [e["data"] for e in session_events(b, thread_id, "query.start") if e["data"]["command"] == "execute"]
    outcomes = [e["data"] for e in session_events(b, thread_id, "query") if e["data"]["command"] == "execute"]
    select_sql = "SELECT id FROM lab.exec_cards WHERE card = ? ORDER BY id"
    assert [d["statement"] for d in starts] == [INSERT] * 3 + [select_sql]
    assert [d["event_id"] for d in outcomes] == [d["event_id"] for d in starts]
    first, _, long_data, select = starts
    # the demo's masking keeps a card's last four digits
    assert first["params"] == ["1", "'************1111'", "'note ************1111'", "************4444",
                               "DATE'2026-12-01'", "1.5", "NULL"]
    assert first["params_masked"] == {"card": 3}
    assert long_data["params"] == ["3", "_binary'long ***********0005'", "'x'", "7", "NULL", "-0.25", "''"]
    assert select["params"] == ["'************1111'"]
    assert outcomes[0]["affected"] == 1 and outcomes[3]["rows"] == 2

    search = AuditSearch.from_config(load_settings(b.config).config.audit)
    assert search is not None

    def indexed() -> list[str]:
        hits = search.search(Search(type=("query",), text="exec_cards", size=100)).hits
        return [h.doc["statement"] for h in hits if h.doc["data"].get("command") == "execute"]

    shown = wait_for(lambda: len(indexed()) >= 4 and indexed(), timeout=30)
    assert shown and all("\nUSING " in text for text in shown), shown

    stored = stored_bytes(b.workdir / "var") + b.log.read_bytes()
    for card in CARDS:
        assert card.encode() not in stored, card
        assert card.encode().hex().encode() not in stored.lower(), card
