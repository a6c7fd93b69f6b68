"""mysql-connector-python (pure and C extension 8.4) and mysqlclient: text and binary protocol."""

from __future__ import annotations

import datetime
import decimal
import subprocess
import sys
import textwrap

import mysql.connector
import pytest


def connect(bastion, token, use_pure: bool):  # type: ignore[no-untyped-def]
    return mysql.connector.connect(host="127.0.0.1", port=bastion.ports["mysql"], user="shop-db", password=token,
                                   database="lab", use_pure=use_pure, ssl_disabled=False, ssl_verify_cert=False,
                                   connection_timeout=10)


@pytest.fixture(scope="module", autouse=True)
def schema(mariadb):
    mariadb.sql("""
        CREATE DATABASE IF NOT EXISTS lab;
        CREATE TABLE IF NOT EXISTS lab.ps (id INT PRIMARY KEY, a INT, b VARCHAR(20), c DATETIME, d DECIMAL(8,2),
                                           e DOUBLE, f BLOB, g VARCHAR(20), h BIGINT, i TEXT, j TINYINT);
        TRUNCATE lab.ps;
        INSERT INTO lab.ps VALUES
          (1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
          (2, 7, 'seven', '2024-05-06 07:08:09', 12.50, 0.25, 'bin', NULL, 9000000000, 'ütf ✓', -3),
          (3, NULL, 'three', NULL, NULL, 3.5, NULL, 'g', NULL, '', NULL);
    """)


@pytest.mark.parametrize("use_pure", [True, False], ids=["pure", "c-ext"])
def test_prepared_statements_binary_rows(bastion, use_pure):
    token = bastion.token("alice", "dba")
    conn = connect(bastion, token, use_pure)
    try:
        cur = conn.cursor(prepared=True)
        cur.execute("SELECT * FROM ps WHERE id >= ? ORDER BY id", (1,))
        rows = cur.fetchall()
        assert rows[0][1:] == (None,) * 10
        assert rows[1][1] == 7 and rows[1][2] == "seven" and rows[1][3] == datetime.datetime(2024, 5, 6, 7, 8, 9)
        assert rows[1][4] == decimal.Decimal("12.50") and rows[1][8] == 9000000000 and rows[1][10] == -3
        assert rows[2][2] == "three" and rows[2][9] == ""
        cur.execute("SELECT b FROM ps WHERE id = ?", (2,))
        assert cur.fetchall() == [("seven",)]
        cur.close()
        text = conn.cursor()
        text.execute("SELECT COUNT(*) FROM ps")
        assert text.fetchone() == (3,)
    finally:
        conn.close()


def test_mysqlclient_in_subprocess(bastion):
    """mysqlclient is a C extension (libmariadb); run it in its own process."""
    token = bastion.token("alice", "dba")
    code = textwrap.dedent(f"""
        import MySQLdb
        c = MySQLdb.connect(host="127.0.0.1", port={bastion.ports['mysql']}, user="shop-db", password="{token}",
                            database="shop", ssl_mode="REQUIRED")
        cur = c.cursor()
        cur.execute("SELECT name FROM customers WHERE id = %s", (1,))
        print(cur.fetchone()[0])
    """)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "Ada Lovelace"
