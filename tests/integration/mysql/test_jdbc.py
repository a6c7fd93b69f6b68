"""JDBC through the bastion: MariaDB Connector/J and MySQL Connector/J with server-side
prepared statements over TLS (the Java program is tests/integration/mysql/jdbc/)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

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
