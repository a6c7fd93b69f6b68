"""A bastion with busy polling on relays as usual and sleeps again when traffic stops."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.integration.conftest import mysql_bastion_config, start_bastion, stop_bastion
from tests.integration.mysql.clients import pymysql_conn


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.fixture()
def polling(tmp_path, mariadb):
    config = mysql_bastion_config(tmp_path, mariadb)
    config["listeners"]["mysql"]["options"] = {"busy_poll_us": 5000}
    b = start_bastion(tmp_path, config)
    yield b
    assert stop_bastion(b) == 0


def test_busy_polling_relays_and_stops_spinning_when_idle(polling):
    b = polling
    with pymysql_conn(b, b.token("alice", "dba"), autocommit=True) as conn, conn.cursor() as cur:
        for i in range(300):
            cur.execute("SELECT %s + 1", (i,))
            assert cur.fetchone() == (i + 1,)
        # Statements 2 ms apart, inside the 5 ms window: the bastion polls between them
        # instead of sleeping (without busy polling this costs well under 0.3 s of CPU).
        before, started = cpu_seconds(b.proc.pid), time.monotonic()
        while time.monotonic() - started < 1.5:
            cur.execute("SELECT 1")
            time.sleep(0.002)
        assert cpu_seconds(b.proc.pid) - before > 0.5 * (time.monotonic() - started)
        cur.execute("SELECT SLEEP(0.5)")  # the client waits: the window passes while nothing moves
        before, started = cpu_seconds(b.proc.pid), time.monotonic()
        time.sleep(2)
        spent = cpu_seconds(b.proc.pid) - before
        assert spent < 0.3 * (time.monotonic() - started), f"{spent:.2f} s of CPU while idle"
        cur.execute("SELECT 'still there'")
        assert cur.fetchone() == ("still there",)
