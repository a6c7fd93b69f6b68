"""The statement the server will really run is the one judged, through the bastion to the
real MariaDB under the demo's rules (alice = dba: no DROP/TRUNCATE, DELETE needs an
approver; bob = developer, masked): statements carried inside others, SQL-level
PREPARE/EXECUTE, routine bodies, ANALYZE, implied drops, character sets, approvers' view."""

from __future__ import annotations

import pymysql
import pytest

from bastion.approvals import ApprovalBroker
from bastion.state.store import StateStore
from tests.integration.conftest import wait_for
from tests.integration.mysql.clients import NO_VERIFY, direct_conn, pymysql_conn, run_denied_by_approver

CARDS = ("4111 1111 1111 1111", "5555-5555-5555-4444", "378282246310005")


@pytest.fixture(scope="module", autouse=True)
def victims(mariadb):
    mariadb.sql("""
        CREATE DATABASE IF NOT EXISTS lab;
        CREATE TABLE IF NOT EXISTS lab.victim (id INT PRIMARY KEY, c VARCHAR(60));
        REPLACE INTO lab.victim VALUES (1, 'a'), (2, 'b');
    """)


def exists(mariadb, table: str = "victim") -> bool:
    return table in mariadb.sql("SHOW TABLES FROM lab")


def refused(conn, sql: str) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(pymysql.err.MySQLError) as exc, conn.cursor() as cur:
        cur.execute(sql)
    return str(exc.value)


@pytest.fixture()
def alice(bastion):
    conn = pymysql_conn(bastion, bastion.token("alice", "dba"), database="lab", autocommit=True)
    yield conn
    conn.close()


@pytest.mark.parametrize("sql", [
    "SET STATEMENT max_statement_time=0 FOR DROP TABLE victim",
    "SET STATEMENT max_statement_time=0 FOR TRUNCATE victim",
    "PREPARE p FROM 'DROP TABLE victim'",
    "PREPARE p FROM 'DR' 'OP TABLE victim'",
    "EXECUTE IMMEDIATE 'DROP TABLE victim'",
    "CREATE PROCEDURE drop_it() DROP TABLE victim",
    "CREATE PROCEDURE drop_it2() BEGIN SELECT 1; DROP TABLE victim; END",
    "CREATE OR REPLACE TABLE victim (id INT)",
    "ALTER TABLE victim DROP COLUMN c",
    "/*!99999 DROP TABLE victim */",
    "ALTER TABLE victim ENGINE=BLACKHOLE",
    "ALTER TABLE victim ENGINE = 'blackhole'",
    "ALTER TABLE victim /*!ENGINE=BlackHole*/",
    "ALTER TABLE victim DISCARD TABLESPACE",
])
def test_a_drop_carried_inside_another_statement_is_refused(bastion, mariadb, alice, sql):
    message = refused(alice, sql)
    assert "guardrails:no-drop" in message
    assert exists(mariadb)
    assert "c" in mariadb.sql("SHOW COLUMNS FROM lab.victim")
    assert int(mariadb.sql("SELECT COUNT(*) FROM lab.victim").strip()) > 0
    assert "InnoDB" in mariadb.sql("SELECT ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'lab' "
                                   "AND TABLE_NAME = 'victim'")


def test_execute_of_a_name_the_bastion_did_not_judge_is_refused(bastion, mariadb, alice):
    assert "not prepared through the bastion" in refused(alice, "EXECUTE never_prepared")
    assert "guardrails:dynamic-sql" in refused(alice, "PREPARE q FROM @x")
    assert "not prepared through the bastion" in refused(alice, "EXECUTE q")


def test_execute_is_judged_as_the_statement_it_runs(bastion, alice):
    with alice.cursor() as cur:
        cur.execute("PREPARE ok FROM 'SELECT c FROM victim WHERE id = ?'")
        cur.execute("SET @i = 1")
        cur.execute("EXECUTE ok USING @i")
        assert cur.fetchall() == (("a",),)
        cur.execute("DEALLOCATE PREPARE ok")
    assert "not prepared through the bastion" in refused(alice, "EXECUTE ok")
    executes = wait_for(lambda: [e["data"] for e in bastion.journal() if e["type"] == "query"
                                 and e["data"].get("executes") == "SELECT c FROM victim WHERE id = ?"])
    assert executes[0]["verdict"] == "allow"


