"""Two `bastion serve` processes (nodes A and B) on one MariaDB state store: whatever the
client's second connection, the approver's browser or the revoking admin reaches, the other
node acts on it; ids are unique across both; readiness follows the state store."""

from __future__ import annotations

import json
import os
import pty
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymysql
import pytest
import requests

from bastion.demo.services import MariaDB, free_port
from bastion.demo.setup import demo_config, write_config
from tests.integration.conftest import BastionProc, start_bastion, stop_bastion, wait_for
from tests.integration.mysql.clients import pymysql_conn
from tests.integration.web.portal import Portal

STATE_DB = "bastion_two_nodes"


@dataclass
class Nodes:
    a: BastionProc
    b: BastionProc
    sp_base: str
    state_port: int


class SharedSPPortal(Portal):
    """A browser behind the load balancer: the IdP posts to the shared service URL, which
    this user agent sends to its node (``bastion``), not necessarily the one it started at."""

    def __init__(self, bastion: BastionProc, sp_base: str) -> None:
        super().__init__(bastion)
        self.sp_base = sp_base

    def auto_post_fields(self, page: str) -> dict[str, str]:
        action = re.search(r'<form method="post"\s+action="([^"]+)"', page)
        assert action is not None and action.group(1) == f"{self.sp_base}/saml/acs", page[:2000]
        return {k: v for k, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)}


def _node(root: Path, name: str, mariadb: MariaDB, url: str, sp_base: str, idp_metadata: str,
          first: Path | None) -> tuple[Path, dict[str, Any]]:
    workdir = root / name
    workdir.mkdir()
    config = demo_config(workdir, db=mariadb, sshd=None, idp_metadata_url=idp_metadata,
                         ports={"web": free_port(), "mysql": free_port()}, protocols={"mysql"}, sp_base_url=sp_base)
    config["state"] = {"url": url}
    config["listeners"]["ssh"] = {"port": free_port()}  # for the refusal while not ready
    config["server"] = {"node_id": name, "readiness": {"interval": 0.5, "timeout": 3}}
    if first is not None:  # one vault key and one cookie secret for every node
        config["vault"] = {"key_file": str(first / "var" / "vault.key")}
        config["secret_key_file"] = str(first / "var" / "web-secret.key")
    return workdir, config


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory, mariadb: MariaDB, idp: Any,
          bastion_ports: dict[str, int]) -> Iterator[Nodes]:
    from bastion.demo.setup import UPSTREAM_ACCOUNTS

    mariadb.sql(f"DROP DATABASE IF EXISTS {STATE_DB}; CREATE DATABASE {STATE_DB} CHARACTER SET utf8mb4;")
    url = f"mysql+pymysql://bastion_admin:admin-secret-pw@127.0.0.1:{mariadb.port}/{STATE_DB}"
    sp_base = f"http://127.0.0.1:{bastion_ports['web']}"  # the service URL the IdP knows (the balancer's)
    root = tmp_path_factory.mktemp("two-nodes")
    dir_a, config_a = _node(root, "node-a", mariadb, url, sp_base, idp.metadata_url, None)
    path = write_config(dir_a / "bastion.yaml", config_a)
    for account, (_u, password, _g) in UPSTREAM_ACCOUNTS.items():  # stored once, in the shared store
        subprocess.run([sys.executable, "-m", "bastion.cli", "credentials", "set", f"shop-db/{account}",
                        "--config", str(path)], input=password.encode(), check=True, capture_output=True)
    a = start_bastion(dir_a, config_a)
    dir_b, config_b = _node(root, "node-b", mariadb, url, sp_base, idp.metadata_url, dir_a)
    b = start_bastion(dir_b, config_b)
    yield Nodes(a, b, sp_base, mariadb.port)
    for node in (b, a):
        assert stop_bastion(node) == 0, node.log_text()[-3000:]


