"""Helpers to drive real MySQL clients against the bastion."""

from __future__ import annotations

import ssl
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pymysql

from bastion.approvals import ApprovalBroker
from bastion.core.types import Identity
from bastion.state.store import StateStore
from tests.integration.conftest import BastionProc, wait_for

NO_VERIFY = {"check_hostname": False, "verify_mode": ssl.CERT_NONE}


def session_events(b: BastionProc, thread_id: int, type_: str) -> list[dict[str, Any]]:
    """The ``type_`` events of the session whose upstream thread is ``thread_id`` (what
    ``SELECT CONNECTION_ID()`` answers through the bastion)."""
    journal = b.journal()
    ids = {e["session_id"] for e in journal
           if e["type"] == "session.start" and e["data"].get("upstream_thread") == thread_id}  # type: ignore[index, union-attr]
    return [e for e in journal if e["type"] == type_ and e["session_id"] in ids]


def upstream_thread(conn: Any) -> int:
    """The upstream thread id behind a DB-API connection through the bastion (its
    ``SELECT CONNECTION_ID()``), to find its session with :func:`session_events`."""
    cur = conn.cursor()
    try:
        cur.execute("SELECT CONNECTION_ID()")
        return int(cur.fetchone()[0])
    finally:
        cur.close()


def pymysql_conn(b: BastionProc, token: str, user: str = "shop-db", database: str = "shop", **kw: Any):  # type: ignore[no-untyped-def]
    return pymysql.connect(host="127.0.0.1", port=b.ports["mysql"], user=user, password=token, database=database,
                           ssl=NO_VERIFY, connect_timeout=10, **kw)


def direct_conn(mariadb, database: str = "shop", **kw: Any):  # type: ignore[no-untyped-def]
    return pymysql.connect(host="127.0.0.1", port=mariadb.port, user="bastion_admin", password="admin-secret-pw",
                           database=database, connect_timeout=10, **kw)


def cli(b: BastionProc, token: str, sql: str, *extra: str, user: str = "shop-db",
        tool: str = "mariadb", timeout: float = 60) -> subprocess.CompletedProcess[str]:
    argv = [tool, "--no-defaults", "-h", "127.0.0.1", "-P", str(b.ports["mysql"]), "--ssl", "-u", user,
            f"-p{token}", *extra]
    if tool == "mariadb":
        argv += ["shop", "-B", "-e", sql]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)


DRIVER_TABLES_SQL = """
    CREATE DATABASE IF NOT EXISTS lab;
    CREATE TABLE IF NOT EXISTS lab.jdbc_types (id INT PRIMARY KEY, a INT, s VARCHAR(20), d DATETIME,
                                               n DECIMAL(8,2), f DOUBLE, b BLOB, t TEXT);
    TRUNCATE lab.jdbc_types;
    INSERT INTO lab.jdbc_types VALUES
      (1, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
      (2, 7, 'seven', '2024-05-06 07:08:09', 12.50, 0.25, 'bin', 'ütf ✓'),
      (3, NULL, 'three', NULL, NULL, 3.5, NULL, '');
    CREATE TABLE IF NOT EXISTS lab.jdbc_blobs (id INT PRIMARY KEY, data LONGBLOB);
    CREATE TABLE IF NOT EXISTS lab.jdbc_tx (id INT PRIMARY KEY, v VARCHAR(20));
    TRUNCATE lab.jdbc_blobs;
    TRUNCATE lab.jdbc_tx;
"""
"""Tables the compiled driver clients (jdbc/, goclient/) read and write."""


def stmt_counters(mariadb) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """The target's global prepared-statement counters (proof that PREPARE/EXECUTE ran upstream)."""
    out = mariadb.sql("SHOW GLOBAL STATUS WHERE Variable_name IN "
                      "('Com_stmt_prepare', 'Com_stmt_execute', 'Com_stmt_send_long_data')")
    return {name: int(value) for name, value in (line.split("\t") for line in out.splitlines())}


def key_values(stdout: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in stdout.splitlines() if "=" in line)


def bastion_cert(b: BastionProc) -> Path:
    """The bastion's private CA certificate (made on the first TLS connection) for clients that verify."""
    path = b.workdir / "var" / "tls" / "ca.crt"
    if not path.exists():
        pymysql_conn(b, b.token()).close()
    return path


def run(conn: Any, sql: str) -> str:
    """``ran: <rows>``, or the error the statement got."""
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return f"ran: {cur.fetchall()}"
    except pymysql.err.MySQLError as exc:
        return str(exc)


def run_denied_by_approver(b: BastionProc, conn: Any, sql: str, held: Callable[[str], bool],
                           approve: bool = False) -> str:  # fmt: skip
    """Run ``sql`` on ``conn``, wait until an approval whose statement satisfies ``held``
    is pending, deny it as carol (or approve it), and return what the statement got (see
    :func:`run`)."""
    broker = ApprovalBroker(type("C", (), {"store": StateStore(f"sqlite:///{b.workdir}/var/state.db"),
                                            "maskers": []})())
    out: dict[str, str] = {}
    t = threading.Thread(target=lambda: out.setdefault("result", run(conn, sql)))
    t.start()
    pending = wait_for(lambda: [a for a in broker.list("pending") if held(a.statement)], timeout=30)
    assert pending, out
    broker.decide(pending[0].id, Identity(subject="carol", groups=frozenset({"approvers"})), approve,
                  "yes" if approve else "no")
    t.join(30)
    return out["result"]