def test_compound_routines_can_be_created(bastion, alice):
    with alice.cursor() as cur:
        cur.execute("CREATE PROCEDURE IF NOT EXISTS two_selects() BEGIN SELECT 1; SELECT 2; END")
        cur.execute("CALL two_selects()")
        assert cur.fetchall() == ((1,),)


@pytest.mark.parametrize("sql", ["ANALYZE DELETE FROM victim", "EXPLAIN ANALYZE DELETE FROM victim"])
def test_analyze_of_a_delete_waits_for_an_approver(bastion, mariadb, sql):
    conn = pymysql_conn(bastion, bastion.token("alice", "dba"), database="lab", autocommit=True, read_timeout=60)
    try:
        assert "denied by an approver" in run_denied_by_approver(bastion, conn, sql, lambda text: "DELETE" in text)
    finally:
        conn.close()
    assert "2" in mariadb.sql("SELECT COUNT(*) FROM lab.victim")


@pytest.mark.parametrize("sql", ["ALTER IGNORE TABLE dupes ADD UNIQUE (c)",
                                 "ALTER /*!50000 IGNORE */ TABLE dupes ADD PRIMARY KEY (c)"])
def test_alter_ignore_deletes_rows_so_it_waits_for_an_approver(bastion, mariadb, sql):
    """MariaDB's ALTER IGNORE deletes every row but one that collides on a new unique key."""
    mariadb.sql("CREATE OR REPLACE TABLE lab.dupes (id INT, c INT); INSERT INTO lab.dupes VALUES (1, 1), (2, 1)")
    conn = pymysql_conn(bastion, bastion.token("alice", "dba"), database="lab", autocommit=True, read_timeout=60)
    try:
        assert "denied by an approver" in run_denied_by_approver(bastion, conn, sql, lambda text: "IGNORE" in text)
    finally:
        conn.close()
    assert mariadb.sql("SELECT COUNT(*) FROM lab.dupes").strip() == "2"


def test_approvers_see_the_statement_structure(bastion, mariadb):
    conn = pymysql_conn(bastion, bastion.token("alice", "dba"), database="lab", autocommit=True, read_timeout=60)
    broker = ApprovalBroker(type("C", (), {"store": StateStore(f"sqlite:///{bastion.workdir}/var/state.db"),
                                            "maskers": []})())
    sql = ("DELETE FROM victim WHERE c = '-----BEGIN RSA PRIVATE KEY-----' OR id > 0 "
           "OR c = '-----END RSA PRIVATE KEY-----'")
    import threading

    t = threading.Thread(target=lambda: refused(conn, sql))
    t.start()
    try:
        pending = wait_for(lambda: [a for a in broker.list("pending") if "victim" in a.statement], timeout=30)
        assert pending and "OR id > 0" in pending[0].statement
        from bastion.core.types import Identity

        broker.decide(pending[0].id, Identity(subject="carol", groups=frozenset({"approvers"})), False, "no")
    finally:
        t.join(30)
        conn.close()
    records = wait_for(lambda: [e["data"]["statement"] for e in bastion.journal()
                                if e["type"] == "query" and "victim WHERE c" in e["data"].get("statement", "")])
    assert "OR id > 0" in records[-1]


