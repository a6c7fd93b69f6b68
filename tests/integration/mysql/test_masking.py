"""Masking through the real MariaDB: text rows (CLI, PyMySQL), binary rows (prepared),
free text, group exemptions, and everything else byte-identical to a direct connection."""

from __future__ import annotations

import hashlib

import mysql.connector
import pytest

from tests.integration.mysql.clients import cli, direct_conn, pymysql_conn, session_events, upstream_thread

CARD = "4111 1111 1111 1111"


@pytest.fixture(scope="module")
def bob(bastion):
    return bastion.token("bob", "developers")


@pytest.fixture(scope="module")
def dave(bastion):
    return bastion.token("dave", "developers,pci-auditors")


@pytest.fixture(scope="module", autouse=True)
def extra(mariadb):
    mariadb.sql("""
        CREATE TABLE IF NOT EXISTS shop.edge (id INT PRIMARY KEY, card_number VARCHAR(19), notes TEXT,
                                              big LONGTEXT, other VARCHAR(40));
        DELETE FROM shop.edge;
        INSERT INTO shop.edge VALUES (1, NULL, NULL, NULL, 'n/a'), (2, '', '', '', ''),
          (3, '5555555555554444', 'Grüße — paid with 4012888888881881 ✓', NULL, 'ünïcødé ✓ untouched');
        GRANT SELECT ON shop.edge TO 'bastion_ro'@'127.0.0.1';
    """)
    big = "x" * (16 * 1024 * 1024 - 64) + " card 4111111111111111 end"
    with direct_conn(mariadb) as conn, conn.cursor() as cur:
        cur.execute("UPDATE edge SET big = %s WHERE id = 3", (big,))
        conn.commit()


def test_pymysql_text_rows_masked_for_bob(bastion, bob):
    with pymysql_conn(bastion, bob) as conn, conn.cursor() as cur:
        cur.execute("SELECT name, email, card_number, notes FROM customers WHERE id IN (1, 2) ORDER BY id")
        (n1, e1, c1, notes1), (n2, e2, c2, notes2) = cur.fetchall()
    assert n1 == "Ada Lovelace" and n2 == "Grace Hopper"  # unmasked columns untouched
    assert c1 == "**** **** **** 1111" and len(c1) == len(CARD)
    assert c2.endswith("4444") and "5555" not in c2
    assert e1 == "a**@example.com" and e2.endswith("@example.com") and e2 != "grace@example.com"
    assert "4012888888881881" not in notes2 and notes2.endswith("last time") and "1881" in notes2


def test_pci_auditor_sees_clear_values(bastion, dave):
    with pymysql_conn(bastion, dave) as conn, conn.cursor() as cur:
        cur.execute("SELECT email, card_number FROM customers WHERE id = 1")
        assert cur.fetchone() == ("ada@example.com", CARD)


def test_cli_table_output_masked(bastion, bob):
    res = cli(bastion, bob, "SELECT card_number, email FROM customers WHERE id = 1")
    assert res.returncode == 0, res.stderr
    assert "**** **** **** 1111" in res.stdout and "a**@example.com" in res.stdout and "4111 1111" not in res.stdout


@pytest.mark.parametrize("use_pure", [True, False], ids=["pure", "c-ext"])
def test_prepared_binary_rows_masked(bastion, bob, use_pure):
    conn = mysql.connector.connect(host="127.0.0.1", port=bastion.ports["mysql"], user="shop-db", password=bob,
                                   database="shop", use_pure=use_pure, ssl_verify_cert=False)
    try:
        cur = conn.cursor(prepared=True)
        cur.execute("SELECT id, card_number, notes, other FROM edge WHERE id >= ? ORDER BY id", (1,))
        rows = cur.fetchall()
    finally:
        conn.close()
    assert rows[0] == (1, None, None, "n/a")
    assert rows[1] == (2, "", "", "")
    assert rows[2][1] == "************4444"
    assert "4012888888881881" not in rows[2][2]
    assert rows[2][2].startswith("Grüße — paid with ") and rows[2][2].endswith("✓")
    assert rows[2][3] == "ünïcødé ✓ untouched"


def test_16mb_value_survives_and_is_masked(bastion, bob, mariadb):
    with pymysql_conn(bastion, bob) as conn, conn.cursor() as cur:
        cur.execute("SELECT big FROM edge WHERE id = 3")
        (big,) = cur.fetchone()
    assert len(big) == 16 * 1024 * 1024 - 64 + len(" card 4111111111111111 end")
    assert big.endswith(" card ************1111 end") and big.startswith("xxxx")


def test_unmasked_columns_byte_identical_to_direct(bastion, bob, mariadb):
    sql = "SELECT id, name, phone, other FROM customers LEFT JOIN edge USING (id) ORDER BY id"
    with pymysql_conn(bastion, bob, binary_prefix=True) as conn, conn.cursor() as cur:
        cur.execute(sql)
        through = cur.fetchall()
    with direct_conn(mariadb) as conn, conn.cursor() as cur:
        cur.execute(sql)
        direct = cur.fetchall()
    assert hashlib.sha256(repr(through).encode()).digest() == hashlib.sha256(repr(direct).encode()).digest()


