"""A trigger runs inside every statement that writes its table: its body is judged with
that statement, through the bastion to the real MariaDB under the demo's rules (alice =
dba: no DROP, DELETE needs an approver). The triggers are created directly on the target,
so their bodies were never judged at CREATE TRIGGER time."""

from __future__ import annotations

import pytest

from tests.integration.conftest import wait_for
from tests.integration.mysql.clients import direct_conn, pymysql_conn, run, run_denied_by_approver


@pytest.fixture(scope="module", autouse=True)
def triggers(mariadb):  # type: ignore[no-untyped-def]
    mariadb.sql("CREATE DATABASE IF NOT EXISTS lab; CREATE TABLE IF NOT EXISTS lab.tvictim "
                "(id INT PRIMARY KEY, c VARCHAR(20)); REPLACE INTO lab.tvictim VALUES (1, 'a'), (2, 'b');"
                "CREATE TABLE IF NOT EXISTS lab.tlog (id INT PRIMARY KEY, c VARCHAR(20));"
                "CREATE TABLE IF NOT EXISTS lab.TMixed (id INT PRIMARY KEY);"
                "CREATE TABLE IF NOT EXISTS lab.tchain (id INT PRIMARY KEY);"
                "CREATE TABLE IF NOT EXISTS lab.tmid (id INT);"
                "CREATE TABLE IF NOT EXISTS lab.tdrop (id INT PRIMARY KEY);"
                "CREATE TABLE IF NOT EXISTS lab.tdvictim (id INT);"
                "CREATE TABLE IF NOT EXISTS lab.tharmless (id INT PRIMARY KEY, c VARCHAR(20));")
    with direct_conn(mariadb, database="lab") as conn, conn.cursor() as cur:
        for sql in (
            "CREATE OR REPLACE TRIGGER lab.tlog_wipe AFTER INSERT ON lab.tlog FOR EACH ROW "
            "DELETE FROM lab.tvictim",
            "CREATE OR REPLACE TRIGGER lab.tlog_upd BEFORE UPDATE ON lab.tlog FOR EACH ROW "
            "BEGIN IF NEW.id > 0 THEN DELETE FROM tvictim WHERE id > 0; END IF; END",
            "CREATE OR REPLACE TRIGGER lab.tmixed_wipe BEFORE INSERT ON lab.TMixed FOR EACH ROW "
            "DELETE FROM lab.tvictim",
            # a trigger that only writes another table, whose trigger deletes
            "CREATE OR REPLACE TRIGGER lab.tchain_relay AFTER INSERT ON lab.tchain FOR EACH ROW "
            "INSERT INTO tmid VALUES (NEW.id)",
            "CREATE OR REPLACE TRIGGER lab.tmid_wipe AFTER INSERT ON lab.tmid FOR EACH ROW "
            "DELETE FROM tvictim",
            "CREATE OR REPLACE PROCEDURE lab.tdropper() DROP TABLE lab.tdvictim",
            "CREATE OR REPLACE TRIGGER lab.tdrop_call AFTER INSERT ON lab.tdrop FOR EACH ROW CALL tdropper()",
            "CREATE OR REPLACE TRIGGER lab.tharmless_upper BEFORE INSERT ON lab.tharmless FOR EACH ROW "
            "SET NEW.c = UPPER(NEW.c)",
        ):
            cur.execute(sql)


def victims(mariadb) -> str:  # type: ignore[no-untyped-def]
    return mariadb.sql("SELECT COUNT(*) FROM lab.tvictim").strip()


def deletes_victims(statement: str) -> bool:
    return "DELETE FROM" in statement and "tvictim" in statement