def test_binary_results_are_still_masked(bastion, mariadb):
    with pymysql_conn(bastion, bastion.token("bob", "developers"), autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("SET character_set_results = binary")
        cur.execute("SELECT email, card_number, notes FROM customers ORDER BY id")
        rows = cur.fetchall()
        cur.execute("SET STATEMENT character_set_results=binary FOR SELECT card_number FROM customers")
        rows += tuple((None, c, None) for (c,) in cur.fetchall())
    text = repr(rows)
    assert all(card not in text for card in CARDS)
    assert "ada@example.com" not in text


@pytest.mark.parametrize("charset", ["utf16", "utf32", "ucs2", "NULL", "latin1", "DEFAULT"])
def test_results_in_any_charset_are_still_masked(bastion, charset):
    token = bastion.token("bob", "developers")
    with pymysql_conn(bastion, token, autocommit=True, use_unicode=False) as conn, conn.cursor() as cur:
        cur.execute(f"SET character_set_results = {charset}")
        cur.execute("SELECT email, card_number, notes FROM customers ORDER BY id")
        rows = cur.fetchall()
    raw = b"".join(v if isinstance(v, bytes) else str(v).encode() for row in rows for v in row)
    for card in CARDS:
        for wide in ("utf-8", "utf-16-be", "utf-32-be"):
            assert card.encode(wide) not in raw, (charset, card)


@pytest.mark.parametrize("sql", ["SET NAMES gbk", "SET character_set_client = sjis", "SET CHARSET big5",
                                 "SET character_set_results = @x",
                                 "SET STATEMENT character_set_client = cp932 FOR SELECT 1"])
def test_charsets_the_bastion_cannot_follow_are_refused(bastion, sql):
    with pymysql_conn(bastion, bastion.token("bob", "developers"), autocommit=True) as conn:
        assert "mysql:charset" in refused(conn, sql)


def test_a_login_in_an_escape_unsafe_charset_is_refused(bastion):
    with pytest.raises(pymysql.err.OperationalError) as exc:
        pymysql.connect(host="127.0.0.1", port=bastion.ports["mysql"], user="shop-db",
                        password=bastion.token("bob", "developers"), charset="gbk", ssl=NO_VERIFY,
                        connect_timeout=10)
    assert "gbk" in str(exc.value)


def test_procedure_analyse_is_refused_for_masked_users(bastion):
    with pymysql_conn(bastion, bastion.token("bob", "developers"), autocommit=True) as conn:
        assert "guardrails:" in refused(conn, "SELECT card_number FROM customers PROCEDURE ANALYSE()")


def test_the_target_never_saw_a_refused_statement(mariadb):
    with direct_conn(mariadb, database="lab") as conn, conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM victim")
        assert cur.fetchone() == (2,)


def test_a_call_is_judged_with_the_body_the_target_holds(bastion, mariadb, alice):
    # created behind the bastion's back: its body was never judged at CREATE time
    with direct_conn(mariadb, database="lab") as conn, conn.cursor() as cur:
        cur.execute("CREATE OR REPLACE PROCEDURE lab.sneaky() BEGIN SELECT 1; DROP TABLE lab.victim; END")
        cur.execute("CREATE OR REPLACE PROCEDURE lab.harmless() SELECT c FROM lab.victim WHERE id = 1")
    assert "guardrails:no-drop" in refused(alice, "CALL sneaky()")
    assert "guardrails:no-drop" in refused(alice, "CALL lab.sneaky")
    assert exists(mariadb)
    with alice.cursor() as cur:
        cur.execute("CALL harmless()")
        assert cur.fetchall() == (("a",),)
    assert "mysql:routine" in refused(alice, "CALL no_such_procedure()")


@pytest.mark.parametrize("sql", [
    "SELECT id FROM customers WHERE DATE(REVERSE(card_number))",
    "SELECT id FROM customers WHERE REVERSE(card_number) + 0 > 1",
    "SELECT id FROM customers ORDER BY CAST(REPLACE(REVERSE(card_number), ' ', '') AS DATE)",
])
def test_values_returned_in_warnings_are_refused(bastion, sql):
    """MariaDB echoes a computed value in its warnings (``Incorrect datetime value: '…'``,
    ``Truncated incorrect DOUBLE value: '…'``), which ``SHOW WARNINGS`` returns, transformed
    so that no recognizer finds it (MySQL's EXTRACTVALUE does the same in an error)."""
    with pymysql_conn(bastion, bastion.token("bob", "developers"), database="shop", autocommit=True) as conn:
        message = refused(conn, sql)
        with conn.cursor() as cur:
            cur.execute("SHOW WARNINGS")
            warnings = str(cur.fetchall())
    assert "guardrails:unmaskable-expressions" in message, message
    for card in CARDS:
        digits = card.replace(" ", "").replace("-", "")
        assert digits[::-1][:8] not in message.replace(" ", "") + warnings.replace(" ", "")
