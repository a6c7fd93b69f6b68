"""PyMySQL through the bastion: results, NULLs, transactions, multi-results, big data."""

from __future__ import annotations

import hashlib
import os

import pymysql
import pytest

from tests.integration.mysql.clients import direct_conn, pymysql_conn


@pytest.fixture(scope="module")
def admin(bastion):
    return bastion.token("alice", "dba")


@pytest.fixture(scope="module", autouse=True)
def fixtures_schema(mariadb):
    mariadb.sql("""
        CREATE DATABASE IF NOT EXISTS lab;
        CREATE TABLE IF NOT EXISTS lab.big (id INT PRIMARY KEY, v VARCHAR(64));
        CREATE TABLE IF NOT EXISTS lab.blobs (id INT PRIMARY KEY, data LONGBLOB);
        CREATE TABLE IF NOT EXISTS lab.nulls (id INT PRIMARY KEY, a INT, b VARCHAR(10), c DATETIME, d DOUBLE,
                                              e BLOB, f DECIMAL(10,2), g VARCHAR(10), h TINYINT, i TEXT);
        CREATE TABLE IF NOT EXISTS lab.tx (id INT PRIMARY KEY, v INT) ENGINE=InnoDB;
        DROP PROCEDURE IF EXISTS lab.two_results;
        DELIMITER //
        CREATE PROCEDURE lab.two_results()
        BEGIN SELECT 1 AS a, 'x' AS b; SELECT id, v FROM lab.big ORDER BY id LIMIT 3; END//
        DELIMITER ;
    """)
    mariadb.sql("TRUNCATE lab.big; INSERT INTO lab.big SELECT seq, CONCAT('row-', seq) FROM lab.seq_1_to_100000;")
    mariadb.sql("""TRUNCATE lab.nulls; INSERT INTO lab.nulls VALUES
        (1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
        (2, 5, 'x', '2024-01-02 03:04:05', 1.5, 'blob', 12.34, NULL, 7, 'ütf8 ✓'),
        (3, NULL, 'y', NULL, 2.5, NULL, NULL, 'z', NULL, '');""")


def test_basic_select_matches_direct(bastion, mariadb):
    sql = "SELECT id, name, email, phone, card_number, notes FROM customers ORDER BY id"
    pci = bastion.token("dave", "developers,pci-auditors")  # sees clear values
    with pymysql_conn(bastion, pci) as conn, conn.cursor() as cur:
        cur.execute(sql)
        through = cur.fetchall()
    with direct_conn(mariadb) as conn, conn.cursor() as cur:
        cur.execute(sql)
        direct = cur.fetchall()
    assert through == direct and len(through) == 5


def test_large_result_100k_rows(bastion, admin):
    with pymysql_conn(bastion, admin, database="lab", cursorclass=pymysql.cursors.SSCursor) as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT id, v FROM big ORDER BY id")
            count = 0
            last = None
            for row in cur:
                count += 1
                last = row
    assert count == 100_000 and last == (100000, "row-100000")


def test_20mb_blob_round_trip(bastion, admin):
    data = os.urandom(20 * 1024 * 1024)
    with pymysql_conn(bastion, admin, database="lab") as conn, conn.cursor() as cur:
        cur.execute("REPLACE INTO blobs VALUES (1, %s)", (data,))
        conn.commit()
        cur.execute("SELECT data FROM blobs WHERE id = 1")
        (back,) = cur.fetchone()
    assert hashlib.sha256(back).digest() == hashlib.sha256(data).digest()


def test_nulls_and_types(bastion, mariadb, admin):
    sql = "SELECT * FROM nulls ORDER BY id"
    with pymysql_conn(bastion, admin, database="lab") as conn, conn.cursor() as cur:
        cur.execute(sql)
        through = cur.fetchall()
    with direct_conn(mariadb, database="lab") as conn, conn.cursor() as cur:
        cur.execute(sql)
        assert through == cur.fetchall()
    assert through[0][1:] == (None,) * 9


