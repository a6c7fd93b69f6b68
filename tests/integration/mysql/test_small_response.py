"""The small-response lane (plugins/mysql/small_response.py) against the real MariaDB:
prepared and plain (COM_QUERY) results it relays whole are the bytes a direct connection
gets, it follows the session state the responses carry, statements that take it are still
judged and recorded before they run, and it never lets a value past the row hook: when a
statement's column definitions change, masking is planned again, and a masked value
reached through an alias, ``SELECT *``, a view or a UNION is masked."""

from __future__ import annotations

from typing import Any

import mysql.connector
import pymysql
import pytest

from tests.integration.conftest import wait_for
from tests.integration.mysql.clients import direct_conn, pymysql_conn, session_events, upstream_thread

AWS_KEY = "AKIAIOSFODNN7EXAMPLE"


@pytest.fixture(scope="module", autouse=True)
def lane_tables(mariadb):
    mariadb.sql("""
        DROP TABLE IF EXISTS shop.lane, shop.lane_alter;
        CREATE TABLE shop.lane (id INT PRIMARY KEY, n BIGINT, d DOUBLE, t DATETIME(3), z INT);
        INSERT INTO shop.lane SELECT seq, seq * 1000003, seq / 7, '2026-11-29 07:00:00.125' + INTERVAL seq SECOND,
          IF(seq % 3 = 0, NULL, seq) FROM shop.seq_1_to_100;
        CREATE TABLE shop.lane_alter (id INT PRIMARY KEY, n INT);
        INSERT INTO shop.lane_alter VALUES (1, 7);
        GRANT SELECT, UPDATE, ALTER ON shop.lane TO 'bastion_ro'@'127.0.0.1';
        GRANT SELECT ON shop.lane_alter TO 'bastion_ro'@'127.0.0.1';
    """)


def connect(port: int, user: str, password: str, use_pure: bool) -> Any:
    return mysql.connector.connect(host="127.0.0.1", port=port, user=user, password=password, database="shop",
                                   use_pure=use_pure, ssl_disabled=False, ssl_verify_cert=False, autocommit=True)


def run_prepared(conn: Any, sql: str, params: tuple[Any, ...]) -> tuple[list[Any], int]:
    cur = conn.cursor(prepared=True)
    try:
        cur.execute(sql, params)
        rows = cur.fetchall() if cur.with_rows else []
        return rows, cur.rowcount
    finally:
        cur.close()


def fast_lane_count(bastion, thread_id: int) -> int:  # type: ignore[no-untyped-def]
    """``fast_lane`` of the session.end of the session on upstream thread ``thread_id``."""
    ends = wait_for(lambda: session_events(bastion, thread_id, "session.end"))
    assert ends, f"no session.end for upstream thread {thread_id}"
    return int(ends[0]["data"]["fast_lane"])


CASES = [
    ("SELECT id, n, d, t, z FROM lane WHERE id = ?", (3,)),
    ("SELECT id, n, d, t, z FROM lane WHERE id = ?", (9999,)),  # no rows
    ("SELECT id, z FROM lane WHERE id <= ? ORDER BY id", (64,)),  # the lane's row limit
    ("SELECT id, z FROM lane WHERE id <= ? ORDER BY id", (65,)),  # one more: the general path
    ("SELECT id, n, d, t, z FROM lane ORDER BY id", ()),  # 100 rows
    ("SELECT COUNT(*), SUM(n), MIN(t) FROM lane WHERE z IS NULL", ()),
    ("UPDATE lane SET z = z WHERE id < ?", (10,)),  # an OK: affected rows
]


@pytest.mark.parametrize("use_pure", [True, False], ids=["pure", "c-ext"])
def test_prepared_results_equal_direct(bastion, mariadb, use_pure):
    token = bastion.token("alice", "dba")
    through = connect(bastion.ports["mysql"], "shop-db", token, use_pure)
    direct = connect(mariadb.port, "bastion_admin", "admin-secret-pw", use_pure)
    try:
        for sql, params in CASES:
            for _ in range(3):  # the first execution plans, the next ones take the lane
                assert run_prepared(through, sql, params) == run_prepared(direct, sql, params), sql
        thread_id = upstream_thread(through)
    finally:
        through.close()
        direct.close()
    # every case but the two larger results (65 and 100 rows), on every execution
    assert fast_lane_count(bastion, thread_id) == 3 * (len(CASES) - 2)


