"""Fail closed when the audit trail cannot be written: the journal's directory disappears
under a running bastion (an unmounted or removed volume); from the first event it cannot
write, every statement — queries and already-prepared statements alike — and every new
session is refused, nothing more reaches MariaDB, and the process lives on."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import mysql.connector
import pymysql
import pytest

from tests.integration.conftest import (
    journal_events,
    mysql_bastion_config,
    start_bastion,
    stop_bastion,
    wait_for,
)
from tests.integration.mysql.clients import direct_conn, pymysql_conn


@pytest.fixture()
def fragile(tmp_path, mariadb):
    config = mysql_bastion_config(tmp_path, mariadb)
    config["audit"] = {**config["audit"], "rotate_bytes": 4096}  # rotation re-creates the file soon
    mariadb.sql("DROP TABLE IF EXISTS shop.audit_down; CREATE TABLE shop.audit_down (id INT PRIMARY KEY);")
    b = start_bastion(tmp_path, config)
    journal_dir = tmp_path / "var" / "audit"
    try:
        yield b, journal_dir
    finally:
        moved = journal_dir.with_name("audit-moved")
        if moved.exists() and not journal_dir.exists():
            moved.rename(journal_dir)
        stop_bastion(b)


def rows(mariadb) -> int:  # type: ignore[no-untyped-def]
    with direct_conn(mariadb) as conn, conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM audit_down")
        return int(cur.fetchone()[0])


def test_statements_and_sessions_refused_once_the_journal_cannot_write(fragile, mariadb):
    b, journal_dir = fragile
    token = b.token("alice", "dba")
    prepared_conn = mysql.connector.connect(host="127.0.0.1", port=b.ports["mysql"], user="shop-db", password=token,
                                            database="shop", ssl_verify_cert=False, autocommit=True, use_pure=True)
    prepared = prepared_conn.cursor(prepared=True)
    prepared.execute("SELECT COUNT(*) FROM audit_down WHERE id > ?", (0,))
    assert prepared.fetchall() == [(0,)]

    with pymysql_conn(b, token, autocommit=True) as conn, conn.cursor() as cur:
        journal_dir.rename(journal_dir.with_name("audit-moved"))
        refused_at = None
        for i in range(1, 200):
            try:
                cur.execute(f"INSERT INTO audit_down VALUES ({i})")
            except pymysql.err.MySQLError as exc:
                assert exc.args[0] == 1142 and "audit-unavailable" in exc.args[1], exc.args
                refused_at = i
                break
        assert refused_at is not None, "the journal never failed"
        # Every statement that ran had its start recorded before it went upstream; the one
        # whose record could not be written (or the next, if an outcome record failed) did not run.
        assert rows(mariadb) == refused_at - 1
        started = {e["data"]["statement"] for e in journal_events(journal_dir.with_name("audit-moved"))
                   if e["type"] == "query.start"}
        assert {f"INSERT INTO audit_down VALUES ({i})" for i in range(1, refused_at)} <= started
        assert f"INSERT INTO audit_down VALUES ({refused_at})" not in started
        for sql in ("SELECT 1", f"INSERT INTO audit_down VALUES ({refused_at})"):
            with pytest.raises(pymysql.err.MySQLError) as info:
                cur.execute(sql)
            assert "audit-unavailable" in info.value.args[1]

    with pytest.raises(mysql.connector.Error) as info:  # prepared before: refused all the same
        prepared.execute("SELECT COUNT(*) FROM audit_down WHERE id > ?", (0,))
    assert info.value.errno == 1142 and "audit-unavailable" in str(info.value.msg)
    prepared_conn.close()

    with pytest.raises(pymysql.err.OperationalError) as denied:  # no new session either
        pymysql_conn(b, token)
    # by the audit gate (1045), or already by readiness (1053: the journal probe failed too)
    assert (denied.value.args[0], "audit trail" in denied.value.args[1]) == (1045, True) or \
        (denied.value.args[0], "audit journal not writable" in denied.value.args[1]) == (1053, True)
    assert rows(mariadb) == refused_at - 1
    def readiness() -> tuple[int, list[str]]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{b.ports['web']}/healthz", timeout=5) as resp:
                return resp.status, []
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())["failed"]

    assert wait_for(lambda: readiness()[0] == 503) and readiness() == (503, ["journal"])  # alive, not ready
    assert b.proc.poll() is None
