"""Access ends when its grant ends: revoking a token (from another process: the CLI) or an
administrator's "end session" closes the MySQL sessions that use it within two seconds,
with the reason on record; a too-eager brute force is slowed down, across attempts."""

from __future__ import annotations

import time

import pymysql
import pytest

from bastion.state.live import LiveSessions
from bastion.state.store import StateStore
from tests.integration.conftest import mysql_bastion_config, start_bastion, stop_bastion, wait_for
from tests.integration.mysql.clients import pymysql_conn, session_events, upstream_thread


def ended_within(conn, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT 1")
        except pymysql.err.OperationalError:
            return True
        time.sleep(0.1)
    return False


def test_revoking_the_token_ends_its_open_sessions(bastion):
    token = bastion.token("alice", "dba")
    other = bastion.token("alice", "dba")
    conn, bystander = pymysql_conn(bastion, token), pymysql_conn(bastion, other)
    thread = upstream_thread(conn)
    with conn.cursor() as cur:
        cur.execute("SELECT 1")
    token_id = token.split("_")[1]
    assert bastion.cli("tokens", "revoke", token_id).returncode == 0  # another process
    revoked_at = time.monotonic()
    assert ended_within(conn, 5)
    assert time.monotonic() - revoked_at < 5
    ends = wait_for(lambda: session_events(bastion, thread, "session.end"))
    assert ends and "token was revoked" in ends[0]["data"]["reason"]
    with bystander.cursor() as cur:  # another token's session goes on
        cur.execute("SELECT 2")
        assert cur.fetchone() == (2,)
    bystander.close()
    with pytest.raises(pymysql.err.OperationalError):
        pymysql_conn(bastion, token)


def test_an_administrator_ends_a_session_through_the_state_store(bastion):
    conn = pymysql_conn(bastion, bastion.token("bob", "developers"), user="shop-db")
    thread = upstream_thread(conn)
    live = LiveSessions(StateStore(f"sqlite:///{bastion.workdir}/var/state.db"))
    ids = [s.id for s in live.list() if s.user == "bob"]
    assert ids
    for session_id in ids:
        assert live.request_end(session_id, "INC-9 leaving employee")
    assert ended_within(conn, 5)
    ends = wait_for(lambda: session_events(bastion, thread, "session.end"))
    assert ends and "INC-9 leaving employee" in ends[0]["data"]["reason"]
    assert wait_for(lambda: not [s for s in live.list() if s.id in ids])


@pytest.fixture()
def throttled(tmp_path, mariadb):
    config = mysql_bastion_config(tmp_path, mariadb)
    config["login_throttle"] = {"free_attempts": 3, "base_delay": 30, "max_delay": 60, "window": 600}
    b = start_bastion(tmp_path, config)
    yield b
    assert stop_bastion(b) == 0


def test_failed_logins_are_throttled_even_for_a_right_token(throttled):
    b = throttled
    good = b.token("alice", "dba")
    for _ in range(4):
        with pytest.raises(pymysql.err.OperationalError) as exc:
            pymysql_conn(b, "bst_0000_not-a-token")
        assert exc.value.args[0] == 1045
    with pytest.raises(pymysql.err.OperationalError) as exc:
        pymysql_conn(b, good)  # right token, but this address is blocked for 30 s
    assert "too many failed logins" in str(exc.value)
    refused = [e for e in b.journal() if e["type"] == "auth"]
    assert any(e["data"]["reason"] == "throttled" for e in refused)  # type: ignore[index]
