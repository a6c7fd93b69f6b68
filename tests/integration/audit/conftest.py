"""The audit contract tests run against every backend: sqlite (embedded), a real OpenSearch node
and a real Elasticsearch node (each engine node is started once per test session)."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from bastion.audit.backends import open_backend
from bastion.audit.indexer import Indexer
from bastion.audit.journal import Journal
from bastion.audit.search import AuditSearch
from bastion.config.model import AuditIndexConfig
from bastion.core.types import Identity
from bastion.demo.idp import SimpleSAMLphp
from bastion.demo.services import SSHD, MariaDB, ServiceError, free_port
from bastion.demo.setup import UPSTREAM_ACCOUNTS, demo_config, write_config
from bastion.runtime.bootstrap import load_checked, open_store
from bastion.state.directory import SSHKeys, UserDirectory
from tests.integration.audit.scenario import CARD, AuditEnv
from tests.integration.conftest import ROOT, BastionProc, service_failed, start_bastion, stop_bastion, wait_for
from tests.integration.ssh.conftest import bastion_known_hosts, keygen

ENGINES = ("opensearch", "elasticsearch")
BACKENDS = ("sqlite", *ENGINES)


def engine_url(request: pytest.FixtureRequest, backend: str) -> str:
    """The URL of the session's node of that engine (``opensearch_node``, ``elasticsearch_node``)."""
    return str(request.getfixturevalue(f"{backend}_node").url)


def index_config(request: pytest.FixtureRequest, backend: str) -> AuditIndexConfig:
    if backend in ENGINES:
        return AuditIndexConfig(backend=backend, url=engine_url(request, backend),
                                index_prefix=f"t-{uuid.uuid4().hex[:10]}")
    return AuditIndexConfig(backend="sqlite")


@contextmanager
def make_env(request: pytest.FixtureRequest, tmp_path: Path, backend_name: str) -> Iterator[AuditEnv]:
    """A journal, an indexer into ``backend_name`` and the search over it, in ``tmp_path``."""
    directory = tmp_path / "audit"
    journal = Journal(directory, fsync=False)
    backend = open_backend(index_config(request, backend_name), directory)
    assert backend is not None
    indexer = Indexer(directory, backend, batch_size=50,
                      redact=lambda text: text.replace(CARD, "**** **** **** 1111"))
    try:
        yield AuditEnv(tmp_path, journal, backend, indexer, AuditSearch(backend))
    finally:
        journal.close()
        indexer.close()


@pytest.fixture(params=BACKENDS)
def audit_env(request, tmp_path):
    with make_env(request, tmp_path, request.param) as env:
        yield env


# --------------------------------------------------------------------------- the dashboard over real sessions
# One bastion with MySQL and SSH listeners (the demo's configuration, its own SAML IdP),
# indexing into sqlite or a real OpenSearch or Elasticsearch node, after a scripted run of sessions.

MYSQL_FRAGMENT = "zebra_quartz"
"""A word inside the MySQL statement of the scripted run."""
EXEC_COMMAND = "echo penguin-exec-ok"
SFTP_FILE = "dashboard-q4-report.csv"
SHELL_WORD = "marmoset-42"
"""Printed by the shell (typed as ``echo marmoset-$((40+2))``, so only the output holds it)."""


@dataclass
class Dashboard:
    backend: str
    bastion: BastionProc
    idp: SimpleSAMLphp
    sessions: dict[str, str]
    """``mysql``, ``exec``, ``sftp``, ``shell`` -> session id of that part of the scripted run."""
    run_seconds: float = 0.0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.bastion.ports['web']}"


def _credentials(config: Path, sshd: SSHD) -> None:
    def cli(*args: str, stdin: bytes | None = None) -> None:
        res = subprocess.run([sys.executable, "-m", "bastion.cli", "credentials", "set", *args, "--config",
                              str(config)], input=stdin, capture_output=True, cwd=ROOT, timeout=60)
        assert res.returncode == 0, res.stderr.decode()

    for account, (_user, password, _grant) in UPSTREAM_ACCOUNTS.items():
        cli(f"shop-db/{account}", stdin=password.encode())
    cli(f"demo-host/{sshd.user}", "--kind", "ssh-key", "--file", str(sshd.client_key))


def _register_key(config: Path, workdir: Path) -> Path:
    """alice (group dba) as of her last SSO sign-in, with a registered SSH key."""
    settings, _ = load_checked(str(config))
    store, _, _vault = open_store(settings)
    UserDirectory(store).remember(Identity(subject="alice", email="alice@example.org",
                                           groups=frozenset({"dba", "admins"}), idp="saml"))
    key = keygen(workdir / "alice_key")
    SSHKeys(store).add("alice", Path(f"{key}.pub").read_text())
    store.dispose()
    return key


