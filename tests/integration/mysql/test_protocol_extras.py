"""Command-phase corners: COM_CHANGE_USER as a new login on the same connection, COM_STMT_SEND_LONG_DATA relayed,
EXECUTE of "the last prepared statement" after a denied PREPARE, unique connection ids."""

from __future__ import annotations

import io
import os
import struct
from concurrent.futures import ThreadPoolExecutor

import mysql.connector
import pymysql
import pytest

from tests.integration.conftest import wait_for
from tests.integration.mysql.clients import DRIVER_TABLES_SQL, pymysql_conn, stmt_counters

COM_STMT_PREPARE, COM_STMT_EXECUTE = 0x16, 0x17
LAST_PREPARED = 0xFFFFFFFF


@pytest.fixture(scope="module", autouse=True)
def schema(mariadb):
    mariadb.sql(DRIVER_TABLES_SQL)


def connector(bastion, token: str, use_pure: bool, database: str = "lab"):  # type: ignore[no-untyped-def]
    return mysql.connector.connect(host="127.0.0.1", port=bastion.ports["mysql"], user="shop-db", password=token,
                                   database=database, use_pure=use_pure, ssl_disabled=False, ssl_verify_cert=False,
                                   connection_timeout=10)


@pytest.mark.parametrize("use_pure", [True, False], ids=["pure", "c-ext"])
def test_change_user_starts_a_new_session_on_the_same_connection(bastion, mariadb, use_pure):
    token = bastion.token("alice", "dba")
    conn = connector(bastion, token, use_pure)
    bastion_id = str(conn.connection_id)  # the id the bastion's greeting gave this connection
    try:
        cur = conn.cursor()
        cur.execute("SELECT CONNECTION_ID(), CURRENT_USER()")
        upstream_id, user = cur.fetchone()
        cur.execute("SET @marker = 'old session'")
        cur.close()
        # same target and account: the upstream connection is kept, its session state reset
        conn.cmd_change_user(username="shop-db", password=bastion.token("alice", "dba"), database="shop")
        cur = conn.cursor()
        cur.execute("SELECT CONNECTION_ID(), CURRENT_USER(), DATABASE(), @marker")
        assert cur.fetchone() == (upstream_id, user, "shop", None)
        cur.close()
        # another account (bob's token, the readonly role): a new upstream connection
        conn.cmd_change_user(username="shop-db/readonly", password=bastion.token("bob", "developers"),
                             database="shop")
        cur = conn.cursor()
        cur.execute("SELECT CONNECTION_ID(), CURRENT_USER()")
        other_id, other_user = cur.fetchone()
        assert other_id != upstream_id and other_user.startswith("bastion_ro")
        cur.execute("SELECT card_number FROM customers WHERE id = 1")
        (card,) = cur.fetchone()
        assert card.endswith("1111") and "4111" not in card  # masked: bob is not exempt
        cur.close()
    finally:
        conn.close()
    starts = [e for e in bastion.journal() if e.get("type") == "session.start"
              and e["data"].get("connection_id") == bastion_id]  # type: ignore[union-attr]
    assert [e["data"]["user"] for e in starts] == ["alice", "alice", "bob"]  # type: ignore[index]
    changed = {s["session_id"] for s in starts[:2]}
    ends = wait_for(lambda: [e for e in bastion.journal() if e.get("type") == "session.end"
                             and e["session_id"] in changed])
    assert len(ends) == 2 and all("COM_CHANGE_USER" in e["data"]["reason"] for e in ends)  # type: ignore[index]


@pytest.mark.parametrize("use_pure", [True, False], ids=["pure", "c-ext"])
def test_change_user_with_a_wrong_token_ends_the_connection(bastion, use_pure):
    conn = connector(bastion, bastion.token("alice", "dba"), use_pure)
    try:
        with pytest.raises(mysql.connector.Error) as info:
            conn.cmd_change_user(username="shop-db", password="bst_0000_wrong", database="shop")
        assert info.value.errno == 1045
        with pytest.raises(mysql.connector.Error):
            cur = conn.cursor()
            cur.execute("SELECT 1")
            cur.fetchall()
    finally:
        try:
            conn.close()
        except mysql.connector.Error:
            pass