def in_thread(fn: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    out: dict[str, Any] = {}

    def run() -> None:
        started = time.monotonic()
        try:
            out["value"] = fn()
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            out["error"] = exc
        out["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def upstream_running(mariadb: MariaDB, needle: str) -> int:
    return int(mariadb.sql(f"SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE '{needle}%' "
                           "AND INFO NOT LIKE '%PROCESSLIST%'").strip())


def test_connection_ids_differ_and_the_process_list_spans_nodes(nodes: Nodes) -> None:
    token = nodes.a.token("alice", "dba")
    conns = [pymysql_conn(node, token) for node in (nodes.a, nodes.b) for _ in range(4)]
    try:
        ids = [c.server_thread_id[0] for c in conns]
        assert len(set(ids)) == len(ids) and all(0 < i < 2**32 for i in ids)
        with conns[0].cursor() as cur:
            cur.execute("SHOW PROCESSLIST")
            listed = [row[0] for row in cur.fetchall()]
        assert listed == sorted(ids)  # the four on node B too
    finally:
        for c in conns:
            c.close()


def test_kill_query_through_b_stops_a_query_running_through_a(nodes: Nodes, mariadb: MariaDB) -> None:
    token = nodes.a.token("alice", "dba")
    with pymysql_conn(nodes.a, token) as victim:
        thread, out = in_thread(lambda: victim.cursor().execute("SELECT SLEEP(30)"))
        assert wait_for(lambda: upstream_running(mariadb, "SELECT SLEEP(30)") == 1)
        with pymysql_conn(nodes.b, token) as other, other.cursor() as cur:  # the CLI's Ctrl-C connection
            cur.execute(f"KILL QUERY {victim.server_thread_id[0]}")
        thread.join(20)
        assert out["seconds"] < 15, out
        assert upstream_running(mariadb, "SELECT SLEEP(30)") == 0
        with victim.cursor() as cur:  # KILL QUERY ends the statement, not the connection
            cur.execute("SELECT 'still here'")
            assert cur.fetchone() == ("still here",)
    bob = nodes.b.token("bob", "developers")
    with pymysql_conn(nodes.a, token) as mine, pymysql_conn(nodes.b, bob) as stranger, stranger.cursor() as cur:
        with pytest.raises(pymysql.err.OperationalError) as unknown:  # other users' ids look unknown
            cur.execute(f"KILL QUERY {mine.server_thread_id[0]}")
        assert unknown.value.args[0] == 1094


class RoundRobin:
    """A TCP balancer for one test: the n-th client connection goes to ``backends[n % len]``."""

    def __init__(self, backends: list[int]) -> None:
        self.backends = backends
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.count = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.backends[self.count % len(self.backends)]))
            self.count += 1
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self.listener.close()


def test_the_clis_ctrl_c_lands_on_the_other_node(nodes: Nodes, mariadb: MariaDB) -> None:
    """The real mariadb CLI behind a balancer that sends its first connection to A and its
    Ctrl-C connection (KILL QUERY <id>) to B."""
    from tests.integration.mysql.test_cli import read_until

    token = nodes.a.token("alice", "dba")
    balancer = RoundRobin([nodes.a.ports["mysql"], nodes.b.ports["mysql"]])
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp("mariadb", ["mariadb", "--no-defaults", "-h", "127.0.0.1", "-P", str(balancer.port), "--ssl",
                              "-u", "shop-db", f"-p{token}", "shop"])
    try:
        assert b"MariaDB [shop]>" in read_until(fd, b"MariaDB [shop]>", 30)
        os.write(fd, b"SELECT SLEEP(30);\r")
        assert wait_for(lambda: upstream_running(mariadb, "SELECT SLEEP(30)") == 1)
        started = time.monotonic()
        os.write(fd, b"\x03")
        out = read_until(fd, b"query killed", 20)
        out = read_until(fd, b"MariaDB [shop]> ", 20, out[out.find(b"query killed"):])
        assert time.monotonic() - started < 15, out
        assert b"Query execution was interrupted" in out or b"1 row in set" in out, out
        assert upstream_running(mariadb, "SELECT SLEEP(30)") == 0
        assert balancer.count == 2  # the Ctrl-C connection went to B
        os.write(fd, b"quit\r")
    finally:
        os.close(fd)
        os.waitpid(pid, 0)
        balancer.close()
    assert "KILL for another process: killed" in nodes.a.log_text()


def test_kill_through_b_cancels_a_statement_held_in_a(nodes: Nodes, mariadb: MariaDB) -> None:
    mariadb.sql("INSERT INTO shop.orders (customer_id, total, status) VALUES (4, 1.00, 'tn-cancel')")
    token = nodes.a.token("alice", "dba,admins")
    sql = "DELETE FROM orders WHERE status = 'tn-cancel' AND customer_id = 4"
    with pymysql_conn(nodes.a, token) as victim:
        thread, out = in_thread(lambda: victim.cursor().execute(sql))
        assert wait_for(lambda: _pending(nodes, "tn-cancel"), timeout=15)
        with pymysql_conn(nodes.b, token) as other, other.cursor() as cur:
            cur.execute(f"KILL QUERY {victim.server_thread_id[0]}")
        thread.join(15)
        error = out.get("error")
        assert isinstance(error, pymysql.err.MySQLError) and "cancelled by the requester" in error.args[1], out
    assert mariadb.sql("SELECT COUNT(*) FROM shop.orders WHERE status = 'tn-cancel'").strip() == "1"


def _pending(nodes: Nodes, needle: str) -> str | None:
    with pymysql.connect(host="127.0.0.1", port=nodes.state_port, user="bastion_admin", password="admin-secret-pw",
                         database=STATE_DB, connect_timeout=10) as conn, conn.cursor() as cur:
        cur.execute("SELECT id FROM approvals WHERE status = 'pending' AND statement LIKE %s", (f"%{needle}%",))
        row = cur.fetchone()
    return str(row[0]) if row else None


