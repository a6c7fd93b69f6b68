"""Two nodes × two workers behind HAProxy (tests/integration/cluster.py): what one node
begins the other finishes, and losing a worker or a node refuses no new connection.

Order matters: the tests that kill or restart nodes run last.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paramiko
import pymysql
import pytest

from bastion.demo.idp import SimpleSAMLphp
from bastion.demo.services import ServiceError
from tests.integration.cluster import Cluster, Node, build, plan
from tests.integration.conftest import journal_events, service_failed, wait_for
from tests.integration.web.portal import Portal, pending_id

NO_VERIFY = {"check_hostname": False, "verify_mode": 0}


@pytest.fixture(scope="module")
def cluster(mariadb, sshd, opensearch_node) -> Iterator[Cluster]:
    base = Path(tempfile.mkdtemp(prefix="bastion-ha-"))
    ports, lb = plan(base)
    portal = f"http://127.0.0.1:{lb.front_port('web')}"
    idp = SimpleSAMLphp(base / "idp", f"{portal}/saml/metadata", f"{portal}/saml/acs", f"{portal}/saml/sls")
    try:
        idp.start()
    except (ServiceError, OSError, RuntimeError, subprocess.CalledProcessError) as exc:
        idp.stop()
        service_failed("SimpleSAMLphp", exc)
    try:
        c = build(base, mariadb=mariadb, sshd=sshd, idp_metadata_url=idp.metadata_url, ports=ports, lb=lb,
                  index_url=opensearch_node.url)
    except BaseException:
        idp.stop()
        raise
    yield c
    c.stop()
    idp.stop()


def connect(port: int, token: str, **kw: Any) -> pymysql.Connection:
    return pymysql.connect(host="127.0.0.1", port=port, user="shop-db", password=token, database="shop",
                           ssl=NO_VERIFY, connect_timeout=10, **kw)


def ssh_session(port: int, user: str, answer: Any) -> paramiko.Transport:
    """An SSH transport to ``port`` authenticated by keyboard-interactive (token or login link)."""
    transport = paramiko.Transport(("127.0.0.1", port))
    transport.start_client(timeout=15)
    transport.auth_interactive(user, answer)
    return transport


def ssh_exec(transport: paramiko.Transport, command: str) -> bytes:
    chan = transport.open_session(timeout=15)
    chan.exec_command(command)
    out = b""
    while True:
        data = chan.recv(4096)
        if not data:
            break
        out += data
    chan.recv_exit_status()
    return out


def worker_journals(node: Node) -> list[Path]:
    return sorted(p for p in node.journal_dir.glob("worker-*") if p.is_dir())


def session_starts(node: Node, protocol: str) -> Counter[str]:
    """Worker journal -> number of ``session.start`` records of ``protocol``."""
    counts: Counter[str] = Counter()
    for directory in worker_journals(node):
        for event in journal_events(directory):
            if event["type"] == "session.start" and event.get("data", {}).get("protocol") == protocol:
                counts[f"{node.name}/{directory.name}"] += 1
    return counts


def portal_for(cluster: Cluster, user: str) -> Portal:
    """A user signed in at the load balancer's portal (requests may reach either node)."""
    portal = Portal(None, base=cluster.portal_url)
    portal.login(user)
    return portal


def on_node(portal: Portal, node: Node) -> Portal:
    """The same browser (cookies) talking to one node directly."""
    direct = Portal(None, base=f"http://127.0.0.1:{node.ports['web']}")
    direct.http = portal.http
    return direct


def _burst(port: int, token: str, n: int) -> None:
    """``n`` MySQL sessions opened at once (each runs a statement), then closed."""
    conns: list[pymysql.Connection] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        conn = connect(port, token)
        with conn.cursor() as cur:
            cur.execute(f"SELECT 'spread-{i}'")
            assert cur.fetchone() == (f"spread-{i}",)
        with lock:
            conns.append(conn)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for conn in conns:
        conn.close()
    assert len(conns) == n


def test_sessions_spread_over_all_four_workers(cluster: Cluster) -> None:
    """Round robin spreads over the nodes; within a node, whichever worker wakes first
    takes a connection, so bursts are sent until every worker has served some."""
    token = cluster.nodes[0].token()

    def spread(protocol: str) -> Counter[str]:
        counts: Counter[str] = Counter()
        for node in cluster.nodes:
            counts += session_starts(node, protocol)
        return counts

    for _ in range(6):
        _burst(cluster.port("mysql"), token, 16)
        if wait_for(lambda: len(spread("mysql")) == 4, timeout=5):
            break
    assert len(spread("mysql")) == 4, f"MySQL sessions per worker: {dict(spread('mysql'))}"
    for _ in range(6):
        _ssh_burst(cluster.port("ssh"), token, 8)
        if wait_for(lambda: len(spread("ssh")) == 4, timeout=5):
            break
    assert len(spread("ssh")) == 4, f"SSH sessions per worker: {dict(spread('ssh'))}"