def test_transactions(bastion, admin):
    import random

    a, b = random.sample(range(10**6, 10**7), 2)
    with pymysql_conn(bastion, admin, database="lab") as conn, conn.cursor() as cur:
        conn.begin()
        cur.execute("INSERT INTO tx VALUES (%s, 10)", (a,))
        conn.rollback()
        cur.execute("SELECT COUNT(*) FROM tx WHERE id = %s", (a,))
        assert cur.fetchone()[0] == 0
        conn.begin()
        cur.execute("INSERT INTO tx VALUES (%s, 20)", (b,))
        conn.commit()
        cur.execute("SELECT v FROM tx WHERE id = %s", (b,))
        assert cur.fetchone()[0] == 20


def test_call_with_two_result_sets(bastion, admin):
    with pymysql_conn(bastion, admin, database="lab") as conn, conn.cursor() as cur:
        cur.execute("CALL two_results()")
        first = cur.fetchall()
        assert cur.nextset()
        second = cur.fetchall()
        cur.nextset()  # the CALL's own OK
        cur.execute("SELECT 42")
        assert cur.fetchone() == (42,)
    assert first == ((1, "x"),) and second == ((1, "row-1"), (2, "row-2"), (3, "row-3"))


def test_errors_keep_the_connection_usable(bastion, admin):
    with pymysql_conn(bastion, admin) as conn, conn.cursor() as cur:
        with pytest.raises(pymysql.err.ProgrammingError) as info:
            cur.execute("SELECT * FROM no_such_table")
        assert info.value.args[0] == 1146
        cur.execute("SELECT 1")
        assert cur.fetchone() == (1,)
        conn.select_db("lab")
        cur.execute("SELECT DATABASE()")
        assert cur.fetchone() == ("lab",)
        conn.ping()


def test_multi_statements_and_set_option_refused(bastion, admin):
    with pymysql_conn(bastion, admin) as conn, conn.cursor() as cur:
        with pytest.raises(pymysql.err.MySQLError) as info:
            cur.execute("SELECT 1; SELECT 2")
        assert info.value.args[0] == 1142 and "single-statement" in info.value.args[1]
        conn._execute_command(0x1B, b"\x00\x00")  # COM_SET_OPTION MULTI_STATEMENTS_ON
        with pytest.raises(pymysql.err.MySQLError) as info:
            conn._read_ok_packet()
        assert info.value.args[0] == 1235
        cur.execute("SELECT 3")
        assert cur.fetchone() == (3,)


def test_local_infile_is_never_negotiated(bastion, admin, tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text("9,nine\n")
    with pymysql_conn(bastion, admin, database="lab", local_infile=True) as conn, conn.cursor() as cur:
        with pytest.raises(pymysql.err.MySQLError) as info:
            cur.execute(f"LOAD DATA LOCAL INFILE '{path}' INTO TABLE big FIELDS TERMINATED BY ','")
        assert info.value.args[0] in (1142, 1148, 4166)  # guardrail, or the target without LOCAL_FILES
        cur.execute("SELECT COUNT(*) FROM big WHERE id = 9 AND v = 'nine'")
        assert cur.fetchone()[0] == 0


def test_session_is_recorded(bastion, admin):
    marker = "SELECT 'audit-marker-7731' AS m"
    with pymysql_conn(bastion, admin) as conn, conn.cursor() as cur:
        cur.execute(marker)
    from tests.integration.conftest import wait_for

    # the record is written right after the reply reaches the client: wait for it
    wait_for(lambda: [e for e in bastion.journal() if e["type"] == "query" and e["data"]["statement"] == marker])
    events = bastion.journal()
    queries = [e for e in events if e["type"] == "query" and e["data"]["statement"] == marker]
    assert queries and queries[-1]["data"]["rows"] == 1 and queries[-1]["data"]["verdict"] == "allow"
    session_id = queries[-1]["session_id"]
    starts = [e for e in events if e["type"] == "session.start" and e["session_id"] == session_id]
    assert starts and starts[0]["data"]["user"] == "alice" and starts[0]["data"]["account"] == "admin"
    assert admin not in bastion.log_text() and admin not in str(events)
