"""The upstream leg's TLS modes against a real MariaDB: verify-full checks the CA and the
host name and refuses a target that fails either (nothing is sent with the credential);
required encrypts without verifying; disabled stays plain."""

from __future__ import annotations

import subprocess
import sys

import pymysql
import pytest
import yaml

from bastion.config.model import TLSConfig
from bastion.demo.setup import UPSTREAM_ACCOUNTS, write_config
from bastion.runtime.tls import ensure_certificate
from tests.integration.conftest import ROOT, mysql_bastion_config, start_bastion, stop_bastion, wait_for
from tests.integration.mysql.clients import pymysql_conn


@pytest.fixture(scope="module")
def tls_bastion(tmp_path_factory, mariadb):
    workdir = tmp_path_factory.mktemp("upstream-tls")
    config = mysql_bastion_config(workdir, mariadb)
    db_cert = str(mariadb.workdir / "tls" / "ca.crt")  # the CA of MariaDB's certificate for 127.0.0.1 and localhost
    ensure_certificate(TLSConfig(hostnames=["localhost"]), workdir / "other-ca")
    other_ca = workdir / "other-ca" / "tls" / "ca.crt"
    base = config["targets"][0]
    modes = {
        "db-verified": {"mode": "verify-full", "ca_file": db_cert, "server_name": "localhost"},
        "db-by-ip": {"mode": "verify-full", "ca_file": db_cert},  # host 127.0.0.1 is in the certificate
        "db-wrong-ca": {"mode": "verify-full", "ca_file": str(other_ca), "server_name": "localhost"},
        "db-wrong-name": {"mode": "verify-full", "ca_file": db_cert, "server_name": "db.example.org"},
        "db-required": {"mode": "required"},
        "db-plain": {"mode": "disabled"},
    }
    config["targets"] += [{**base, "name": name, "tls": tls} for name, tls in modes.items()]
    path = write_config(workdir / "bastion.yaml", config)
    access = workdir / "policies" / "access.yaml"
    rules = yaml.safe_load(access.read_text())
    rules["access"].append({"id": "tls-modes", "groups": ["dba"], "targets": list(modes), "account": "admin"})
    access.write_text(yaml.safe_dump(rules, sort_keys=False))
    for name in modes:
        subprocess.run([sys.executable, "-m", "bastion.cli", "credentials", "set", f"{name}/admin", "--config",
                        str(path)], input=UPSTREAM_ACCOUNTS["admin"][1].encode(), check=True, capture_output=True,
                       cwd=ROOT)
    b = start_bastion(workdir, config)
    yield b
    assert stop_bastion(b) == 0


def _session_start(b, target: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    starts = wait_for(lambda: [e for e in b.journal() if e["type"] == "session.start"
                               and e["data"]["target"] == target])
    return starts[-1]["data"]


@pytest.mark.parametrize(("target", "encrypted"), [("db-verified", True), ("db-by-ip", True),
                                                    ("db-required", True), ("db-plain", False)])
def test_modes_that_connect(tls_bastion, target, encrypted):
    b = tls_bastion
    for _ in range(2):  # the second session reuses the kept TLS context
        with pymysql_conn(b, b.token("alice", "dba"), user=target) as conn, conn.cursor() as cur:
            # MariaDB's view of the bastion's upstream connection
            cur.execute("SHOW SESSION STATUS LIKE 'Ssl_version'")
            version = cur.fetchone()[1]
            assert version.startswith("TLSv1.") if encrypted else version == "", version
    assert _session_start(b, target)["upstream_tls"] is encrypted


@pytest.mark.parametrize(("target", "why"), [("db-wrong-ca", "certificate verify failed: unable to get local issuer"),
                                             ("db-wrong-name", "certificate verify failed: Hostname mismatch")])
def test_a_target_that_fails_verification_is_refused(tls_bastion, target, why):
    # The handshake fails before the login packet: the vaulted credential is never sent.
    b = tls_bastion
    with pytest.raises(pymysql.err.OperationalError) as refused:
        pymysql_conn(b, b.token("alice", "dba"), user=target)
    assert refused.value.args[0] == 2003 and f"cannot reach target {target}" in refused.value.args[1]
    assert wait_for(lambda: why in b.log_text()), b.log_text()[-2000:]