def _ssh_burst(port: int, token: str, n: int) -> None:
    """``n`` SSH sessions opened at once (each runs a command), then closed."""
    done: list[bytes] = []

    def one() -> None:
        transport = ssh_session(port, "demo-host", lambda *_: [token])
        try:
            done.append(ssh_exec(transport, "echo spread"))
        finally:
            transport.close()

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert done == [b"spread\n"] * n


def test_statement_held_on_one_node_is_approved_on_the_other(cluster: Cluster) -> None:
    a, b = cluster.nodes
    cluster.mariadb.sql("INSERT INTO shop.orders (customer_id, total, status) VALUES (2, 1.00, 'ha-held')")
    out: dict[str, Any] = {}

    def held() -> None:
        try:
            with connect(a.ports["mysql"], a.token("alice", "dba")) as conn, conn.cursor() as cur:
                out["rows"] = cur.execute("DELETE FROM orders WHERE status = 'ha-held'")
                conn.commit()
        except pymysql.MySQLError as exc:
            out["error"] = exc

    thread = threading.Thread(target=held)
    thread.start()
    carol = on_node(portal_for(cluster, "carol"), b)
    request_id = pending_id(carol, "ha-held", timeout=15)
    resp = carol.post(f"/approvals/{request_id}", data={"action": "approve", "csrf_token": carol.csrf()})
    assert resp.status_code in (200, 303), resp.text[:500]
    thread.join(timeout=30)
    assert out == {"rows": 1}
    assert cluster.mariadb.sql("SELECT COUNT(*) FROM shop.orders WHERE status = 'ha-held'").strip() == "0"


def test_login_link_printed_by_one_node_is_approved_on_the_other(cluster: Cluster) -> None:
    a, b = cluster.nodes
    alice = on_node(portal_for(cluster, "alice"), b)
    decided: list[int] = []

    def handler(title: str, instructions: str, prompts: list[tuple[str, bool]]) -> list[str]:
        code = re.search(r"/login/([\w-]+)", prompts[0][0])
        assert code is not None, prompts
        resp = alice.post(f"/login/{code.group(1)}", data={"action": "approve", "csrf_token": alice.csrf()})
        decided.append(resp.status_code)
        return [""]

    transport = ssh_session(a.ports["ssh"], "demo-host", handler)
    try:
        assert ssh_exec(transport, "echo linked") == b"linked\n"
    finally:
        transport.close()
    assert decided == [200]


def test_token_revoked_on_one_node_ends_its_sessions_on_the_other(cluster: Cluster) -> None:
    a, b = cluster.nodes
    issued = a.cli("tokens", "issue", "--user", "alice", "--groups", "dba", "--ttl", "600", "--json")
    import json

    info = json.loads(issued.stdout)
    conn = connect(a.ports["mysql"], info["token"])
    with conn.cursor() as cur:
        cur.execute("SELECT 1")
    assert b.cli("tokens", "revoke", info["id"]).returncode == 0

    def ended() -> bool:
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT 1")
            return False
        except pymysql.MySQLError:
            return True

    assert wait_for(ended, timeout=15, interval=0.5), "the session outlived its revoked token"
    with pytest.raises(pymysql.MySQLError):
        connect(b.ports["mysql"], info["token"])


