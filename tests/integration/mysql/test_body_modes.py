"""A stored body is parsed under the sql_mode it was created with, not the caller's: the
bastion judges it under the same modes. Each routine here is created directly on the
target, under ``NO_BACKSLASH_ESCAPES`` or ``ANSI_QUOTES``, with a body that reads as one
harmless statement in the default mode and as several, one of them destructive, in its
own. Through the bastion under the demo's rules (alice = dba: no DROP, DELETE needs an
approver), the call must be refused or held, and the target keep its data."""

from __future__ import annotations

import pytest

from tests.integration.mysql.clients import direct_conn, pymysql_conn, run, run_denied_by_approver

# In the default mode `'a\'; DROP …; SELECT '` is one string and `-- '` a comment; under
# NO_BACKSLASH_ESCAPES `'a\'` ends at its second quote and the DROP is a statement.
NBE_DROP = "BEGIN\nSELECT 'a\\'; DROP TABLE lab.mvictim; SELECT '-- '\nAS x;\nEND"
NBE_DELETE = "BEGIN\nSET @a = 'a\\'; DELETE FROM lab.mrows; SET @b = '-- '\n;\nEND"
# The same with double quotes: a string with a backslash escape by default, a name under ANSI_QUOTES.
ANSI_DROP = 'BEGIN\nSELECT 1 AS "\\"; DROP TABLE lab.mvictim; SELECT 2 AS "-- "\n;\nEND'


@pytest.fixture(scope="module", autouse=True)
def routines(mariadb):  # type: ignore[no-untyped-def]
    mariadb.sql("CREATE DATABASE IF NOT EXISTS lab; CREATE TABLE IF NOT EXISTS lab.mvictim (id INT);"
                "CREATE TABLE IF NOT EXISTS lab.mrows (id INT); DELETE FROM lab.mrows;"
                "INSERT INTO lab.mrows VALUES (1), (2); CREATE TABLE IF NOT EXISTS lab.mtrig (id INT)")
    with direct_conn(mariadb, database="lab") as conn, conn.cursor() as cur:
        cur.execute("SET sql_mode = 'NO_BACKSLASH_ESCAPES'")
        cur.execute(f"CREATE OR REPLACE PROCEDURE lab.nbe_drop() {NBE_DROP}")
        cur.execute(f"CREATE OR REPLACE PROCEDURE lab.nbe_delete() {NBE_DELETE}")
        cur.execute(f"CREATE OR REPLACE TRIGGER lab.mtrig_wipe AFTER INSERT ON lab.mtrig FOR EACH ROW {NBE_DELETE}")
        cur.execute("SET sql_mode = 'ANSI_QUOTES'")
        cur.execute(f"CREATE OR REPLACE PROCEDURE lab.ansi_drop() {ANSI_DROP}")


def _alice(bastion):  # type: ignore[no-untyped-def]
    return pymysql_conn(bastion, bastion.token("alice", "dba"), database="lab", autocommit=True, read_timeout=60)


@pytest.mark.parametrize("results", ["utf8mb4", "utf16"])
@pytest.mark.parametrize("call", ["CALL nbe_drop()", "CALL lab.ansi_drop()"])
def test_a_body_that_drops_under_its_own_modes_is_refused(bastion, mariadb, call, results):  # type: ignore[no-untyped-def]
    with _alice(bastion) as conn:
        assert run(conn, f"SET character_set_results = {results}").startswith("ran")
        message = run(conn, call)
    assert "guardrails:no-drop" in message, message
    assert "mvictim" in mariadb.sql("SHOW TABLES FROM lab")


@pytest.mark.parametrize("sql", ["CALL nbe_delete()", "INSERT INTO mtrig VALUES (1)"])
def test_a_body_that_deletes_under_its_own_modes_waits_for_an_approver(bastion, mariadb, sql):  # type: ignore[no-untyped-def]
    conn = _alice(bastion)
    try:
        result = run_denied_by_approver(bastion, conn, sql, lambda text: "DELETE FROM lab.mrows" in text)
    finally:
        conn.close()
    assert "denied by an approver" in result
    assert mariadb.sql("SELECT COUNT(*) FROM lab.mrows").strip() == "2"
