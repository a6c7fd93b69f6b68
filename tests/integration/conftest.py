"""Real services for integration tests: MariaDB, the bastion (as a subprocess), later sshd/IdP.

A missing service is a failure. Only with BASTION_ALLOW_SKIP=1 (never set by .ci/run)
are tests whose service cannot start skipped, for developers on partial machines.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bastion.demo.idp import SimpleSAMLphp
from bastion.demo.services import SSHD, MariaDB, ServiceError, free_port
from bastion.demo.setup import UPSTREAM_ACCOUNTS, demo_config, seed_mariadb, write_config

ROOT = Path(__file__).resolve().parents[2]
SSH_USER = os.environ.get("BASTION_TEST_SSH_USER", "bastiontest")
"""The sshd fixture's OS account (another name lets two test runs share a machine)."""


def service_failed(what: str, exc: Exception) -> None:
    if os.environ.get("BASTION_ALLOW_SKIP") == "1":
        pytest.skip(f"{what} unavailable: {exc}")
    raise exc


@pytest.fixture(scope="session")
def mariadb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MariaDB]:
    db = MariaDB(tmp_path_factory.mktemp("mariadb"))
    try:
        db.start()
        seed_mariadb(db)
    except (ServiceError, OSError) as exc:
        db.stop()
        service_failed("MariaDB", exc)
    yield db
    db.stop()


@dataclass
class BastionProc:
    proc: subprocess.Popen[bytes]
    config: Path
    workdir: Path
    ports: dict[str, int]
    log: Path
    ready: dict[str, Any] = field(default_factory=dict)
    """The ready line (``workers``: the worker pids of ``serve --workers N``)."""

    def cli(self, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([sys.executable, "-m", "bastion.cli", *args, "--config", str(self.config)],
                              input=stdin, capture_output=True, cwd=ROOT, timeout=60)

    def token(self, user: str = "alice", groups: str = "dba", ttl: int = 600, reason: str = "") -> str:
        res = self.cli("tokens", "issue", "--user", user, "--groups", groups, "--ttl", str(ttl),
                       "--reason", reason, "--json")
        assert res.returncode == 0, res.stderr.decode()
        return str(json.loads(res.stdout)["token"])

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def journal(self) -> list[dict[str, object]]:
        path = self.workdir / "var" / "audit" / "journal.jsonl"
        if not path.exists():
            return []
        return [json.loads(line)["event"] for line in path.read_text().splitlines() if line.strip()]


def start_bastion(workdir: Path, config: dict[str, object], *args: str, grace: float | None = 3) -> BastionProc:
    """``bastion serve`` with ``config`` and extra ``args``; ``grace`` None: the drain of
    the configuration (``server.drain_seconds``)."""
    # Every test client logs in from 127.0.0.1, and many tests fail logins on purpose: a
    # shared bastion would soon throttle them all. Tests of the throttle configure it.
    config.setdefault("login_throttle", {"enabled": False})
    path = write_config(workdir / "bastion.yaml", config)
    log = workdir / "bastion.log"
    drain = [] if grace is None else ["--grace", str(grace)]
    with open(log, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "bastion.cli", "serve", "--config", str(path), *drain, *args],
                                stdout=subprocess.PIPE, stderr=out, cwd=ROOT)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.wait(timeout=10)
        raise RuntimeError(f"bastion did not start:\n{log.read_text()[-3000:]}")
    ready = json.loads(line)
    return BastionProc(proc, path, workdir, ready["ports"], log, ready)


def journal_events(directory: Path) -> list[dict[str, Any]]:
    """Every complete audit event in a journal directory, in order (all segments)."""
    from bastion.audit.segments import iter_all_segment, list_segments

    return [r["event"] for segment in list_segments(directory) for r in iter_all_segment(segment.path)]


def mysql_bastion_config(workdir: Path, mariadb: MariaDB) -> dict[str, Any]:
    """A MySQL-only demo configuration for a bastion of a test's own, its upstream
    credentials already in the vault; start it with :func:`start_bastion` (after changes)."""
    ports = {"web": free_port(), "mysql": free_port()}
    config = demo_config(workdir, db=mariadb, sshd=None, idp_metadata_url=None, ports=ports, protocols={"mysql"},
                         sp_base_url="http://127.0.0.1")
    path = write_config(workdir / "bastion.yaml", config)
    for account, (_u, password, _g) in UPSTREAM_ACCOUNTS.items():
        subprocess.run([sys.executable, "-m", "bastion.cli", "credentials", "set", f"shop-db/{account}",
                        "--config", str(path)], input=password.encode(), check=True, capture_output=True, cwd=ROOT)
    return config


def stop_bastion(b: BastionProc) -> int:
    if b.proc.poll() is None:
        b.proc.send_signal(signal.SIGTERM)
        try:
            return b.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            b.proc.kill()
            b.proc.wait()
            return -9
    return b.proc.returncode