def test_changed_columns_are_planned_again_and_masked(bastion, mariadb):
    """A prepared SELECT * relayed whole while it has only numbers; after ALTER TABLE adds
    a text column holding a secret, MariaDB sends new definitions and the value is masked."""
    mariadb.sql("ALTER TABLE shop.lane_alter DROP COLUMN IF EXISTS note")
    token = bastion.token("bob", "developers")
    conn = connect(bastion.ports["mysql"], "shop-db", token, True)
    try:
        cur = conn.cursor(prepared=True)
        for _ in range(2):
            cur.execute("SELECT * FROM lane_alter WHERE id = ?", (1,))
            assert cur.fetchall() == [(1, 7)]
        mariadb.sql(f"ALTER TABLE shop.lane_alter ADD COLUMN note VARCHAR(64); "
                    f"UPDATE shop.lane_alter SET note = 'key {AWS_KEY} here'")
        cur.execute("SELECT * FROM lane_alter WHERE id = ?", (1,))
        ((_id, _n, note),) = cur.fetchall()
        cur.close()
    finally:
        conn.close()
    assert AWS_KEY not in note and note.startswith("key ") and note.endswith(" here") and len(note) == 29
    with direct_conn(mariadb) as dconn, dconn.cursor() as dcur:
        dcur.execute("SELECT note FROM lane_alter")
        assert dcur.fetchone() == (f"key {AWS_KEY} here",)


def test_session_state_from_a_prepared_ok(bastion):
    """SET sql_mode run as a prepared statement (its OK relayed whole) changes how the
    bastion reads the next statements: this one is two statements under NO_BACKSLASH_ESCAPES."""
    token = bastion.token("alice", "dba")
    conn = connect(bastion.ports["mysql"], "shop-db", token, True)
    try:
        run_prepared(conn, "SET SESSION sql_mode = 'NO_BACKSLASH_ESCAPES'", ())
        cur = conn.cursor()
        with pytest.raises(mysql.connector.Error) as info:
            cur.execute("SELECT 'a\\' ; DROP TABLE lane; -- '")
        assert info.value.errno == 1142 and "blocked by policy" in str(info.value.msg)
        cur.close()
    finally:
        conn.close()


# --- COM_QUERY: the same lane for plain statements (PyMySQL sends text queries) ---

TEXT_CASES = [  # (statement with {} for a literal, literals, lane taken)
    ("SELECT id, n, d, t, z FROM lane WHERE id = {}", (3, 4, 5), True),
    ("SELECT id, n, d, t, z FROM lane WHERE id = {}", (9999, 9998, 9997), True),  # no rows
    ("SELECT id, z FROM lane WHERE id <= {} ORDER BY id", (64, 63, 62), True),
    ("SELECT id, z FROM lane WHERE id <= {} ORDER BY id", (65, 66, 67), False),  # over the lane's row limit
    ("SELECT COUNT(*), SUM(n), MIN(t) FROM lane WHERE z IS NULL AND id > {}", (0, 1, 2), True),
    ("UPDATE lane SET z = z WHERE id < {}", (10, 11, 12), True),  # an OK: affected rows
    ("SELECT name FROM customers WHERE id = {}", (1, 2, 3), False),  # text: the secrets recognizers plan it
    ("SELECT id FROM lane WHERE id = {} UNION ALL SELECT 1/0", (1, 2, 3), True),  # NULL from 1/0: a row
]


def text_rows(conn: Any, sql: str) -> tuple[Any, ...]:
    with conn.cursor() as cur:
        affected = cur.execute(sql)
        return tuple(cur.fetchall()), affected


