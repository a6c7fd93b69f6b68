"""A statement is recorded before it runs: when the bastion is killed (kill -9) while a
statement runs, the journal already holds its start, and the next start of the bastion
records its outcome as unknown (and ends the session) instead of leaving no trace."""

from __future__ import annotations

import subprocess
import sys
import threading

import pymysql
import pytest

from tests.integration.conftest import journal_events, mysql_bastion_config, start_bastion, stop_bastion, wait_for
from tests.integration.mysql.clients import pymysql_conn


@pytest.fixture()
def setup(tmp_path, mariadb):
    return tmp_path, mysql_bastion_config(tmp_path, mariadb)


def test_a_statement_running_when_the_bastion_is_killed_is_on_record(setup):
    workdir, config = setup
    journal_dir = workdir / "var" / "audit"
    b = start_bastion(workdir, config)
    try:
        conn = pymysql_conn(b, b.token("alice", "dba"))
        running = threading.Thread(target=lambda: _quietly(conn, "SELECT SLEEP(5) AS crash_marker"), daemon=True)
        running.start()
        start = wait_for(lambda: [e for e in journal_events(journal_dir)
                                  if e["type"] == "query.start" and "crash_marker" in e["data"]["statement"]])
        b.proc.kill()  # no clean stop: nothing more can be written by this process
        b.proc.wait()
    finally:
        stop_bastion(b)
    event_id, session_id = start[0]["data"]["event_id"], start[0]["session_id"]
    assert not [e for e in journal_events(journal_dir) if e["type"] == "query" and e["data"]["event_id"] == event_id]

    again = start_bastion(workdir, config)
    try:
        outcome = wait_for(lambda: [e for e in journal_events(journal_dir)
                                    if e["type"] == "query" and e["data"].get("event_id") == event_id])
        data = outcome[0]["data"]
        assert data["recovered"] is True and data["verdict"] == "allow" and "outcome unknown" in data["error"]
        assert data["statement"] == "SELECT SLEEP(5) AS crash_marker" and data["started_at"] == start[0]["at"]
        ends = [e for e in journal_events(journal_dir) if e["type"] == "session.end" and e["session_id"] == session_id]
        assert len(ends) == 1 and ends[0]["data"]["recovered"] is True
        # a second restart finds nothing left open
        stop_bastion(again)
        again = start_bastion(workdir, config)
        assert len([e for e in journal_events(journal_dir) if e["data"].get("recovered")]) == 2
    finally:
        stop_bastion(again)
    assert subprocess.run([sys.executable, "-m", "bastion.cli", "audit", "verify", "--config",
                           str(workdir / "bastion.yaml")], capture_output=True).returncode == 0


def _quietly(conn: pymysql.connections.Connection, sql: str) -> None:
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    except pymysql.err.MySQLError:
        pass  # the bastion is gone mid-statement: that is the point
