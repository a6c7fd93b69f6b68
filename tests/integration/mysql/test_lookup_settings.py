"""The bastion's lookups (views, stored functions, triggers, sql_mode) read the same rows
whatever the session set. ``SET sql_select_limit = 0`` caps every SELECT without a LIMIT
of its own, a lookup too: the view, the function and the trigger would not be found, and
what they run not judged. Through the bastion to the real MariaDB under the demo's rules."""

from __future__ import annotations

import pytest

from tests.integration.mysql.clients import direct_conn, pymysql_conn, run, run_denied_by_approver

LIMITS = ["SET sql_select_limit = 0", "SET SESSION sql_select_limit = 1"]


@pytest.fixture(scope="module", autouse=True)
def stored(mariadb):  # type: ignore[no-untyped-def]
    mariadb.sql("CREATE DATABASE IF NOT EXISTS lab; CREATE TABLE IF NOT EXISTS lab.lrows (id INT);"
                "CREATE TABLE IF NOT EXISTS lab.ltrig (id INT);"
                "CREATE OR REPLACE VIEW shop.lx_a AS SELECT id FROM shop.customers;"
                "CREATE OR REPLACE VIEW shop.lx_rev AS SELECT id, REVERSE(card_number) AS rc FROM shop.customers")
    with direct_conn(mariadb, database="lab") as conn, conn.cursor() as cur:
        cur.execute("CREATE OR REPLACE FUNCTION lab.lfirst() RETURNS INT RETURN 1")
        cur.execute("CREATE OR REPLACE FUNCTION lab.lwipe() RETURNS INT BEGIN DELETE FROM lab.lrows; RETURN 1; END")
        cur.execute("CREATE OR REPLACE TRIGGER lab.ltrig_wipe AFTER INSERT ON lab.ltrig FOR EACH ROW "
                    "DELETE FROM lab.lrows")
    yield
    mariadb.sql("DROP VIEW IF EXISTS shop.lx_rev; DROP VIEW IF EXISTS shop.lx_a")


@pytest.fixture()
def rows(mariadb):  # type: ignore[no-untyped-def]
    mariadb.sql("DELETE FROM lab.lrows; INSERT INTO lab.lrows VALUES (1), (2)")
    yield lambda: mariadb.sql("SELECT COUNT(*) FROM lab.lrows").strip()


@pytest.mark.parametrize("limit", LIMITS)
def test_a_view_is_found_whatever_sql_select_limit(bastion, limit):  # type: ignore[no-untyped-def]
    with pymysql_conn(bastion, bastion.token("bob", "developers"), database="shop", autocommit=True) as conn:
        assert run(conn, limit).startswith("ran")
        message = run(conn, "SELECT rc FROM lx_rev LIMIT 10")
    assert "guardrails:unmaskable-expressions" in message, message


@pytest.mark.parametrize("limit", LIMITS)
@pytest.mark.parametrize("sql", ["DO lab.lfirst(), lab.lwipe()", "INSERT INTO ltrig VALUES (1)"])
def test_a_function_or_trigger_is_found_whatever_sql_select_limit(bastion, rows, limit, sql):  # type: ignore[no-untyped-def]
    conn = pymysql_conn(bastion, bastion.token("alice", "dba"), database="lab", autocommit=True, read_timeout=60)
    try:
        assert run(conn, limit).startswith("ran")
        result = run_denied_by_approver(bastion, conn, sql, lambda text: "DELETE FROM lab.lrows" in text)
    finally:
        conn.close()
    assert "denied by an approver" in result
    assert rows() == "2"