def _session_of(b: BastionProc, type_: str, match: Callable[[dict[str, Any]], bool]) -> str:
    def find() -> str:
        for event in b.journal():
            data = event.get("data")
            if event.get("type") == type_ and isinstance(data, dict) and match(data):
                return str(event["session_id"])
        return ""
    sid = wait_for(find, timeout=15)
    assert sid, f"no {type_} event found in the journal"
    return str(sid)


def scripted_run(b: BastionProc, sshd: SSHD, key: Path, workdir: Path) -> dict[str, str]:
    """MySQL statements, an SSH exec, an SFTP upload and an interactive shell through ``b``."""
    from tests.integration.mysql.clients import pymysql_conn
    from tests.integration.ssh.terminal import Terminal

    conn = pymysql_conn(b, b.token("alice", "dba", reason="INC-4242"))
    with conn.cursor() as cur:
        cur.execute(f"SELECT name FROM customers WHERE notes LIKE '%{MYSQL_FRAGMENT}%'")
        cur.execute("SELECT COUNT(*) FROM orders")
    conn.close()

    known = bastion_known_hosts(b.workdir / "var", b.ports["ssh"], workdir / "bastion_known_hosts")
    opts = ["-o", f"UserKnownHostsFile={known}", "-o", "StrictHostKeyChecking=yes", "-o", "LogLevel=ERROR",
            "-F", "/dev/null", "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-i", str(key)]
    ssh = ["ssh", "-p", str(b.ports["ssh"]), *opts]
    res = subprocess.run([*ssh, "-o", "BatchMode=yes", "demo-host@127.0.0.1", EXEC_COMMAND], capture_output=True,
                         timeout=30)
    assert res.returncode == 0 and b"penguin-exec-ok" in res.stdout, res.stderr

    local = workdir / SFTP_FILE
    local.write_text("quarter,revenue\nq4,42\n")
    batch = workdir / "sftp.batch"
    batch.write_text(f"put {local} {SFTP_FILE}\nls\n")
    res = subprocess.run(["sftp", "-P", str(b.ports["ssh"]), *opts, "-o", "BatchMode=yes", "-b", str(batch),
                          "demo-host@127.0.0.1"], capture_output=True, timeout=30)
    assert res.returncode == 0, res.stderr

    term = Terminal([*ssh, "-tt", "-o", "BatchMode=yes", "demo-host@127.0.0.1"])
    try:
        term.expect(b"$ ")
        term.write(b"echo marmoset-$((40+2))\r")
        term.expect(SHELL_WORD.encode())
        term.write(b"exit 0\r")
        assert term.wait() == 0
    finally:
        term.close()

    return {
        "mysql": _session_of(b, "query", lambda d: MYSQL_FRAGMENT in str(d.get("statement", ""))),
        "exec": _session_of(b, "command", lambda d: d.get("line") == EXEC_COMMAND),
        "sftp": _session_of(b, "fileop", lambda d: SFTP_FILE in str(d.get("path", ""))),
        "shell": _session_of(b, "recording", lambda d: True),
    }


@pytest.fixture(scope="session", params=BACKENDS)
def dashboard(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, mariadb: MariaDB,
              sshd: SSHD) -> Iterator[Dashboard]:
    workdir = tmp_path_factory.mktemp(f"dashboard-{request.param}")
    ports = {"web": free_port(), "mysql": free_port(), "ssh": free_port()}
    base = f"http://127.0.0.1:{ports['web']}"
    idp = SimpleSAMLphp(workdir / "idp", f"{base}/saml/metadata", f"{base}/saml/acs", f"{base}/saml/sls")
    try:
        idp.start()
    except (ServiceError, OSError, RuntimeError, subprocess.CalledProcessError) as exc:
        idp.stop()
        service_failed("SimpleSAMLphp", exc)
    config = demo_config(workdir, db=mariadb, sshd=sshd, idp_metadata_url=idp.metadata_url, ports=ports,
                         protocols={"mysql", "ssh"}, sp_base_url=base)
    access = workdir / "policies" / "access.yaml"  # the demo's SSH account is named after the demo's sshd user
    rules = yaml.safe_load(access.read_text())
    for rule in rules["access"]:
        if rule["id"] == "ops-ssh":
            rule["account"] = sshd.user
    access.write_text(yaml.safe_dump(rules))
    if request.param in ENGINES:
        config["audit"] = {**config["audit"], "index": {"backend": request.param,
                                                        "url": engine_url(request, request.param),
                                                        "index_prefix": f"dash-{uuid.uuid4().hex[:10]}"}}
    path = write_config(workdir / "bastion.yaml", config)
    _credentials(path, sshd)
    key = _register_key(path, workdir)
    b = start_bastion(workdir, config)
    try:
        started = time.monotonic()
        sessions = scripted_run(b, sshd, key, workdir)
        yield Dashboard(request.param, b, idp, sessions, time.monotonic() - started)
    finally:
        code = stop_bastion(b)
        idp.stop()
    assert code == 0, f"bastion exited with {code}:\n{b.log_text()[-3000:]}"
