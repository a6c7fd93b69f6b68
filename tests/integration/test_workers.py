"""``bastion serve --workers 2``: a supervisor and two worker processes on real sockets.

Which worker served a session is on record: worker ``I`` journals to
``journal_dir/worker-I``. Sessions go through PyMySQL to the real MariaDB fixture.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pymysql
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.conftest import (
    BastionProc,
    journal_events,
    mysql_bastion_config,
    start_bastion,
    stop_bastion,
    wait_for,
)
from tests.integration.mysql.clients import pymysql_conn

BURST = 8
MAX_CONNECTIONS = 64


def worker_journal(b: BastionProc, index: int) -> Path:
    return b.workdir / "var" / "audit" / f"worker-{index}"


def sessions(b: BastionProc, index: int) -> dict[str, dict[str, Any]]:
    """Worker ``index``'s sessions: id -> its ``session.end`` data (empty while open)."""
    found: dict[str, dict[str, Any]] = {}
    for event in journal_events(worker_journal(b, index)):
        if event["type"] == "session.start":
            found[event["session_id"]] = {}
        elif event["type"] == "session.end":
            found[event["session_id"]] = event["data"]
    return found


def open_sessions(b: BastionProc, index: int) -> set[str]:
    return {sid for sid, end in sessions(b, index).items() if not end}


def metric(b: BastionProc, name: str, **labels: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{b.ports['web']}/metrics", timeout=10) as resp:
        text = resp.read().decode()
    return sum(s.value for family in text_string_to_metric_families(text) for s in family.samples
               if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))


def select_one(conn: Any) -> int:
    with conn.cursor() as cur:
        cur.execute("SELECT 1")
        return int(cur.fetchone()[0])


def worker_pids(b: BastionProc, index: int) -> list[int]:
    """Every pid worker ``index`` has had, from the supervisor's log."""
    pids = []
    for line in b.log_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("logger") == "bastion.supervisor" and record.get("worker") == index and "pid" in record:
            pids.append(int(record["pid"]))
    return pids


def refuses(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def start_workers(tmp_path: Path, mariadb: Any, **server: Any) -> BastionProc:
    config = mysql_bastion_config(tmp_path, mariadb)
    if server:  # the configuration's server section, else the command line's --workers
        config["server"] = server
        return start_bastion(tmp_path, config, grace=None)
    return start_bastion(tmp_path, config, "--workers", "2")


def test_sessions_spread_over_the_workers_and_metrics_add_them_up(tmp_path, mariadb):
    b = start_workers(tmp_path, mariadb)
    try:
        assert len(b.ready["workers"]) == 2 and len(set(b.ready["workers"])) == 2
        token = b.token()
        conns: list[Any] = []
        # Bursts of concurrent connections, held open, until both workers serve some: which
        # worker wins each accept is the kernel's and the scheduler's choice, not ours.
        while len(conns) < MAX_CONNECTIONS and not all(sessions(b, i) for i in (0, 1)):
            with ThreadPoolExecutor(BURST) as pool:
                conns += pool.map(lambda _: pymysql_conn(b, token), range(BURST))
        assert all(select_one(c) == 1 for c in conns)
        per_worker = [len(sessions(b, i)) for i in (0, 1)]
        assert sum(per_worker) == len(conns) and all(per_worker), per_worker
        assert metric(b, "bastion_active_connections", protocol="mysql") == len(conns)
        for c in conns:
            c.close()
        assert metric(b, "bastion_connections_total", protocol="mysql") == len(conns)
        assert wait_for(lambda: metric(b, "bastion_active_connections", protocol="mysql") == 0)
    finally:
        assert stop_bastion(b) == 0, b.log_text()[-3000:]
    res = b.cli("audit", "verify")
    out = res.stdout.decode()
    assert res.returncode == 0, out + res.stderr.decode()
    assert f"{worker_journal(b, 0)}: OK" in out and f"{worker_journal(b, 1)}: OK" in out


def test_a_killed_worker_is_restarted_and_its_sessions_get_an_end(tmp_path, mariadb):
    b = start_workers(tmp_path, mariadb)
    try:
        token = b.token()
        with ThreadPoolExecutor(6) as pool:
            conns = list(pool.map(lambda _: pymysql_conn(b, token), range(6)))
        victim = 0 if open_sessions(b, 0) else 1
        orphans = open_sessions(b, victim)
        assert orphans
        os.kill(b.ready["workers"][victim], signal.SIGKILL)
        for _ in range(5):  # meanwhile the other worker takes every new connection
            c = pymysql_conn(b, token)
            assert select_one(c) == 1
            c.close()
        assert wait_for(lambda: len(worker_pids(b, victim)) == 2, timeout=60), b.log_text()[-3000:]
        assert wait_for(lambda: not (orphans & open_sessions(b, victim)), timeout=30)
        ends = sessions(b, victim)
        assert all(ends[sid].get("recovered") is True and "crash or kill" in ends[sid]["reason"] for sid in orphans)
        for c in conns:
            try:
                c.close()
            except pymysql.err.Error:
                pass  # the killed worker's clients lost their connection
        c = pymysql_conn(b, token)  # the restarted worker serves too (whichever takes it)
        assert select_one(c) == 1
        c.close()
    finally:
        assert stop_bastion(b) == 0, b.log_text()[-3000:]
    assert b.cli("audit", "verify").returncode == 0


def test_sigterm_drains_then_ends_open_sessions_with_the_reason(tmp_path, mariadb):
    b = start_workers(tmp_path, mariadb, workers=2, drain_seconds=4)
    assert len(b.ready["workers"]) == 2
    token = b.token()
    conn = pymysql_conn(b, token)
    assert select_one(conn) == 1
    b.proc.send_signal(signal.SIGTERM)
    assert wait_for(lambda: refuses(b.ports["mysql"]), timeout=3)  # a new connection is refused
    time.sleep(1)
    assert select_one(conn) == 1  # the open session still runs statements while draining
    assert b.proc.wait(timeout=60) == 0
    try:
        select_one(conn)
        raise AssertionError("the session outlived the drain")
    except pymysql.err.Error:
        pass
    ends = [end for i in (0, 1) for end in sessions(b, i).values()]
    assert len(ends) == 1 and "drain" in ends[0]["reason"], ends
    assert refuses(b.ports["web"])
    res = b.cli("audit", "verify")
    assert res.returncode == 0, res.stdout.decode()


def test_sighup_restarts_the_workers_one_at_a_time_refusing_no_connection(tmp_path, mariadb):
    b = start_workers(tmp_path, mariadb)
    try:
        token = b.token()
        b.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 240
        served = 0
        while "rolling restart done" not in b.log_text():
            assert time.monotonic() < deadline, b.log_text()[-3000:]
            c = pymysql_conn(b, token)  # never refused: one worker accepts while the other restarts
            assert select_one(c) == 1
            c.close()
            served += 1
        assert served
        for i, old in enumerate(b.ready["workers"]):
            pids = worker_pids(b, i)
            assert pids[0] == old and len(pids) == 2
            assert not Path(f"/proc/{old}").exists()
    finally:
        assert stop_bastion(b) == 0, b.log_text()[-3000:]
