"""A separate bastion process: SIGTERM stops listeners, lets a session finish, exits 0."""

from __future__ import annotations

import signal
import socket
import time

from tests.integration.conftest import mysql_bastion_config, start_bastion


def test_sigterm_stops_cleanly(tmp_path, mariadb):
    b = start_bastion(tmp_path, mysql_bastion_config(tmp_path, mariadb))
    # an open client connection (greeting received) must not block shutdown beyond the grace period
    conn = socket.create_connection(("127.0.0.1", b.ports["mysql"]), timeout=5)
    assert conn.recv(4)
    started = time.monotonic()
    b.proc.send_signal(signal.SIGTERM)
    assert b.proc.wait(timeout=20) == 0
    assert time.monotonic() - started < 15
    conn.close()
    for port in (b.ports["web"], b.ports["mysql"]):
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0
    assert '"stopped"' in b.log_text()


def test_a_second_sigterm_does_not_race_the_first(tmp_path, mariadb):
    """systemd and a user, or `timeout` forwarding its own signal: two SIGTERMs run one stop."""
    b = start_bastion(tmp_path, mysql_bastion_config(tmp_path, mariadb))
    conn = socket.create_connection(("127.0.0.1", b.ports["mysql"]), timeout=5)
    assert conn.recv(4)  # an open connection keeps the first stop in its grace period
    b.proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)  # signals sent at once would be merged by the kernel: let the first stop begin
    b.proc.send_signal(signal.SIGTERM)
    assert b.proc.wait(timeout=30) == 0
    conn.close()
    log = b.log_text()
    assert log.count('"stopped"') == 1 and "final indexing pass failed" not in log and "Traceback" not in log
