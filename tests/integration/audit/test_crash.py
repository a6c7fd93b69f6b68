"""``kill -9`` the bastion mid-session: the journal verifies, and the indexer catches up on restart."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest

from bastion.audit.backends import open_backend
from bastion.audit.query import Search
from bastion.audit.search import AuditSearch
from bastion.config.model import AuditIndexConfig
from bastion.demo.services import free_port
from bastion.demo.setup import UPSTREAM_ACCOUNTS, demo_config, write_config
from tests.integration.audit.conftest import BACKENDS, engine_url
from tests.integration.conftest import ROOT, start_bastion, stop_bastion, wait_for
from tests.integration.mysql.clients import pymysql_conn


@pytest.fixture(params=BACKENDS)
def index_cfg(request):
    if request.param == "sqlite":
        return {"backend": "sqlite"}
    return {"backend": request.param, "url": engine_url(request, request.param),
            "index_prefix": f"crash-{uuid.uuid4().hex[:8]}"}


def hits_for(search: AuditSearch, text: str) -> list:
    search.backend.refresh()
    return search.search(Search(text=text, size=100)).hits


def test_kill_9_mid_session(tmp_path, mariadb, index_cfg):
    ports = {"web": free_port(), "mysql": free_port(), "ssh": free_port()}
    config = demo_config(tmp_path, db=mariadb, sshd=None, idp_metadata_url=None, ports=ports, protocols={"mysql"},
                         sp_base_url=f"http://127.0.0.1:{ports['web']}")
    config["audit"] = {"sinks": ["journal"], "index": {**index_cfg, "poll_interval": 0.1}}
    path = write_config(tmp_path / "bastion.yaml", config)
    for account, (_user, password, _grant) in UPSTREAM_ACCOUNTS.items():
        res = subprocess.run([sys.executable, "-m", "bastion.cli", "credentials", "set", f"shop-db/{account}",
                              "--config", str(path)], input=password.encode(), capture_output=True, cwd=ROOT)
        assert res.returncode == 0, res.stderr.decode()
    journal_dir = tmp_path / "var" / "audit"
    index = AuditIndexConfig(**{**index_cfg, "poll_interval": 0.1})
    backend = open_backend(index, journal_dir)
    assert backend is not None
    search = AuditSearch(backend)

    b = start_bastion(tmp_path, config)
    conn = pymysql_conn(b, b.token("alice", "dba"))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 'before-the-crash' AS marker")
            cur.fetchall()
            # the statement is on disk before the session takes its next command (synchronous journal)
            assert wait_for(lambda: any("before-the-crash" in str(e["data"].get("statement")) for e in b.journal()))
            b.proc.kill()  # kill -9, mid-session: no session.end, maybe not indexed yet
            b.proc.wait(timeout=10)
    finally:
        try:
            conn.close()
        except Exception:  # noqa: BLE001 - the server is gone
            pass
    with open(journal_dir / "journal.jsonl", "ab") as fh:  # and a record torn by the crash
        fh.write(b'{"event":{"at":1,"data":{"statement":"torn-rec')

    res = b.cli("audit", "verify")
    assert res.returncode == 0, res.stdout.decode() + res.stderr.decode()

    b2 = start_bastion(tmp_path, config)
    try:
        conn = pymysql_conn(b2, b2.token("alice", "dba"))
        with conn.cursor() as cur:
            cur.execute("SELECT 'after-the-restart' AS marker")
        conn.close()
        assert wait_for(lambda: hits_for(search, "before the crash"), timeout=30), "indexer did not catch up"
        assert wait_for(lambda: hits_for(search, "after the restart"), timeout=30)
        assert not hits_for(search, "torn rec")
        before = hits_for(search, "before the crash")
        assert len(before) == 1 and before[0].doc["user"] == "alice" and before[0].doc["target"] == "shop-db"
        # the killed run's session was closed on restart: no ghost "live" session
        crashed = before[0].doc["session"]
        from bastion.audit.segments import iter_all

        ends = [r["event"] for r in iter_all(journal_dir)  # (BastionProc.journal() trips on the torn line)
                if r["event"]["type"] == "session.end" and r["event"]["session_id"] == crashed]
        assert len(ends) == 1 and ends[0]["data"]["recovered"]
    finally:
        assert stop_bastion(b2) == 0, b2.log_text()[-3000:]
    res = b2.cli("audit", "verify")
    out = res.stdout.decode()
    assert res.returncode == 0 and "OK" in out and "1 torn line" in out, out
    backend.close()