@pytest.mark.parametrize("sql", [
    "INSERT INTO tlog VALUES (10, 'x')",
    "INSERT INTO lab.tlog (id, c) VALUES (11, 'x')",
    "insert /* hi */ into `lab` . `tlog` values (12, 'x')",
    "REPLACE INTO tlog VALUES (13, 'x')",
    "INSERT INTO tlog SELECT 14, 'x'",
    "UPDATE tlog SET c = 'y'",
    "INSERT INTO TMixed VALUES (15)",
    "INSERT INTO lab.TMixed VALUES (16)",
    "INSERT INTO tchain VALUES (17)",
    "PREPARE p FROM 'INSERT INTO tlog VALUES (18, ''x'')'",
    "SET STATEMENT max_statement_time=0 FOR INSERT INTO tlog VALUES (19, 'x')",
])
def test_a_trigger_that_deletes_makes_the_write_wait_for_an_approver(bastion, mariadb, sql):  # type: ignore[no-untyped-def]
    conn = pymysql_conn(bastion, bastion.token("alice", "dba"), database="lab", autocommit=True, read_timeout=60)
    try:
        result = run_denied_by_approver(bastion, conn, sql, deletes_victims)
    finally:
        conn.close()
    assert "denied by an approver" in result
    assert victims(mariadb) == "2"


def test_a_trigger_calling_a_procedure_that_drops_is_refused(bastion, mariadb):  # type: ignore[no-untyped-def]
    with pymysql_conn(bastion, bastion.token("alice", "dba"), database="lab", autocommit=True) as conn:
        message = run(conn, "INSERT INTO tdrop VALUES (1)")
    assert "guardrails:no-drop" in message, message
    assert "tdvictim" in mariadb.sql("SHOW TABLES FROM lab")


def test_a_harmless_trigger_runs_and_is_on_record(bastion, mariadb):  # type: ignore[no-untyped-def]
    with pymysql_conn(bastion, bastion.token("alice", "dba"), database="lab", autocommit=True) as conn:
        assert run(conn, "REPLACE INTO tharmless VALUES (1, 'quiet')").startswith("ran:")
    assert mariadb.sql("SELECT c FROM lab.tharmless WHERE id = 1").strip() == "QUIET"
    records = wait_for(lambda: [e["data"] for e in bastion.journal() if e["type"] == "query"
                                and e["data"].get("statement", "").startswith("REPLACE INTO tharmless")])
    assert records[0]["triggers"] == ["lab.tharmless_upper"]


def test_reading_a_table_with_triggers_looks_nothing_up(bastion, mariadb):  # type: ignore[no-untyped-def]
    with pymysql_conn(bastion, bastion.token("alice", "dba"), database="lab", autocommit=True) as conn:
        assert run(conn, "SELECT COUNT(*) FROM tlog WHERE id < 0") == "ran: ((0,),)"
    records = wait_for(lambda: [e["data"] for e in bastion.journal() if e["type"] == "query"
                                and "FROM tlog WHERE id <" in e["data"].get("statement", "")])
    assert "triggers" not in records[0]


def test_a_trigger_created_behind_the_bastion_is_judged_once_the_session_s_cache_expires(
        bastion, mariadb):  # type: ignore[no-untyped-def]
    import time

    from plugins.mysql.triggers import TTL

    mariadb.sql("CREATE TABLE IF NOT EXISTS lab.tlate (id INT PRIMARY KEY); DELETE FROM lab.tlate;"
                "DROP TRIGGER IF EXISTS lab.tlate_wipe")
    conn = pymysql_conn(bastion, bastion.token("alice", "dba"), database="lab", autocommit=True, read_timeout=60)
    try:
        assert run(conn, "INSERT INTO tlate VALUES (1)").startswith("ran")  # no trigger yet: read and kept
        mariadb.sql("CREATE TRIGGER lab.tlate_wipe AFTER INSERT ON lab.tlate FOR EACH ROW DELETE FROM lab.tvictim")
        time.sleep(TTL + 0.5)
        result = run_denied_by_approver(bastion, conn, "INSERT INTO tlate VALUES (2)", deletes_victims)
    finally:
        conn.close()
    assert "denied by an approver" in result
    assert victims(mariadb) == "2"