def test_an_approval_in_the_portal_of_b_releases_a_statement_held_in_a(nodes: Nodes, mariadb: MariaDB) -> None:
    mariadb.sql("INSERT INTO shop.orders (customer_id, total, status) VALUES (4, 1.00, 'tn-approve')")
    token = nodes.a.token("alice", "dba,admins")
    sql = "DELETE FROM orders WHERE status = 'tn-approve' AND customer_id = 4"

    def run() -> int:
        with pymysql_conn(nodes.a, token) as conn, conn.cursor() as cur:
            rows = cur.execute(sql)
            conn.commit()
            return rows
    thread, out = in_thread(run)
    carol = SharedSPPortal(nodes.a, nodes.sp_base)  # starts her sign-in at A (its SAML request id)...
    fields = carol.idp_answer("carol", "/approvals")
    carol_b = SharedSPPortal(nodes.b, nodes.sp_base)  # ...and the balancer sends the IdP's answer to B
    carol_b.http.cookies.update(carol.http.cookies)
    assert carol_b.post_acs(fields).status_code == 303
    request_id = wait_for(lambda: _pending(nodes, "tn-approve"), timeout=15)
    assert request_id
    answer = carol_b.post(f"/approvals/{request_id}", data={"action": "approve", "csrf_token": carol_b.csrf()})
    assert answer.status_code in (200, 303), answer.text[:500]
    thread.join(20)
    assert out.get("value") == 1, out
    assert mariadb.sql("SELECT COUNT(*) FROM shop.orders WHERE status = 'tn-approve'").strip() == "0"


def test_a_token_revoked_through_b_ends_its_session_on_a(nodes: Nodes) -> None:
    token = nodes.a.token("alice", "dba")
    token_id = token.split("_")[1]
    with pymysql_conn(nodes.a, token) as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
        answer = requests.delete(f"http://127.0.0.1:{nodes.b.ports['web']}/api/v1/tokens/{token_id}",
                                 headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert answer.status_code == 200, answer.text

        def ended() -> bool:
            try:
                with conn.cursor() as cur:
                    cur.execute("SELECT 1")
                return False
            except pymysql.err.MySQLError:
                return True
        assert wait_for(ended, timeout=10, interval=0.3)
    assert any("its token was revoked" in line for line in nodes.a.log_text().splitlines())


def health(node: BastionProc) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{node.ports['web']}/healthz", timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def ssh_attempt(node: BastionProc) -> subprocess.CompletedProcess[str]:
    """OpenSSH's own client, without a key the bastion knows: how far does it get?"""
    return subprocess.run(["ssh", "-F", "/dev/null", "-p", str(node.ports["ssh"]), "-o", "BatchMode=yes",
                           "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                           "alice@127.0.0.1", "true"], capture_output=True, text=True, timeout=30)


def test_readiness_follows_the_state_store(nodes: Nodes, mariadb: MariaDB) -> None:
    """Last in this module: the shared store's tables go away (to another database, as if
    this one were dropped) and come back."""
    token = nodes.a.token("alice", "dba")
    for node in (nodes.a, nodes.b):
        assert health(node)[0] == 200
    tables = mariadb.sql(f"SHOW TABLES FROM {STATE_DB}").split()
    mariadb.sql(f"DROP DATABASE IF EXISTS {STATE_DB}_away; CREATE DATABASE {STATE_DB}_away;")
    away = ", ".join(f"{STATE_DB}.{t} TO {STATE_DB}_away.{t}" for t in tables)
    back = ", ".join(f"{STATE_DB}_away.{t} TO {STATE_DB}.{t}" for t in tables)
    mariadb.sql(f"RENAME TABLE {away}")
    try:
        for node in (nodes.a, nodes.b):
            assert wait_for(lambda n=node: health(n)[0] == 503, timeout=10)  # type: ignore[misc]
            status, body = health(node)
            assert body["failed"] == ["state_store"] and body["checks"]["state_store"]["ok"] is False
            with pytest.raises(pymysql.err.OperationalError) as refused:
                pymysql_conn(node, token)
            assert refused.value.args[0] == 1053 and "state store unreachable" in refused.value.args[1]
            ssh = ssh_attempt(node)
            assert ssh.returncode == 255 and "Received disconnect" in ssh.stderr, ssh.stderr
            assert "does not take new connections now (state store unreachable)" in ssh.stderr
            assert "not ready, refusing new connections: state_store" in node.log_text()
    finally:
        mariadb.sql(f"RENAME TABLE {back}")
    for node in (nodes.a, nodes.b):
        assert wait_for(lambda n=node: health(n)[0] == 200, timeout=10)  # type: ignore[misc]
        ssh = ssh_attempt(node)
        assert "Received disconnect" not in ssh.stderr and "Permission denied" in ssh.stderr, ssh.stderr
        with pymysql_conn(node, token) as conn, conn.cursor() as cur:
            cur.execute("SELECT 'back'")
            assert cur.fetchone() == ("back",)
        assert "ready again: taking new connections" in node.log_text()

