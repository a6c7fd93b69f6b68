"""A web app in a process of its own (wsgi.py) writes a journal of its own beside the
listeners' one: `bastion serve` indexes it into the one index, the web app searches that
index (not an empty one of its own), and `bastion audit verify` checks both journals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from bastion.audit.journal import Journal
from bastion.audit.query import Search
from bastion.audit.search import AuditSearch
from bastion.config.load import load_settings
from bastion.demo.services import free_port
from tests.integration.conftest import ROOT, mysql_bastion_config, start_bastion, stop_bastion, wait_for
from tests.integration.mysql.clients import pymysql_conn

SERVE_WSGI = ("from gevent import monkey; monkey.patch_all()\n"
              "import sys; from gevent.pywsgi import WSGIServer; import wsgi\n"
              "WSGIServer(('127.0.0.1', int(sys.argv[1])), wsgi.app, log=None).serve_forever()\n")


@pytest.fixture()
def deployment(tmp_path, mariadb):
    config = mysql_bastion_config(tmp_path, mariadb)
    b = start_bastion(tmp_path, config)
    port = free_port()
    web = subprocess.Popen([sys.executable, "-c", SERVE_WSGI, str(port)], cwd=ROOT,
                           env={**os.environ, "BASTION_CONFIG": str(b.config)},
                           stdout=subprocess.DEVNULL, stderr=open(tmp_path / "wsgi.log", "wb"))
    try:
        assert wait_for(lambda: _up(port), timeout=30), (tmp_path / "wsgi.log").read_text()[-2000:]
        yield b, port, web
    finally:
        web.terminate()
        web.wait(timeout=10)
        stop_bastion(b)


def _up(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


def test_the_web_process_journal_is_indexed_searched_and_verified(deployment, tmp_path):
    b, port, web = deployment
    token = b.token("alice", "dba")
    with pymysql_conn(b, token) as conn, conn.cursor() as cur:  # an event of the listeners' journal
        cur.execute("SELECT 'listener-side-marker'")
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/tokens", method="POST",
                                     data=json.dumps({"reason": "wsgi side journal", "ttl": 300}).encode(),
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as resp:
        assert resp.status in (200, 201)
    side = tmp_path / "var" / "audit" / f"web-{web.pid}"
    assert (side / "journal.jsonl").exists()  # its own chain, beside the listeners'

    search = AuditSearch.from_config(load_settings(b.config).config.audit)
    assert search is not None

    def found(kind: str) -> list:
        return search.search(Search(type=(kind,))).hits

    issued = wait_for(lambda: found("token.issued"), timeout=20)  # indexed by `bastion serve`
    assert issued and issued[0].doc["user"] == "alice"

    # The web process searches the one index: it sees the listeners' events.
    web_app_index = _web_search_database(b.config, web.pid)
    assert web_app_index == tmp_path / "var" / "audit" / "audit.db"

    res = subprocess.run([sys.executable, "-m", "bastion.cli", "audit", "verify", "--config", str(b.config)],
                         capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"web-{web.pid}: OK" in res.stdout and "audit: OK" in res.stdout

    # The web process goes away: its journal, all indexed, is no longer polled ...
    web.terminate()
    web.wait(timeout=10)
    assert wait_for(lambda: "writer gone: parked" in b.log_text(), timeout=30), b.log_text()[-2000:]
    # ... until it grows again (a new web process that got the same pid).
    Journal(side, fsync=False).append({"type": "token.revoked", "session_id": "", "at": time.time(), "id": "",
                                       "schema": 1, "data": {"user": "alice", "token_id": "pid-reused"}})
    revoked = wait_for(lambda: found("token.revoked"), timeout=30)
    assert revoked and "grew again" in b.log_text()


def _web_search_database(config: Path, pid: int) -> Path:
    """The sqlite index a web process of its own opens (what create_app configures)."""
    probe = ("import os, sys; os.environ['BASTION_CONFIG'] = sys.argv[1]\n"
             "from bastion.web import create_app\n"
             "app = create_app(config_path=sys.argv[1])\n"
             "print(app.config['BASTION_CTX'].settings.config.audit.index.database)\n")
    res = subprocess.run([sys.executable, "-c", probe, str(config)], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    return Path(res.stdout.strip().splitlines()[-1])