def test_expression_on_sensitive_column_is_denied(bastion, bob):
    import pymysql

    with pymysql_conn(bastion, bob) as conn, conn.cursor() as cur:
        for sql in ("SELECT HEX(card_number) FROM customers", "SELECT REVERSE(card_number) FROM customers",
                    "SELECT CONCAT(email, '') FROM customers",
                    # the value moved out of masking's sight first: a variable, a renamed column
                    "SELECT card_number INTO @v FROM customers WHERE card_number IS NOT NULL LIMIT 1",
                    "SET @v = (SELECT card_number FROM customers WHERE card_number IS NOT NULL LIMIT 1)",
                    "WITH t AS (SELECT card_number AS c FROM customers) SELECT REVERSE(c) FROM t",
                    "SELECT UPPER(e) FROM (SELECT id, email AS e FROM customers) AS d"):
            with pytest.raises(pymysql.err.MySQLError) as info:
                cur.execute(sql)
            assert "unmaskable-expressions" in info.value.args[1]
        cur.execute("SELECT REVERSE(@v)")
        assert cur.fetchall() == ((None,),)  # nothing reached the variable


def test_audit_never_holds_clear_values(bastion, dave):
    with pymysql_conn(bastion, dave) as conn, conn.cursor() as cur:
        cur.execute("SELECT id FROM customers WHERE card_number = '4111 1111 1111 1111'")
        cur.execute("SELECT email, card_number FROM customers")
    from tests.integration.conftest import wait_for

    wait_for(lambda: [e for e in bastion.journal() if e["type"] == "query"
                      and e["data"]["statement"] == "SELECT email, card_number FROM customers"
                      and e["session_id"] in {s["session_id"] for s in bastion.journal()
                                              if s["type"] == "session.start" and s["data"]["user"] == "dave"}])
    journal = str(bastion.journal())
    assert "4111 1111 1111 1111" not in journal and "ada@example.com" not in journal
    masked = [e for e in bastion.journal() if e["type"] == "query" and "**** **** **** 1111" in e["data"]["statement"]]
    assert masked and masked[-1]["data"]["statement_masked"] == {"card": 1}
    counted = [e for e in bastion.journal() if e["type"] == "query" and e["data"].get("masked")]
    assert counted  # bob's masked reads are counted by recognizer and column


def test_server_error_messages_are_masked_in_the_audit(bastion, mariadb):
    import pymysql

    mariadb.sql("CREATE TABLE IF NOT EXISTS shop.uniq_cards (card VARCHAR(19) PRIMARY KEY);"
                "INSERT IGNORE INTO shop.uniq_cards VALUES ('4012888888881881');")
    alice = bastion.token("alice", "dba")
    with pymysql_conn(bastion, alice) as conn, conn.cursor() as cur:
        with pytest.raises(pymysql.err.IntegrityError) as info:
            cur.execute("INSERT INTO uniq_cards VALUES ('4012888888881881')")
        assert "Duplicate entry" in info.value.args[1]
    from tests.integration.conftest import wait_for

    # the audit record is written right after the reply: wait for it
    errors = wait_for(lambda: [e["data"]["error"] for e in bastion.journal()
                               if e["type"] == "query" and "Duplicate entry" in str(e["data"].get("error"))])
    assert errors and "************1881" in errors[-1]
    assert "4012888888881881" not in str(bastion.journal())


def test_repeated_executions_count_each_masked_value_once(bastion, bob):
    """The masking plan of a prepared statement is kept between executions; the outcome
    record of each execution counts one masked card, not more."""
    conn = mysql.connector.connect(host="127.0.0.1", port=bastion.ports["mysql"], user="shop-db", password=bob,
                                   database="shop", use_pure=True, ssl_verify_cert=False)
    sql = "SELECT id, card_number FROM customers WHERE id = ?"
    try:
        cur = conn.cursor(prepared=True)
        for _ in range(5):
            cur.execute(sql, (1,))
            assert cur.fetchall() == [(1, "**** **** **** 1111")]
        cur.close()  # COM_STMT_CLOSE: what is pending goes into the audit trail
        thread_id = upstream_thread(conn)
    finally:
        conn.close()
    from tests.integration.conftest import wait_for

    def executions() -> list[dict]:  # type: ignore[type-arg]
        prepared = {e["data"]["event_id"] for e in session_events(bastion, thread_id, "query")
                    if e["data"]["command"] == "prepare" and e["data"]["statement"] == sql}
        return [e["data"] for e in session_events(bastion, thread_id, "query")
                if e["data"]["command"] == "execute" and e["data"]["prepared"] in prepared]

    assert wait_for(lambda: len(executions()) == 5)
    assert [sum(d["masked"].values()) for d in executions()] == [1] * 5, executions()


def test_password_hashes_of_the_target_are_masked(bastion):
    with pymysql_conn(bastion, bastion.token("alice", "dba"), database="mysql") as conn, conn.cursor() as cur:
        cur.execute("SELECT User, Password FROM mysql.user WHERE User LIKE 'bastion%'")
        rows = cur.fetchall()
        cur.execute("SHOW GRANTS FOR 'bastion_ro'@'127.0.0.1'")
        grants = " ".join(r[0] for r in cur.fetchall())
    hashes = [pw for _user, pw in rows if pw]
    assert hashes and all(not any(c in "0123456789ABCDEF" for c in pw[1:]) for pw in hashes), hashes
    assert "IDENTIFIED BY PASSWORD" in grants and "'*" in grants
    assert not any(c in "0123456789ABCDEF" for c in grants.split("PASSWORD '*", 1)[1][:40])
