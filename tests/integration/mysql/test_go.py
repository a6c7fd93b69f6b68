"""go-sql-driver/mysql through the bastion: TLS, server-side prepared statements
(``interpolateParams=false``), long data, NULLs, many rows (client: goclient/)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.integration.conftest import service_failed
from tests.integration.mysql.clients import DRIVER_TABLES_SQL, key_values, stmt_counters

GO_DIR = Path(__file__).with_name("goclient")


@pytest.fixture(scope="session")
def go_client(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the client; the driver module comes from the Go module proxy (go.sum pins it)."""
    if not shutil.which("go"):
        service_failed("Go", RuntimeError("go is needed: apt-get install golang-go"))
    binary = tmp_path_factory.mktemp("goclient") / "goclient"
    env = {**os.environ, "GOFLAGS": "-mod=mod", "CGO_ENABLED": "0"}
    try:
        res = subprocess.run(["go", "build", "-o", str(binary), "."], cwd=GO_DIR, capture_output=True, text=True,
                             env=env, timeout=600)
    except subprocess.TimeoutExpired as exc:
        service_failed("go build", RuntimeError(f"go build timed out: {exc}"))
    if res.returncode != 0:
        service_failed("go build", RuntimeError(f"go build failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"))
    return binary


@pytest.fixture(scope="module", autouse=True)
def schema(mariadb):
    mariadb.sql(DRIVER_TABLES_SQL)


def test_go_sql_driver_prepared_over_tls(bastion, mariadb, go_client):
    row_id = 2000
    token = bastion.token("alice", "dba")
    # maxAllowedPacket=4 MiB: the driver sends the 3 MiB BLOB parameter as COM_STMT_SEND_LONG_DATA
    dsn = (f"shop-db:{token}@tcp(127.0.0.1:{bastion.ports['mysql']})/lab"
           "?tls=skip-verify&interpolateParams=false&maxAllowedPacket=4194304")
    before = stmt_counters(mariadb)
    res = subprocess.run([str(go_client), dsn, str(row_id)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-4000:]
    out = key_values(res.stdout)
    after = stmt_counters(mariadb)
    assert out["text.names"] == "Ada Lovelace|Grace Hopper|Alan Turing|Edsger Dijkstra|Barbara Liskov"
    assert out["prepared.rows.0"] == out["prepared.rows.1"] == (
        "1,NULL,NULL,NULL,NULL,NULL,NULL,NULL;2,7,seven,2024-05-06 07:08:09,12.50,0.25,bin,ütf ✓;"
        "3,NULL,three,NULL,NULL,3.5,NULL,")
    assert (out["multi.count"], out["multi.sum"], out["multi.last"]) == ("49990", str(sum(range(11, 50001))),
                                                                         "row-50000")
    assert out["blob.back"] == f"3145745:{out['blob.expected']}"
    direct = mariadb.sql(f"SELECT SHA2(data, 256) FROM lab.jdbc_blobs WHERE id = {row_id}").strip()
    assert direct == out["blob.expected"]
    assert (out["tx.after_rollback"], out["tx.after_commit"]) == ("0", "1")
    assert (out["error.code"], out["error.after"]) == ("1146", "still usable")
    assert out["done"] == "yes"
    assert after["Com_stmt_prepare"] - before["Com_stmt_prepare"] >= 8
    assert after["Com_stmt_execute"] - before["Com_stmt_execute"] >= 9
    assert after["Com_stmt_send_long_data"] > before["Com_stmt_send_long_data"]


def test_go_wrong_token_is_refused(bastion, go_client):
    dsn = f"shop-db:bst_nope_nope@tcp(127.0.0.1:{bastion.ports['mysql']})/lab?tls=skip-verify"
    res = subprocess.run([str(go_client), dsn, "1"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 1 and "Error 1045" in res.stderr and "invalid" in res.stderr

