"""The mariadb CLI (batch and interactive through a pty, including Ctrl-C) and mysqldump."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time

from tests.integration.mysql.clients import cli, session_events


def test_batch(bastion):
    token = bastion.token("alice", "dba")
    res = cli(bastion, token, "SELECT name FROM customers ORDER BY id LIMIT 2; SELECT COUNT(*) AS n FROM orders")
    assert res.returncode == 0, res.stderr
    assert res.stdout.split("\n")[:3] == ["name", "Ada Lovelace", "Grace Hopper"]
    assert "n\n6" in res.stdout


def test_quit_is_seen_as_a_quit(bastion):
    """COM_QUIT arrives with the client's TLS close_notify right behind it: the session
    ends as "client quit", not as a broken connection."""
    from tests.integration.conftest import wait_for

    token = bastion.token("alice", "dba")
    res = cli(bastion, token, "SELECT CONNECTION_ID()", "-N")
    assert res.returncode == 0, res.stderr
    thread_id = int(res.stdout.strip())

    ends = wait_for(lambda: session_events(bastion, thread_id, "session.end"))
    assert ends and ends[0]["data"]["reason"] == "client quit"


def test_batch_wrong_token(bastion):
    res = cli(bastion, "bst_nope_nope", "SELECT 1")
    assert res.returncode != 0 and "ERROR 1045" in res.stderr and "invalid" in res.stderr


def read_until(fd: int, needle: bytes, timeout: float, buf: bytes = b"") -> bytes:
    """Read from the pty until ``needle`` is in ``buf`` plus what arrives; returns all of it."""
    deadline = time.monotonic() + timeout
    while needle not in buf and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
    return buf


def test_interactive_with_ctrl_c_kill_query(bastion, mariadb):
    token = bastion.token("alice", "dba")
    pid, fd = pty.fork()
    if pid == 0:  # child: the real interactive client
        os.execvp("mariadb", ["mariadb", "--no-defaults", "-h", "127.0.0.1", "-P", str(bastion.ports["mysql"]),
                              "--ssl", "-u", "shop-db", f"-p{token}", "shop"])
    try:
        assert b"MariaDB [shop]>" in read_until(fd, b"MariaDB [shop]>", 20)
        os.write(fd, b"SELECT COUNT(*) FROM customers;\r")
        out = read_until(fd, b"1 row in set", 10)
        assert b"|        5 |" in out
        os.write(fd, b"SELECT SLEEP(30);\r")
        time.sleep(1.5)
        started = time.monotonic()
        os.write(fd, b"\x03")  # Ctrl-C: the CLI opens a 2nd connection and sends KILL QUERY <our id>
        out = read_until(fd, b"query killed", 15)
        since = out[out.index(b"query killed"):] if b"query killed" in out else b""
        tail = read_until(fd, b"MariaDB [shop]> ", 15, since)
        out += tail
        assert time.monotonic() - started < 10, out
        assert b"Query execution was interrupted" in out or b"1 row in set" in out
        assert b"Ctrl-C -- query killed" in out
        # the upstream query is gone, not just the client's wait
        running = mariadb.sql("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP(30)%'")
        assert running.strip() == "0"
        os.write(fd, b"SELECT 'still alive';\r")
        assert b"still alive" in read_until(fd, b"1 row in set", 10)
        os.write(fd, b"quit\r")
    finally:
        os.close(fd)
        os.waitpid(pid, 0)


def test_kill_of_someone_elses_connection_is_refused(bastion):
    from tests.integration.mysql.clients import pymysql_conn

    alice = bastion.token("alice", "dba")
    with pymysql_conn(bastion, bastion.token("bob", "developers")) as bob:
        bob_id = bob.server_thread_id[0]  # the id from the bastion's greeting
        res = cli(bastion, alice, f"KILL {bob_id}")
        assert res.returncode != 0 and "unknown thread id" in res.stderr
        with bob.cursor() as cur:
            cur.execute("SELECT 1")
            assert cur.fetchone() == (1,)


def test_mysqldump_whole_database(bastion, mariadb, tmp_path):
    token = bastion.token("dave", "developers,pci-auditors")  # clear values: the dump must equal a direct one
    out = tmp_path / "shop.sql"
    res = subprocess.run(["mariadb-dump", "--no-defaults", "-h", "127.0.0.1", "-P", str(bastion.ports["mysql"]),
                          "--ssl", "-u", "shop-db", f"-p{token}", "--single-transaction",
                          "--databases", "shop", f"--result-file={out}"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    dump = out.read_text()
    assert "CREATE TABLE `customers`" in dump and "Ada Lovelace" in dump and "-- Dump completed" in dump
    direct = subprocess.run(["mariadb-dump", "--no-defaults", "-S", str(mariadb.socket), "-uroot",
                             "--single-transaction", "--databases", "shop", "--skip-dump-date"],
                            capture_output=True, text=True, timeout=120).stdout
    through = "\n".join(line for line in dump.splitlines() if not line.startswith("-- Dump completed"))
    direct = "\n".join(line for line in direct.splitlines() if not line.startswith("-- Dump completed"))
    strip = lambda text: [l for l in text.splitlines() if not l.startswith(("-- Host:", "-- Server version"))]  # noqa: E731,E741
    assert strip(through) == strip(direct)
