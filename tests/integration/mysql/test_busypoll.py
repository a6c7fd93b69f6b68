"""A bastion with busy polling on relays as usual, between statements close together and
after an idle spell. How much CPU the polling spends (and that it stops when idle) is
measured by bench/busypoll.py, not asserted here: a test asserts behaviour, not speed."""

from __future__ import annotations

import time

import pytest

from tests.integration.conftest import mysql_bastion_config, start_bastion, stop_bastion
from tests.integration.mysql.clients import pymysql_conn


@pytest.fixture()
def polling(tmp_path, mariadb):
    config = mysql_bastion_config(tmp_path, mariadb)
    config["listeners"]["mysql"]["options"] = {"busy_poll_us": 5000}
    b = start_bastion(tmp_path, config)
    yield b
    assert stop_bastion(b) == 0


def test_busy_polling_relays_statements_close_together_and_after_idle(polling):
    b = polling
    with pymysql_conn(b, b.token("alice", "dba"), autocommit=True) as conn, conn.cursor() as cur:
        for i in range(300):
            cur.execute("SELECT %s + 1", (i,))
            assert cur.fetchone() == (i + 1,)
        for i in range(100):  # 2 ms apart: inside the 5 ms polling window
            cur.execute("SELECT %s", (i,))
            assert cur.fetchone() == (i,)
            time.sleep(0.002)
        cur.execute("SELECT SLEEP(0.5)")  # the client waits: the window passes while nothing moves
        time.sleep(1)
        cur.execute("SELECT 'still there'")
        assert cur.fetchone() == ("still there",)