def test_send_long_data_is_relayed(bastion, mariadb):
    """connector-python (pure) sends a file-like parameter with COM_STMT_SEND_LONG_DATA,
    which has no response: the bastion must forward it and answer nothing."""
    data = os.urandom(700_000)
    before = stmt_counters(mariadb)
    conn = connector(bastion, bastion.token("alice", "dba"), use_pure=True)
    try:
        cur = conn.cursor(prepared=True)
        cur.execute("REPLACE INTO jdbc_blobs (id, data) VALUES (?, ?)", (3000, io.BytesIO(data)))
        conn.commit()
        cur.execute("SELECT data FROM jdbc_blobs WHERE id = ?", (3000,))
        (back,) = cur.fetchone()
        cur.close()
    finally:
        conn.close()
    assert bytes(back) == data
    assert stmt_counters(mariadb)["Com_stmt_send_long_data"] > before["Com_stmt_send_long_data"]


def _prepare(conn: pymysql.connections.Connection, sql: str) -> int:
    """COM_STMT_PREPARE by hand (PyMySQL has no server-side prepared statements)."""
    conn._execute_command(COM_STMT_PREPARE, sql.encode())
    first = conn._read_packet().get_all_data()
    stmt_id, ncols, nparams = struct.unpack_from("<IHH", first, 1)
    for n in (nparams, ncols):
        for _ in range(n + 1 if n else 0):  # definitions, then EOF
            conn._read_packet()
    return int(stmt_id)


def _execute(conn: pymysql.connections.Connection, stmt_id: int) -> list[bytes]:
    conn._execute_command(COM_STMT_EXECUTE, struct.pack("<IBI", stmt_id, 0, 1))
    ncols = conn._read_packet().read_length_encoded_integer()
    for _ in range(ncols + 1):
        conn._read_packet()
    rows = []
    while not (packet := conn._read_packet()).is_eof_packet():
        rows.append(packet.get_all_data())
    return rows


def test_execute_last_prepared_after_a_denied_prepare_is_refused(bastion):
    """MariaDB lets EXECUTE name "the last prepared statement" (id -1, as MariaDB Connector/J
    pipelines it). After a PREPARE the bastion denied, that must not run an older statement."""
    with pymysql_conn(bastion, bastion.token("alice", "dba")) as conn:
        older = _prepare(conn, "SELECT 'older statement'")
        assert _execute(conn, LAST_PREPARED) == [b"\x00\x00\x0folder statement"]
        with pytest.raises(pymysql.err.MySQLError) as info:
            _prepare(conn, "DROP TABLE lab.never_dropped")  # the demo's guardrail no-drop
        assert info.value.args[0] == 1142
        with pytest.raises(pymysql.err.MySQLError) as info:
            _execute(conn, LAST_PREPARED)
        assert info.value.args[0] == 1243
        assert _execute(conn, older) == [b"\x00\x00\x0folder statement"]  # by its own id it still runs
        with conn.cursor() as cur:
            cur.execute("SELECT 'usable'")
            assert cur.fetchone() == ("usable",)


def test_connection_ids_are_unique(bastion):
    """Every client connection gets its own id in the greeting (KILL QUERY maps it upstream)."""
    token = bastion.token("alice", "dba")

    def one(_: int) -> tuple[int, int]:
        with pymysql_conn(bastion, token) as conn, conn.cursor() as cur:
            cur.execute("SELECT CONNECTION_ID()")
            return conn.server_thread_id[0], cur.fetchone()[0]

    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(one, range(40)))
    greeting_ids = [g for g, _ in ids]
    assert len(set(greeting_ids)) == len(greeting_ids)
    held = [pymysql_conn(bastion, token) for _ in range(10)]  # and while they are all open at once
    try:
        open_ids = {c.server_thread_id[0] for c in held}
        assert len(open_ids) == 10 and not open_ids & set(greeting_ids)
    finally:
        for c in held:
            c.close()
