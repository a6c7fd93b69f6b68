"""JDBC through the bastion: MariaDB Connector/J and MySQL Connector/J with server-side
prepared statements over TLS (the Java program is tests/integration/mysql/jdbc/)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import service_failed
from tests.integration.mysql.clients import DRIVER_TABLES_SQL, bastion_cert, key_values, stmt_counters

JDBC_DIR = Path(__file__).with_name("jdbc")

PREPARED_ROWS = ("1,NULL,NULL,NULL,NULL,NULL,NULL,NULL;"
                 "2,7,seven,2024-05-06T07:08:09,12.50,0.25,0x62696e,ütf ✓;"
                 "3,NULL,three,NULL,NULL,3.5,NULL,")


@pytest.fixture(scope="session")
def jdbc_classpath() -> str:
    """Build the client with Maven (drivers come from Maven Central, cached in ~/.m2)."""
    if not shutil.which("mvn") or not shutil.which("java"):
        service_failed("Maven/Java", RuntimeError("mvn and java are needed: apt-get install maven default-jdk"))
    try:
        res = subprocess.run(["mvn", "-q", "-B", "package"], cwd=JDBC_DIR, capture_output=True, text=True,
                             timeout=600)
    except subprocess.TimeoutExpired as exc:
        service_failed("Maven build", RuntimeError(f"mvn package timed out: {exc}"))
    if res.returncode != 0:
        service_failed("Maven build", RuntimeError(f"mvn package failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"))
    return f"{JDBC_DIR / 'target' / 'classes'}:{JDBC_DIR / 'target' / 'lib' / '*'}"


@pytest.fixture(scope="module", autouse=True)
def schema(mariadb):
    mariadb.sql(DRIVER_TABLES_SQL)


@pytest.mark.parametrize(("driver", "url"), [
    ("MariaDB Connector/J", "jdbc:mariadb://127.0.0.1:{port}/lab?sslMode=trust&useServerPrepStmts=true"),
    ("MariaDB Connector/J",
     "jdbc:mariadb://127.0.0.1:{port}/lab?sslMode=verify-full&serverSslCert={cert}&useServerPrepStmts=true"),
    ("MySQL Connector/J", "jdbc:mysql://127.0.0.1:{port}/lab?sslMode=REQUIRED&useServerPrepStmts=true"),
], ids=["mariadb-trust", "mariadb-verify-full", "mysql-required"])
def test_jdbc_server_side_prepared(bastion, mariadb, jdbc_classpath, driver, url, request):
    row_id = 1000 + 10 * request.node.callspec.indices["driver"]
    cert = bastion_cert(bastion)
    before = stmt_counters(mariadb)
    res = subprocess.run(["java", "-cp", jdbc_classpath, "bastion.JdbcClient",
                          url.format(port=bastion.ports["mysql"], cert=cert), "shop-db", bastion.token("alice", "dba"),
                          str(row_id)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-4000:]
    out = key_values(res.stdout)
    after = stmt_counters(mariadb)
    assert out["driver"].startswith(driver)
    assert out["text.names"] == "Ada Lovelace|Grace Hopper|Alan Turing|Edsger Dijkstra|Barbara Liskov"
    assert out["prepared.rows.0"] == out["prepared.rows.1"] == PREPARED_ROWS
    assert (out["multi.count"], out["multi.sum"], out["multi.last"]) == ("49990", str(sum(range(11, 50001))),
                                                                         "row-50000")
    digest = out["blob.expected"]
    assert out["blob.back"] == f"{row_id}:3145745:{digest};{row_id + 1}:3145745:{digest}"
    assert (out["tx.after_rollback"], out["tx.after_commit"]) == ("0", "1")
    assert (out["error.code"], out["error.after"]) == ("1146", "still usable")
    assert out["done"] == "yes"
    # server-side prepared statements really ran upstream, the stream parameter as long data
    assert after["Com_stmt_prepare"] - before["Com_stmt_prepare"] >= 6
    assert after["Com_stmt_execute"] - before["Com_stmt_execute"] >= 9
    assert after["Com_stmt_send_long_data"] > before["Com_stmt_send_long_data"]


# --- pools resetting a reused connection ------------------------------------------------------


def reset_client(jdbc_classpath: str, *args: str) -> dict[str, str]:
    res = subprocess.run(["java", "-cp", jdbc_classpath, "bastion.ResetClient", *args], capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-4000:]
    out = key_values(res.stdout)
    assert out["done"] == "yes"
    return out


def starts_sharing_connection(bastion, upstream_thread: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """Every session.start on the client connection whose first session had ``upstream_thread``."""
    journal = bastion.journal()
    first = [e for e in journal
             if e["type"] == "session.start" and e["data"]["upstream_thread"] == int(upstream_thread)]
    assert first, upstream_thread
    connection = first[0]["data"]["connection_id"]
    return [e for e in journal if e["type"] == "session.start" and e["data"]["connection_id"] == connection]


def test_mariadb_pool_resets_a_returned_connection(bastion, jdbc_classpath):
    """MariaDB Connector/J's pool resets a connection given back (COM_RESET_CONNECTION, with
    useResetConnection): the bastion relays it, the session and upstream connection stay,
    their state is cleared, and statements on the reused connection are still judged."""
    url = f"jdbc:mariadb://127.0.0.1:{bastion.ports['mysql']}/shop?sslMode=trust&useResetConnection=true&maxPoolSize=1"
    out = reset_client(jdbc_classpath, "mariadb-pool", url, "shop-db", bastion.token("alice", "dba"))
    threads = {out[f"borrow{n}.thread"] for n in range(3)}
    assert len(threads) == 1, out  # one upstream connection, reused
    assert [out[f"borrow{n}.marker"] for n in range(3)] == ["null"] * 3, out  # reset between borrows
    assert [out[f"borrow{n}.blocked"] for n in range(3)] == ["1142"] * 3, out
    starts = starts_sharing_connection(bastion, threads.pop())
    assert len(starts) == 1, starts  # a reset is no new login: one session throughout
    denied = [e for e in bastion.journal() if e["type"] == "query" and e["session_id"] == starts[0]["session_id"]
              and "DROP" in str(e["data"])]
    assert len(denied) == 3, denied


def test_mysql_connector_j_change_user(bastion, jdbc_classpath):
    """MySQL Connector/J's changeUser (COM_CHANGE_USER): a new login on the same connection,
    the token proved again; the same account keeps the upstream connection (reset), another
    account gets a new one; a wrong token ends the connection."""
    url = f"jdbc:mysql://127.0.0.1:{bastion.ports['mysql']}/shop?sslMode=REQUIRED"
    out = reset_client(jdbc_classpath, "mysql-change-user", url, "shop-db", bastion.token("alice", "dba"),
                       bastion.token("alice", "dba"), "shop-db/readonly", bastion.token("bob", "developers"))
    assert out["same.thread"] == out["login.thread"] and out["same.marker"] == "null", out
    assert out["other.thread"] != out["login.thread"] and out["other.user"].startswith("bastion_ro"), out
    assert out["other.marker"] == "null", out
    assert [out[f"{s}.blocked"] for s in ("login", "same", "other")] == ["1142"] * 3, out
    assert (out["wrong.code"], out["wrong.after"]) == ("1045", "closed"), out
    starts = starts_sharing_connection(bastion, out["login.thread"])
    assert [e["data"]["user"] for e in starts] == ["alice", "alice", "bob"], starts
    assert len({e["data"]["client_addr"] for e in starts}) == 1
