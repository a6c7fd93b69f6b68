"""A stored function runs inside whatever statement names it: its body is judged with that
statement, through the bastion to the real MariaDB under the demo's rules (alice = dba:
no DROP, DELETE needs an approver). The function is created directly on the target, so
its body was never judged at CREATE time; every spelling of the call is tried."""

from __future__ import annotations

import pytest

from tests.integration.conftest import wait_for
from tests.integration.mysql.clients import direct_conn, pymysql_conn, run, run_denied_by_approver


@pytest.fixture(scope="module", autouse=True)
def functions(mariadb):  # type: ignore[no-untyped-def]
    mariadb.sql("CREATE DATABASE IF NOT EXISTS lab; CREATE TABLE IF NOT EXISTS lab.fvictim "
                "(id INT PRIMARY KEY, c VARCHAR(20)); REPLACE INTO lab.fvictim VALUES (1, 'a'), (2, 'b');")
    with direct_conn(mariadb, database="lab") as conn, conn.cursor() as cur:
        cur.execute("CREATE OR REPLACE FUNCTION lab.wipe() RETURNS INT MODIFIES SQL DATA "
                    "BEGIN DELETE FROM lab.fvictim; RETURN 1; END")
        cur.execute("CREATE OR REPLACE FUNCTION lab.plus_one(x INT) RETURNS INT DETERMINISTIC RETURN x + 1")
        # routines that only call the one that deletes or drops, by unqualified names (the
        # server resolves them in the routine's own database, whatever the session's is)
        cur.execute("CREATE OR REPLACE FUNCTION lab.relay() RETURNS INT MODIFIES SQL DATA RETURN wipe() + 0")
        cur.execute("CREATE OR REPLACE FUNCTION lab.relay2() RETURNS INT MODIFIES SQL DATA "
                    "BEGIN DECLARE x INT DEFAULT relay(); RETURN x; END")
        cur.execute("CREATE TABLE IF NOT EXISTS lab.pvictim (id INT)")
        cur.execute("CREATE OR REPLACE PROCEDURE lab.dropper() DROP TABLE lab.pvictim")
        cur.execute("CREATE OR REPLACE PROCEDURE lab.caller() BEGIN SELECT 1; CALL dropper(); END")
        cur.execute("CREATE OR REPLACE PROCEDURE lab.fcaller() BEGIN SELECT relay(); END")
        cur.execute("CREATE OR REPLACE FUNCTION lab.ping() RETURNS INT RETURN pong()")
        cur.execute("CREATE OR REPLACE FUNCTION lab.pong() RETURNS INT RETURN ping()")


def rows(mariadb) -> str:  # type: ignore[no-untyped-def]
    return mariadb.sql("SELECT COUNT(*) FROM lab.fvictim").strip()


@pytest.mark.parametrize("sql", [
    "SELECT wipe()",
    "SELECT lab.wipe()",
    "SELECT `lab`.`WIPE` ()",
    "select WiPe/* a comment */()",
    "SELECT /*!50000 wipe() */",
    "DO wipe()",
    "SELECT 1 FROM dual WHERE wipe() = 1",
    "SET @x = lab.wipe()",
    "PREPARE p FROM 'SELECT wipe()'",
    "SELECT relay()",
    "SELECT lab.relay2()",
    "CALL fcaller()",
])
def test_a_function_that_deletes_waits_for_an_approver(bastion, mariadb, sql):  # type: ignore[no-untyped-def]
    conn = pymysql_conn(bastion, bastion.token("alice", "dba"), database="lab", autocommit=True, read_timeout=60)
    try:
        result = run_denied_by_approver(bastion, conn, sql, lambda statement: "DELETE FROM lab.fvictim" in statement)
    finally:
        conn.close()
    assert "denied by an approver" in result
    assert rows(mariadb) == "2"


def test_a_harmless_function_runs_and_is_on_record(bastion, mariadb):  # type: ignore[no-untyped-def]
    with pymysql_conn(bastion, bastion.token("alice", "dba"), database="lab", autocommit=True) as conn:
        assert run(conn, "SELECT plus_one(41)") == "ran: ((42,),)"
    records = wait_for(lambda: [e["data"] for e in bastion.journal() if e["type"] == "query"
                                and e["data"].get("statement") == "SELECT plus_one(41)"])
    assert records[0]["functions"] == ["lab.plus_one"]


def test_a_function_the_account_cannot_see_does_not_run(bastion, mariadb):  # type: ignore[no-untyped-def]
    # bob's upstream account has no rights in lab: no body to read, and the target refuses
    with pymysql_conn(bastion, bastion.token("bob", "developers"), database="shop") as conn:
        message = run(conn, "SELECT lab.wipe()")
    assert "denied" in message, message
    assert rows(mariadb) == "2"


def test_a_procedure_calling_one_that_drops_is_refused(bastion, mariadb):  # type: ignore[no-untyped-def]
    with pymysql_conn(bastion, bastion.token("alice", "dba"), database="shop", autocommit=True) as conn:
        message = run(conn, "CALL lab.caller()")
    assert "guardrails:no-drop" in message, message
    assert "pvictim" in mariadb.sql("SHOW TABLES FROM lab")


def test_routines_calling_each_other_are_read_once(bastion, mariadb):  # type: ignore[no-untyped-def]
    with pymysql_conn(bastion, bastion.token("alice", "dba"), database="lab", autocommit=True) as conn:
        message = run(conn, "SELECT ping()")
    # judged (nothing in either body is refused) and sent: the server refuses the recursion
    assert "1424" in message or "Recursive" in message, message
