"""The fast lane (plugins/mysql/fastlane.py) against the real MariaDB: prepared results it
relays whole are the bytes a direct connection gets, it follows the session state the
responses carry, and it never lets a value past the row hook: when a statement's column
definitions change, masking is planned again."""

from __future__ import annotations

from typing import Any

import mysql.connector
import pytest

from tests.integration.conftest import wait_for
from tests.integration.mysql.clients import direct_conn, session_events, upstream_thread

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
