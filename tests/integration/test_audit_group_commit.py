"""Statements of concurrent sessions share the journal's fsyncs (group commit) and each is
still on record before it runs; the fsyncs run off the hub."""

from __future__ import annotations

import subprocess
import sys
import threading
import urllib.request

from tests.integration.conftest import journal_events, mysql_bastion_config, start_bastion, stop_bastion
from tests.integration.mysql.clients import pymysql_conn

CLIENTS, STATEMENTS = 8, 150


def metric(port: int, name: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        for line in resp.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


def test_concurrent_statements_share_fsyncs(tmp_path, mariadb):
    config = mysql_bastion_config(tmp_path, mariadb)
    config["audit"] = {**config["audit"], "fsync": True}
    b = start_bastion(tmp_path, config)
    try:
        token = b.token("alice", "dba")
        conns = [pymysql_conn(b, token, autocommit=True) for _ in range(CLIENTS)]
        web = b.ports["web"]
        fsyncs = metric(web, "bastion_audit_journal_fsyncs_total")
        records = metric(web, "bastion_audit_journal_records_total")

        def run(k: int) -> None:
            with conns[k].cursor() as cur:
                for i in range(STATEMENTS):
                    cur.execute(f"SELECT {k * 1000 + i} AS group_commit")
                    assert cur.fetchone() == (k * 1000 + i,)

        threads = [threading.Thread(target=run, args=(k,)) for k in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        fsyncs = metric(web, "bastion_audit_journal_fsyncs_total") - fsyncs
        records = metric(web, "bastion_audit_journal_records_total") - records
        for conn in conns:
            conn.close()
    finally:
        assert stop_bastion(b) == 0
    total = CLIENTS * STATEMENTS
    starts = {e["data"]["statement"] for e in journal_events(tmp_path / "var" / "audit")
              if e["type"] == "query.start" and "group_commit" in e["data"]["statement"]}
    assert starts == {f"SELECT {k * 1000 + i} AS group_commit" for k in range(CLIENTS) for i in range(STATEMENTS)}
    assert records >= 2 * total  # a start and an outcome each
    assert fsyncs < 0.8 * total, f"{fsyncs:.0f} fsyncs for {total} statements: no group commit"
    res = subprocess.run([sys.executable, "-m", "bastion.cli", "audit", "verify", "--config",
                          str(tmp_path / "bastion.yaml")], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
