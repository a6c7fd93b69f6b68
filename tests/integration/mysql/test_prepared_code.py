"""Server-side prepared statements (COM_STMT_PREPARE/EXECUTE) run stored code too: the
code is judged at PREPARE, and each execution looks it up again. An execution whose
procedures, functions or triggers changed since PREPARE (created behind the bastion's
back) is refused until the client prepares the statement again, which judges the new
code. Through the bastion to the real MariaDB, alice = dba under the demo's rules."""

from __future__ import annotations

import time

import mysql.connector
import pytest

from plugins.mysql.triggers import TTL


@pytest.fixture(scope="module", autouse=True)
def lab(mariadb):  # type: ignore[no-untyped-def]
    mariadb.sql("CREATE DATABASE IF NOT EXISTS lab; CREATE TABLE IF NOT EXISTS lab.xvictim (id INT);"
                "CREATE TABLE IF NOT EXISTS lab.xrows (id INT); CREATE TABLE IF NOT EXISTS lab.xlate (id INT);"
                "CREATE OR REPLACE PROCEDURE lab.xdropper() DROP TABLE lab.xvictim")


def _prepared(bastion):  # type: ignore[no-untyped-def]
    conn = mysql.connector.connect(host="127.0.0.1", port=bastion.ports["mysql"], user="shop-db",
                                   password=bastion.token("alice", "dba"), database="lab", use_pure=True,
                                   ssl_disabled=False, ssl_verify_cert=False, connection_timeout=10, autocommit=True)
    return conn, conn.cursor(prepared=True)


def test_a_prepared_call_is_judged_with_the_procedure_s_body(bastion, mariadb):  # type: ignore[no-untyped-def]
    conn, cur = _prepared(bastion)
    try:
        with pytest.raises(mysql.connector.Error) as err:
            cur.execute("CALL xdropper()")
    finally:
        conn.close()
    assert "guardrails:no-drop" in str(err.value), err.value
    assert "xvictim" in mariadb.sql("SHOW TABLES FROM lab")


def test_an_execution_whose_triggers_changed_since_prepare_is_refused(bastion, mariadb):  # type: ignore[no-untyped-def]
    mariadb.sql("DROP TRIGGER IF EXISTS lab.xlate_wipe; DELETE FROM lab.xlate; DELETE FROM lab.xrows;"
                "INSERT INTO lab.xrows VALUES (1), (2)")
    conn, cur = _prepared(bastion)
    try:
        cur.execute("INSERT INTO xlate VALUES (?)", (1,))  # no trigger yet: prepared and run
        mariadb.sql("CREATE TRIGGER lab.xlate_wipe AFTER INSERT ON lab.xlate FOR EACH ROW DELETE FROM lab.xrows")
        time.sleep(TTL + 0.5)  # the session's trigger cache (plugins.mysql.triggers) forgets
        with pytest.raises(mysql.connector.Error) as err:
            cur.execute("INSERT INTO xlate VALUES (?)", (2,))
        assert "changed since it was prepared" in str(err.value), err.value
        cur.execute("SELECT 1")  # the connection stays usable
        assert cur.fetchall() == [(1,)]
    finally:
        conn.close()
    assert mariadb.sql("SELECT COUNT(*) FROM lab.xrows").strip() == "2"
    assert mariadb.sql("SELECT COUNT(*) FROM lab.xlate").strip() == "1"
