"""sysbench ``oltp_read_write`` (Debian package, libmariadb, server-side prepared
statements) through the bastion over TLS: no errors, real transactions."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bastion.config.model import TLSConfig
from bastion.runtime.tls import ensure_certificate
from tests.integration.conftest import BastionProc, service_failed
from tests.integration.mysql.clients import bastion_cert, stmt_counters

TABLES, TABLE_SIZE = 2, 10_000


def sysbench_tls_dir(workdir: Path, ca: Path) -> Path:
    """sysbench 1.0 ``--mysql-ssl=on`` loads ``client-key.pem``, ``client-cert.pem`` and
    ``cacert.pem`` from its working directory; the CA is the bastion's private CA."""
    workdir.mkdir(parents=True, exist_ok=True)
    cert, key = ensure_certificate(TLSConfig(hostnames=["sysbench-client"]), workdir / "client")
    shutil.copy(cert, workdir / "client-cert.pem")
    shutil.copy(key, workdir / "client-key.pem")
    shutil.copy(ca, workdir / "cacert.pem")
    return workdir


@pytest.fixture(scope="module")
def sbtest(mariadb):
    if not shutil.which("sysbench"):
        service_failed("sysbench", RuntimeError("sysbench not found: apt-get install sysbench"))
    mariadb.sql("DROP DATABASE IF EXISTS sbtest; CREATE DATABASE sbtest;")
    res = subprocess.run(["sysbench", "oltp_read_write", f"--mysql-socket={mariadb.socket}", "--mysql-user=root",
                          "--mysql-db=sbtest", f"--tables={TABLES}", f"--table-size={TABLE_SIZE}", "--threads=2",
                          "prepare"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    yield "sbtest"
    mariadb.sql("DROP DATABASE IF EXISTS sbtest")


def run_sysbench(b: BastionProc, workdir: Path, test: str, *extra: str, seconds: int = 10,
                 threads: int = 4) -> tuple[subprocess.CompletedProcess[str], dict[str, float]]:
    cwd = sysbench_tls_dir(workdir, bastion_cert(b))
    res = subprocess.run(["sysbench", test, "--mysql-host=127.0.0.1", f"--mysql-port={b.ports['mysql']}",
                          "--mysql-user=shop-db", f"--mysql-password={b.token('alice', 'dba')}", "--mysql-db=sbtest",
                          "--mysql-ssl=on", f"--tables={TABLES}", f"--table-size={TABLE_SIZE}",
                          f"--threads={threads}", f"--time={seconds}", "--db-ps-mode=auto", *extra, "run"],
                         capture_output=True, text=True, timeout=seconds + 60, cwd=cwd)
    stats: dict[str, float] = {}
    for key in ("transactions", "queries", "ignored errors", "reconnects"):
        found = re.search(rf"^\s*{key}:\s+(\d+)", res.stdout, re.M)
        if found:
            stats[key] = float(found.group(1))
    return res, stats


def test_oltp_read_write_through_the_bastion(open_bastion, mariadb, sbtest, tmp_path):
    before = stmt_counters(mariadb)
    # Deadlocks (1213) are the target's business and sysbench retries them; everything else fails.
    res, stats = run_sysbench(open_bastion, tmp_path, "oltp_read_write", "--mysql-ignore-errors=1213")
    assert res.returncode == 0 and "FATAL" not in res.stdout + res.stderr, res.stdout[-3000:] + res.stderr[-3000:]
    after = stmt_counters(mariadb)
    assert stats["transactions"] >= 50, res.stdout
    assert stats["ignored errors"] <= stats["transactions"] / 100, res.stdout
    assert stats["reconnects"] == 0
    # each transaction is ~18 statements, all but BEGIN/COMMIT server-side prepared
    assert after["Com_stmt_execute"] - before["Com_stmt_execute"] >= 14 * stats["transactions"]
    assert open_bastion.proc.poll() is None

