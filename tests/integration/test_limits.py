"""Per-listener limits: max connections, handshake timeout, idle timeout."""

from __future__ import annotations

import socket
import time

import pymysql
import pytest

from tests.integration.conftest import mysql_bastion_config, start_bastion, stop_bastion
from tests.integration.mysql.clients import pymysql_conn


@pytest.fixture(scope="module")
def limited(tmp_path_factory, mariadb):
    workdir = tmp_path_factory.mktemp("limited")
    config = mysql_bastion_config(workdir, mariadb)
    config["listeners"]["mysql"].update(max_connections=3, handshake_timeout=1.0, idle_timeout=1.5)
    b = start_bastion(workdir, config)
    yield b
    assert stop_bastion(b) == 0


def closed(sock: socket.socket, timeout: float) -> bool:
    sock.settimeout(timeout)
    try:
        while True:
            if not sock.recv(4096):
                return True
    except TimeoutError:
        return False
    except OSError:
        return True


def test_max_connections_and_handshake_timeout(limited):
    port = limited.ports["mysql"]
    held = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
    for s in held:
        assert s.recv(4)  # each got a greeting
    extra = socket.create_connection(("127.0.0.1", port))
    assert closed(extra, 2), "a connection beyond max_connections must be refused at once"
    started = time.monotonic()
    assert all(closed(s, 5) for s in held), "silent clients must be dropped after handshake_timeout"
    assert time.monotonic() - started < 4
    token = limited.token("alice", "dba")
    with pymysql_conn(limited, token) as conn, conn.cursor() as cur:  # capacity is back
        cur.execute("SELECT 1")
        assert cur.fetchone() == (1,)


def test_idle_timeout(limited):
    token = limited.token("alice", "dba")
    conn = pymysql_conn(limited, token)
    with conn.cursor() as cur:
        cur.execute("SELECT 1")
    time.sleep(2.5)
    with pytest.raises(pymysql.err.OperationalError):
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
    from tests.integration.conftest import wait_for

    # session.end is written as the connection closes: wait for it
    assert wait_for(lambda: [e for e in limited.journal()
                             if e["type"] == "session.end" and e["data"]["reason"] == "idle timeout"])


def test_a_long_statement_is_not_idle_time(limited):
    """The idle timeout counts only time spent waiting for the client's next command."""
    token = limited.token("alice", "dba")
    with pymysql_conn(limited, token) as conn, conn.cursor() as cur:
        cur.execute("SELECT SLEEP(2.2)")
        assert cur.fetchone() == (0,)
        time.sleep(1.0)  # waiting again, but for less than the 1.5 s timeout
        cur.execute("SELECT 2")
        assert cur.fetchone() == (2,)