@pytest.fixture(scope="session")
def bastion(tmp_path_factory: pytest.TempPathFactory, mariadb: MariaDB, bastion_ports: dict[str, int],
            idp: SimpleSAMLphp) -> Iterator[BastionProc]:
    workdir = tmp_path_factory.mktemp("bastion")
    ports = bastion_ports
    config = demo_config(workdir, db=mariadb, sshd=None, idp_metadata_url=idp.metadata_url, ports=ports,
                         protocols={"mysql"}, sp_base_url=f"http://127.0.0.1:{ports['web']}")
    path = write_config(workdir / "bastion.yaml", config)
    for account, (_user, password, _grant) in UPSTREAM_ACCOUNTS.items():
        res = subprocess.run([sys.executable, "-m", "bastion.cli", "credentials", "set", f"shop-db/{account}",
                              "--config", str(path)], input=password.encode(), capture_output=True, cwd=ROOT)
        assert res.returncode == 0, res.stderr.decode()
    b = start_bastion(workdir, config)
    yield b
    code = stop_bastion(b)
    assert code == 0, f"bastion exited with {code}:\n{b.log_text()[-3000:]}"


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.05):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SSHD]:
    """A private OpenSSH sshd (OS user ``SSH_USER``, random password, ed25519 client key)."""
    # Not under pytest's 0700 basetemp: sshd reads authorized_keys (and the shell enters the
    # home directory) as the test user, who must be able to traverse every parent directory.
    del tmp_path_factory
    workdir = Path(tempfile.mkdtemp(prefix="bastion-sshd-"))
    server = SSHD(workdir, SSH_USER, secrets.token_urlsafe(12))
    try:
        server.start()
    except (ServiceError, OSError, subprocess.CalledProcessError) as exc:
        server.stop()
        service_failed("sshd", exc)
    yield server
    server.stop()
    server.remove_user()
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def open_bastion(tmp_path_factory: pytest.TempPathFactory, mariadb: MariaDB) -> Iterator[BastionProc]:
    """A second bastion on the same MariaDB with only the access stage (no guardrails):
    for workloads the demo's guardrails would hold or deny (sysbench deletes rows)."""
    from bastion.demo.stack import mysql_config, store_credentials

    workdir = tmp_path_factory.mktemp("open-bastion")
    config = mysql_config(workdir, mariadb, allow_all=True)
    store_credentials(write_config(workdir / "bastion.yaml", config))
    b = start_bastion(workdir, config)
    yield b
    code = stop_bastion(b)
    assert code == 0, f"bastion exited with {code}:\n{b.log_text()[-3000:]}"


@pytest.fixture(scope="session")
def bastion_ports() -> dict[str, int]:
    """The shared bastion's ports, picked before anything starts: the IdP must know the SP's URLs."""
    return {"web": free_port(), "mysql": free_port(), "ssh": free_port()}


@pytest.fixture(scope="session")
def idp(tmp_path_factory: pytest.TempPathFactory, bastion_ports: dict[str, int]) -> Iterator[SimpleSAMLphp]:
    """SimpleSAMLphp (users alice/bob/carol/dave, see bastion.demo.idp) with the shared bastion as its SP."""
    base = f"http://127.0.0.1:{bastion_ports['web']}"
    server = SimpleSAMLphp(tmp_path_factory.mktemp("idp"), f"{base}/saml/metadata", f"{base}/saml/acs",
                           f"{base}/saml/sls")
    try:
        server.start()
    except (ServiceError, OSError, RuntimeError, subprocess.CalledProcessError) as exc:
        server.stop()
        service_failed("SimpleSAMLphp", exc)
    yield server
    server.stop()


def _search_node(tmp_path_factory: pytest.TempPathFactory, engine: str):  # type: ignore[no-untyped-def]
    """A started node of ``engine`` (``opensearch`` or ``elasticsearch``) on a free port, or a failure."""
    from tests.search import elasticsearch, opensearch

    module, kind, name = ((opensearch, opensearch.OpenSearchNode, "OpenSearch") if engine == "opensearch"
                          else (elasticsearch, elasticsearch.ElasticsearchNode, "Elasticsearch"))
    node = None
    try:
        node = kind(tmp_path_factory.mktemp(engine), module.build())
        node.start()
    except (opensearch.EngineError, OSError) as exc:
        if node is not None:
            node.stop()
        service_failed(name, exc)
    assert node is not None
    return node


@pytest.fixture(scope="session")
def opensearch_node(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """An embedded OpenSearch 2.19 node (tests/search/launcher, built by Maven) on a free port."""
    node = _search_node(tmp_path_factory, "opensearch")
    yield node
    node.stop()


@pytest.fixture(scope="session")
def elasticsearch_node(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """An embedded Elasticsearch 9.1 node (tests/search/es-launcher, Maven, a Java 21+ JDK) on a free port."""
    node = _search_node(tmp_path_factory, "elasticsearch")
    yield node
    node.stop()
