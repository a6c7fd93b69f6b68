"""The bastion reads statements under the sql_mode the server parses them in.

``ANSI_QUOTES`` (``"x"`` a name, not a string) is not reported in OK packets, so the
bastion reads the mode back after a statement that may change it; a text prepared under
``NO_BACKSLASH_ESCAPES`` is judged under it at each ``EXECUTE``; a ``SET STATEMENT
sql_mode = … FOR`` around SQL parsed at run time is refused. Each disguise below hides a
call of a stored function that deletes (created directly on the target) from a reader in
the wrong mode; through the bastion (alice = dba: DELETE needs an approver) it must wait
for an approver, or be refused, and the target keep its rows."""

from __future__ import annotations

import pytest

from tests.integration.conftest import wait_for
from tests.integration.mysql.clients import direct_conn, pymysql_conn, run, run_denied_by_approver

# Under ANSI_QUOTES `"\"` and `"-- "` are names and lab.swipe() a call; by default
# `"\", lab.swipe() AS "` is one string and `-- "` a comment.
ANSI_HIDDEN = 'SELECT 1 AS "\\", lab.swipe() AS "-- "\n, 2'
# Under NO_BACKSLASH_ESCAPES `'a\'` is a whole string; by default it runs on to the last quote.
NBE_INNER = "SELECT 'a\\', lab.swipe() -- '"


@pytest.fixture(scope="module", autouse=True)
def swipe(mariadb):  # type: ignore[no-untyped-def]
    mariadb.sql("CREATE DATABASE IF NOT EXISTS lab; CREATE TABLE IF NOT EXISTS lab.srows (id INT)")
    with direct_conn(mariadb, database="lab") as conn, conn.cursor() as cur:
        cur.execute("CREATE OR REPLACE FUNCTION lab.swipe() RETURNS INT BEGIN DELETE FROM lab.srows; RETURN 1; END")


@pytest.fixture()
def rows(mariadb):  # type: ignore[no-untyped-def]
    mariadb.sql("DELETE FROM lab.srows; INSERT INTO lab.srows VALUES (1), (2)")
    yield lambda: mariadb.sql("SELECT COUNT(*) FROM lab.srows").strip()


def _alice(bastion):  # type: ignore[no-untyped-def]
    return pymysql_conn(bastion, bastion.token("alice", "dba"), database="lab", autocommit=True, read_timeout=60)


def _wipes(text: str) -> bool:
    return "DELETE FROM lab.srows" in text


@pytest.mark.parametrize("set_mode", [
    ["SET sql_mode = 'ANSI_QUOTES'"],
    ["SET @@SESSION.sql_mode = CONCAT('ANSI', '')"],
    ["SET sql_mode = 'ORACLE'"],
    # the bastion's own lookups must read the mode (and the function's body) whatever
    # charset the user asked results in
    ["SET character_set_results = utf16", "SET sql_mode = 'ANSI_QUOTES'"],
    ["SET character_set_results = latin1", "SET sql_mode = 'ANSI_QUOTES'"],
])
def test_ansi_quotes_is_followed(bastion, rows, set_mode):  # type: ignore[no-untyped-def]
    conn = _alice(bastion)
    try:
        for sql in set_mode:
            assert run(conn, sql).startswith("ran"), sql
        result = run_denied_by_approver(bastion, conn, ANSI_HIDDEN, _wipes)
        assert run(conn, "SET character_set_results = utf8mb4, sql_mode = DEFAULT").startswith("ran")
        assert run(conn, 'SELECT "a"') == "ran: (('a',),)"  # a string again
    finally:
        conn.close()
    assert "denied by an approver" in result
    assert rows() == "2"


def test_a_prepared_text_is_judged_at_execute_under_the_mode_it_was_prepared_in(bastion, rows):  # type: ignore[no-untyped-def]
    conn = _alice(bastion)
    try:
        assert run(conn, "SET sql_mode = 'NO_BACKSLASH_ESCAPES'").startswith("ran")
        prepare = "PREPARE pnbe FROM '" + NBE_INNER.replace("'", "''") + "'"
        assert run_denied_by_approver(bastion, conn, prepare, _wipes, approve=True).startswith("ran")
        assert run(conn, "SET sql_mode = DEFAULT").startswith("ran")
        # carol's approval of the body covers it again for the demo's window: what shows
        # that EXECUTE read the text as prepared is the function it found to judge
        assert run(conn, "EXECUTE pnbe").startswith("ran")
    finally:
        conn.close()
    records = wait_for(lambda: [e["data"] for e in bastion.journal() if e["type"] == "query"
                                and e["data"].get("statement") == "EXECUTE pnbe"])
    assert records[0]["functions"] == ["lab.swipe"], records[0]


@pytest.mark.parametrize("sql", [
    "SET STATEMENT sql_mode = 'NO_BACKSLASH_ESCAPES' FOR PREPARE p FROM '" + NBE_INNER.replace("\\", "\\\\")
    .replace("'", "''") + "'",
    "SET STATEMENT sql_mode = 'NO_BACKSLASH_ESCAPES' FOR EXECUTE IMMEDIATE '" + NBE_INNER.replace("\\", "\\\\")
    .replace("'", "''") + "'",
])
def test_set_statement_sql_mode_around_run_time_sql_is_refused(bastion, rows, sql):  # type: ignore[no-untyped-def]
    with _alice(bastion) as conn:
        message = run(conn, sql)
        assert "sql_mode" in message and "refused" in message, message
        if "PREPARE" in sql:
            assert "not prepared through the bastion" in run(conn, "EXECUTE p")
    assert rows() == "2"


def test_a_value_in_an_executed_text_or_a_column_name_is_masked_in_the_record(bastion):  # type: ignore[no-untyped-def]
    key = "AKIAIOSFODNN7EXAMPLE"
    with _alice(bastion) as conn:
        assert run(conn, "SET sql_mode = 'NO_BACKSLASH_ESCAPES'").startswith("ran")
        # under NO_BACKSLASH_ESCAPES the key is a string of its own; by default it would be code
        assert run(conn, f"PREPARE pkey FROM 'SELECT ''x\\'', ''{key}'' -- '''").startswith("ran")
        assert run(conn, "SET sql_mode = DEFAULT").startswith("ran")
        assert run(conn, "EXECUTE pkey").startswith("ran")
    records = wait_for(lambda: [e["data"] for e in bastion.journal() if e["type"] == "query"
                                and e["data"].get("statement") == "EXECUTE pkey"])
    assert "executes" in records[0] and key not in str(records[0]), str(records[0])  # columns are named by the value