def test_kill_query_through_the_other_node_interrupts_the_statement(cluster: Cluster) -> None:
    a, b = cluster.nodes
    token = a.token("alice", "dba")
    conn = connect(a.ports["mysql"], token)
    result: dict[str, Any] = {}

    def sleep() -> None:
        started = time.monotonic()
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT SLEEP(30)")
                result["value"] = cur.fetchone()
        except pymysql.MySQLError as exc:
            result["error"] = exc.args[0]
        result["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=sleep)
    thread.start()
    time.sleep(1.0)
    with connect(b.ports["mysql"], token) as killer, killer.cursor() as cur:
        assert killer.thread_id() != conn.thread_id()
        cur.execute(f"KILL QUERY {conn.thread_id()}")
    thread.join(timeout=20)
    # interrupted: MariaDB answers 1317 (or SLEEP() returns 1, as MySQL does)
    assert result.get("error") == 1317 or result.get("value") == (1,), result
    assert result["seconds"] < 20
    conn.close()


def test_search_on_either_node_finds_every_event(cluster: Cluster) -> None:
    marks = {}
    for node in cluster.nodes:
        marks[node.name] = f"ha-mark-{node.name}-{time.time_ns()}"
        with connect(node.ports["mysql"], node.token("alice", "dba")) as conn, conn.cursor() as cur:
            cur.execute(f"SELECT '{marks[node.name]}'")
    carol = portal_for(cluster, "carol")
    for node in cluster.nodes:
        direct = on_node(carol, node)
        for mark in marks.values():
            found = wait_for(lambda d=direct, m=mark: m in d.get("/audit/export.json", params={"q": m}).text,
                             timeout=30, interval=0.5)
            assert found, f"{node.name}'s search does not find {mark}"


def _workers(node: Node) -> list[int]:
    """Pids of the node's serving workers (the supervisor's children, the indexer apart)."""
    assert node.proc is not None
    supervisor = node.proc.proc.pid
    children = []
    for task in Path(f"/proc/{supervisor}/task").iterdir():
        children += [int(p) for p in (task / "children").read_text().split()]
    return [p for p in children if b"indexer" not in Path(f"/proc/{p}/cmdline").read_bytes()]


def _serving(node: Node, conn: pymysql.connections.Connection) -> int:
    """The pid of the worker holding ``conn``'s bastion side (the socket whose remote port
    is the client's, found in /proc/net/tcp, then among the workers' descriptors)."""
    client_port = conn._sock.getsockname()[1]  # type: ignore[union-attr]
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = (int(f.rsplit(":", 1)[1], 16) for f in fields[1:3])
        if local == node.ports["mysql"] and remote == client_port:
            inodes.add(f"socket:[{fields[9]}]")
    for pid in _workers(node):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) in inodes:
                    return pid
            except OSError:
                continue
    raise AssertionError(f"no worker holds the connection from port {client_port}")


class Load:
    """Clients opening new MySQL sessions through the load balancer back to back."""

    def __init__(self, port: int, token: str, threads: int = 3) -> None:
        self.port, self.token = port, token
        self.failures: list[tuple[float, str]] = []
        self.done = 0
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run) for _ in range(threads)]

    def _run(self) -> None:
        while not self._stop.is_set():
            began = time.monotonic()
            try:
                with connect(self.port, self.token) as conn, conn.cursor() as cur:
                    cur.execute("SELECT 1")
                self.done += 1
            except pymysql.MySQLError as exc:
                self.failures.append((began, repr(exc)))

    def __enter__(self) -> Load:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=30)


def test_a_killed_worker_is_restarted_and_its_sessions_recovered(cluster: Cluster) -> None:
    a = cluster.nodes[0]
    token = a.token("alice", "dba")
    before = set(_workers(a))
    assert len(before) == 2
    victim_conn = connect(a.ports["mysql"], token)
    with victim_conn.cursor() as cur:
        cur.execute("SELECT 'victim'")
    with Load(cluster.port("mysql"), token) as load:
        time.sleep(1)
        victim = _serving(a, victim_conn)  # a session surely open on the killed worker
        os.kill(victim, signal.SIGKILL)
        killed_at = time.monotonic()
        time.sleep(4)
        restarted = wait_for(lambda: len(_workers(a)) == 2 and victim not in _workers(a), timeout=20)
    assert restarted, f"worker {victim} was not replaced:\n{a.log_tail()}"
    late = [f for f in load.failures if f[0] > killed_at + 0.5]
    assert not late, f"new connections failed after the kill: {late[:5]}"
    assert load.done > 10

    def recovered() -> bool:
        return any(e["type"] == "session.end" and e.get("data", {}).get("recovered")
                   for d in worker_journals(a) for e in journal_events(d))

    assert wait_for(recovered, timeout=20), "no recovered session end for the killed worker's sessions"
    victim_conn.close()


def test_a_killed_node_leaves_the_other_serving_within_five_seconds(cluster: Cluster) -> None:
    a, b = cluster.nodes
    token = a.token("alice", "dba")
    b.kill()
    killed = time.monotonic()

    def serves() -> bool:
        try:
            with connect(cluster.port("mysql"), token) as conn, conn.cursor() as cur:
                cur.execute("SELECT 1")
            return True
        except pymysql.MySQLError:
            return False

    assert wait_for(serves, timeout=5, interval=0.1)
    assert time.monotonic() - killed < 5
    ok = sum(serves() for _ in range(10))
    assert ok == 10
    b.start()


def test_rolling_restart_refuses_no_new_connection(cluster: Cluster) -> None:
    token = cluster.nodes[0].token("alice", "dba")
    with Load(cluster.port("mysql"), token) as load:
        for node in cluster.nodes:
            assert node.stop() == 0, node.log_tail()
            node.start()
            time.sleep(1)
    assert not load.failures, f"{len(load.failures)} connection(s) refused: {load.failures[:5]}"
    assert load.done > 20


def test_every_journal_verifies(cluster: Cluster) -> None:
    for node in cluster.nodes:
        res = node.cli("audit", "verify")
        assert res.returncode == 0, res.stdout.decode() + res.stderr.decode()
        assert res.stdout.decode().count(": OK") >= len(worker_journals(node)), res.stdout.decode()