def session_end(bastion, thread_id: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    ends = wait_for(lambda: session_events(bastion, thread_id, "session.end"))
    assert ends, f"no session.end for upstream thread {thread_id}"
    return dict(ends[0]["data"])


def lane_queries_of(bastion, token: str, run: Any) -> int:  # type: ignore[no-untyped-def]
    """COM_QUERY responses relayed whole in a session that does ``run(conn)``, less those of
    a session that only connects and asks its thread id (what the driver sends by itself)."""
    counts = []
    for job in (lambda conn: None, run):
        conn = pymysql_conn(bastion, token, autocommit=True)
        try:
            job(conn)
            thread_id = upstream_thread(conn)
        finally:
            conn.close()
        counts.append(int(session_end(bastion, thread_id)["fast_lane_queries"]))
    return counts[1] - counts[0]


def test_text_results_equal_direct_and_take_the_lane(bastion, mariadb):
    token = bastion.token("alice", "dba")
    direct = direct_conn(mariadb, autocommit=True)

    def run(conn: Any) -> None:
        for template, literals, _lane in TEXT_CASES:
            for literal in literals:
                sql = template.format(literal)
                assert text_rows(conn, sql) == text_rows(direct, sql), sql

    try:
        taken = lane_queries_of(bastion, token, run)
    finally:
        direct.close()
    assert taken == sum(len(literals) for _t, literals, lane in TEXT_CASES if lane)


def test_lane_statements_are_judged_and_recorded(bastion):
    token = bastion.token("alice", "dba")
    conn = pymysql_conn(bastion, token, autocommit=True)
    try:
        for i in (1, 2, 4):  # z is NULL where id % 3 = 0
            assert text_rows(conn, f"SELECT id, z FROM lane WHERE id = {i} /* lane-record */") == (((i, i),), 1)
        with pytest.raises(pymysql.err.MySQLError) as info:  # same shape, another statement: judged anew
            text_rows(conn, "SELECT id, z FROM lane WHERE id = 1; DROP TABLE lane")
        assert info.value.args[0] == 1142
        thread_id = upstream_thread(conn)
    finally:
        conn.close()
    assert session_end(bastion, thread_id)["fast_lane_queries"] >= 3
    records = [e["data"] for e in session_events(bastion, thread_id, "query")
               if "lane-record" in e["data"]["statement"]]
    assert [(r["rows"], r["columns"], r["results"], r["error"], r["verdict"]) for r in records] == \
        [(1, ["id", "z"], 1, "", "allow")] * 3
    starts = [e for e in session_events(bastion, thread_id, "query.start") if "lane-record" in e["data"]["statement"]]
    assert len(starts) == 3  # each on record before it ran


@pytest.fixture(scope="module")
def disguises(mariadb):
    mariadb.sql("""
        CREATE OR REPLACE VIEW shop.lane_cards AS SELECT id, card_number AS c FROM shop.customers;
        CREATE OR REPLACE TABLE shop.lane_swap (id INT PRIMARY KEY);
        INSERT INTO shop.lane_swap VALUES (1), (2);
        GRANT SELECT ON shop.lane_cards TO 'bastion_ro'@'127.0.0.1';
        GRANT SELECT ON shop.lane_swap TO 'bastion_ro'@'127.0.0.1';
    """)


CARD, EMAIL = "4111 1111 1111 1111", "ada@example.com"
DISGUISES = [  # a masked value reached otherwise than by its column's name, after a primed lane
    "SELECT card_number AS id FROM customers WHERE id = 1",
    "SELECT * FROM customers WHERE id = 1",
]
UNIONS = [  # a UNION's or a view's result names no masked column: bob's unmaskable-expressions rule refuses it
    "SELECT id FROM customers WHERE id = 1 UNION SELECT card_number FROM customers WHERE id = 1",
    "SELECT id, c FROM lane_cards WHERE id = 1",
    "SELECT id AS card_number FROM customers WHERE id = 1 UNION ALL SELECT email FROM customers WHERE id = 1",
]


@pytest.mark.parametrize("sql", DISGUISES)
def test_masking_applies_to_disguises_after_the_lane(bastion, bob, disguises, sql):
    conn = pymysql_conn(bastion, bob, autocommit=True)
    try:
        for i in (1, 2, 3):  # the lane is primed: numbers only, nothing to mask
            assert text_rows(conn, f"SELECT id FROM customers WHERE id = {i}") == (((i,),), 1)
        rows, _ = text_rows(conn, sql)
    finally:
        conn.close()
    seen = repr(rows)
    assert CARD not in seen and CARD.replace(" ", "") not in seen and EMAIL not in seen
    assert "1111" in seen or "@example.com" in seen  # masked in place, not dropped


@pytest.mark.parametrize("sql", UNIONS)
def test_a_masked_column_through_a_union_is_refused_after_the_lane(bastion, bob, sql):
    import pymysql

    conn = pymysql_conn(bastion, bob, autocommit=True)
    try:
        for i in (1, 2, 3):
            assert text_rows(conn, f"SELECT id FROM customers WHERE id = {i}") == (((i,),), 1)
        with pytest.raises(pymysql.err.MySQLError) as info:
            text_rows(conn, sql)
    finally:
        conn.close()
    assert "unmaskable-expressions" in str(info.value)


def test_same_fingerprint_with_new_definitions_is_planned_again(bastion, bob, mariadb, disguises):
    """``SELECT * FROM lane_swap WHERE id = ?`` takes the lane while the table has only
    numbers; altered to add a column of card numbers, the same shape is masked."""
    conn = pymysql_conn(bastion, bob, autocommit=True)
    try:
        for i in (1, 2):
            assert text_rows(conn, f"SELECT * FROM lane_swap WHERE id = {i}") == (((i,),), 1)
        mariadb.sql(f"ALTER TABLE shop.lane_swap ADD COLUMN card VARCHAR(19) DEFAULT '{CARD}'")
        ((_id, card),), _ = text_rows(conn, "SELECT * FROM lane_swap WHERE id = 1")
        thread_id = upstream_thread(conn)
    finally:
        conn.close()
        mariadb.sql("ALTER TABLE shop.lane_swap DROP COLUMN card")
    assert card != CARD and card.endswith("1111") and len(card) == len(CARD)
    assert session_end(bastion, thread_id)["fast_lane_queries"] >= 2


def test_blocking_still_applies_after_the_lane(bastion, bob):
    conn = pymysql_conn(bastion, bob, autocommit=True)
    try:
        for i in (1, 2, 3):
            text_rows(conn, f"SELECT id FROM customers WHERE id = {i}")
        for sql in ("SELECT HEX(card_number) FROM customers WHERE id = 1",
                    "SELECT id FROM customers WHERE id = 1 UNION SELECT REVERSE(card_number) FROM customers"):
            with pytest.raises(pymysql.err.MySQLError) as info:
                text_rows(conn, sql)
            assert info.value.args[0] == 1142 and "unmaskable-expressions" in info.value.args[1]
    finally:
        conn.close()


@pytest.fixture(scope="module")
def bob(bastion):
    return bastion.token("bob", "developers")
