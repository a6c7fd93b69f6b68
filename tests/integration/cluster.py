"""Two bastion nodes of two workers each behind a real HAProxy, as docs/deployment.md runs
them: one MariaDB state store, one OpenSearch index, the same vault key, portal cookie
key, TLS certificate and SSH host keys on both, each node with its own state directory
and journals.

The IdP knows one service provider: the load balancer's portal URL. Every node can also
be reached directly (its own ports), which is how a test makes sure that something begun
on one node is finished on the other.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from bastion.config.model import TLSConfig
from bastion.core.types import Identity
from bastion.demo.haproxy import Backend, Frontend, HAProxy
from bastion.demo.services import SSHD, MariaDB, free_port
from bastion.demo.setup import UPSTREAM_ACCOUNTS, demo_config, write_config
from bastion.runtime.bootstrap import load_checked, open_store
from bastion.runtime.tls import ensure_certificate
from bastion.state.directory import UserDirectory
from plugins.ssh.hostkeys import ensure_host_keys
from tests.integration.conftest import ROOT, BastionProc, wait_for

WORKERS = 2
STATE_DB = "bastion_state_ha"


@dataclass
class Node:
    name: str
    workdir: Path
    ports: dict[str, int]
    config: dict[str, Any]
    proc: BastionProc | None = None

    @property
    def config_path(self) -> Path:
        return self.workdir / "bastion.yaml"

    @property
    def journal_dir(self) -> Path:
        return self.workdir / "var" / "audit"

    def start(self, timeout: float = 60) -> BastionProc:
        log = self.workdir / "bastion.log"
        with open(log, "ab") as out:
            proc = subprocess.Popen([sys.executable, "-m", "bastion.cli", "serve", "--config", str(self.config_path)],
                                    stdout=subprocess.PIPE, stderr=out, cwd=ROOT, start_new_session=True)
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            proc.wait(timeout=10)
            raise RuntimeError(f"node {self.name} did not start:\n{log.read_text()[-3000:]}")
        self.proc = BastionProc(proc, self.config_path, self.workdir, json.loads(line)["ports"], log)
        assert wait_for(self.ready, timeout=timeout), f"node {self.name} never became ready:\n{self.log_tail()}"
        return self.proc

    def ready(self) -> bool:
        try:
            return requests.get(f"http://127.0.0.1:{self.ports['web']}/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        if self.proc is None or self.proc.proc.poll() is not None:
            return self.proc.proc.returncode if self.proc else 0
        self.proc.proc.send_signal(sig)
        try:
            return self.proc.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return -9

    def kill(self) -> None:
        """SIGKILL the whole node: supervisor, workers and indexer (its process group)."""
        if self.proc is not None and self.proc.proc.poll() is None:
            import os

            os.killpg(self.proc.proc.pid, signal.SIGKILL)
            self.proc.proc.wait(timeout=10)

    def cli(self, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([sys.executable, "-m", "bastion.cli", *args, "--config", str(self.config_path)],
                              input=stdin, capture_output=True, cwd=ROOT, timeout=120)

    def token(self, user: str = "alice", groups: str = "dba") -> str:
        res = self.cli("tokens", "issue", "--user", user, "--groups", groups, "--ttl", "3600", "--json")
        assert res.returncode == 0, res.stderr.decode()
        return str(json.loads(res.stdout)["token"])

    def log_tail(self, n: int = 3000) -> str:
        path = self.workdir / "bastion.log"
        return path.read_text(errors="replace")[-n:] if path.exists() else "(no log)"


@dataclass
class Cluster:
    nodes: list[Node]
    lb: HAProxy
    mariadb: MariaDB
    sshd: SSHD
    shared: Path
    extra: dict[str, Any] = field(default_factory=dict)

    def port(self, frontend: str) -> int:
        return self.lb.front_port(frontend)

    @property
    def portal_url(self) -> str:
        return f"http://127.0.0.1:{self.port('web')}"

    def stop(self) -> None:
        self.lb.stop()
        for node in self.nodes:
            node.stop()


def plan(base: Path) -> tuple[list[dict[str, int]], HAProxy]:
    """Ports of both nodes and the load balancer in front of them (not started)."""
    ports = [{"web": free_port(), "mysql": free_port(), "ssh": free_port()} for _ in range(2)]
    fronts = [Frontend(kind, "http" if kind == "web" else "tcp",
                       [Backend(f"node{i}", p[kind], p["web"]) for i, p in enumerate(ports)])
              for kind in ("web", "mysql", "ssh")]
    return ports, HAProxy(base / "haproxy", fronts)


def shared_files(base: Path) -> dict[str, Path]:
    """What every node must hold the same copy of (docs/deployment.md)."""
    shared = base / "shared"
    shared.mkdir(mode=0o700, parents=True, exist_ok=True)
    cert, key = ensure_certificate(TLSConfig(hostnames=["127.0.0.1", "localhost"]), shared / "tls")
    ssh_keys = shared / "ssh-state"
    ssh_keys.mkdir(mode=0o700, exist_ok=True)
    ensure_host_keys(ssh_keys)
    return {"cert": Path(cert), "key": Path(key), "vault": shared / "vault.key", "secret": shared / "web-secret.key",
            "ssh": ssh_keys / "ssh"}


def node_config(node: Node, *, mariadb: MariaDB, sshd: SSHD, idp_metadata_url: str, portal_url: str,
                index_url: str, files: dict[str, Path], index_prefix: str) -> dict[str, Any]:
    config = demo_config(node.workdir, db=mariadb, sshd=sshd, idp_metadata_url=idp_metadata_url, ports=node.ports,
                         protocols={"mysql", "ssh"}, sp_base_url=portal_url)
    for target in config["targets"]:
        if target["protocol"] == "ssh":  # the demo's access rule names the account "sshdemo"
            target["accounts"] = ["sshdemo"]
            target["options"]["users"] = {"sshdemo": sshd.user}
    config.update({
        "server": {"workers": WORKERS, "node_id": node.name, "drain_seconds": 5},
        "state": {"url": f"mysql+pymysql://bastion_admin:admin-secret-pw@127.0.0.1:{mariadb.port}/{STATE_DB}"},
        "vault": {"key_file": str(files["vault"])},
        "secret_key_file": str(files["secret"]),
        "tls": {"cert_file": str(files["cert"]), "key_file": str(files["key"])},
        "login_throttle": {"enabled": False},
    })
    config["audit"] = {**config["audit"], "index": {"backend": "opensearch", "url": index_url,
                                                    "index_prefix": index_prefix, "poll_interval": 0.2}}
    return config


def provision(node: Node, sshd: SSHD) -> None:
    """Upstream credentials in the shared vault, and the demo users as of their last SSO login."""
    for account, (_u, password, _g) in UPSTREAM_ACCOUNTS.items():
        res = node.cli("credentials", "set", f"shop-db/{account}", stdin=password.encode())
        assert res.returncode == 0, res.stderr.decode()
    settings, _ = load_checked(str(node.config_path))
    store, _, vault = open_store(settings)
    vault.set("demo-host", "sshdemo", "ssh-key", sshd.client_key.read_bytes())
    for user, groups in (("alice", {"dba", "admins"}), ("carol", {"approvers", "auditors"})):
        UserDirectory(store).remember(Identity(subject=user, groups=frozenset(groups), idp="saml"))
    store.dispose()


def build(base: Path, *, mariadb: MariaDB, sshd: SSHD, idp_metadata_url: str, ports: list[dict[str, int]],
          lb: HAProxy, index_url: str) -> Cluster:
    """Configure both nodes (shared files copied into each state directory), provision the
    shared state, start the nodes and the load balancer."""
    mariadb.sql(f"DROP DATABASE IF EXISTS {STATE_DB}; CREATE DATABASE {STATE_DB} CHARACTER SET utf8mb4;")
    files = shared_files(base)
    portal = f"http://127.0.0.1:{lb.front_port('web')}"
    prefix = f"ha-{int(time.time())}"
    nodes = []
    for i, node_ports in enumerate(ports):
        node = Node(f"node-{'ab'[i]}", base / f"node-{'ab'[i]}", node_ports, {})
        (node.workdir / "var").mkdir(mode=0o700, parents=True, exist_ok=True)
        shutil.copytree(files["ssh"], node.workdir / "var" / "ssh", dirs_exist_ok=True)
        for path in (node.workdir / "var" / "ssh").iterdir():  # made outside `bastion serve`'s umask
            path.chmod(0o600)
        node.config = node_config(node, mariadb=mariadb, sshd=sshd, idp_metadata_url=idp_metadata_url,
                                  portal_url=portal, index_url=index_url, files=files,
                                  index_prefix=prefix)
        write_config(node.config_path, node.config)
        nodes.append(node)
    provision(nodes[0], sshd)
    cluster = Cluster(nodes, lb, mariadb, sshd, base / "shared")
    try:
        for node in nodes:
            node.start()
        lb.start()
    except BaseException:
        cluster.stop()
        raise
    return cluster
