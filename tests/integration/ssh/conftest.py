"""SSH fixtures: one bastion process (``bastion serve``) in front of the test sshd.

Targets (all the same sshd, reached with the vaulted key unless noted):

* ``ssh-host`` — the normal target; forwarding allowed to the MariaDB port only;
* ``ssh-pw`` — upstream login with a vaulted password instead of a key;
* ``ssh-changed`` — its known_hosts pins a different key (a "changed" host key);
* ``ssh-unknown`` — its known_hosts is empty (no trust on first use).

Users: ``alice`` (group ``ops``: access) with a registered key, ``bob`` (group
``developers``: no SSH access) with a registered key.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from bastion.core.types import Identity
from bastion.demo.services import SSHD, MariaDB, free_port
from bastion.demo.setup import write_config
from bastion.runtime.bootstrap import load_checked, open_store
from bastion.state.directory import LoginLinks, SSHKeys, UserDirectory
from bastion.state.store import StateStore
from bastion.state.tokens import TokenStore
from tests.integration.conftest import BastionProc, start_bastion, stop_bastion

SSH_TARGETS = ("ssh-host", "ssh-pw", "ssh-changed", "ssh-unknown")


def keygen(path: Path, kind: str = "ed25519") -> Path:
    if not path.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", path.name, "-f", str(path)], check=True)
    return path


def ssh_config(workdir: Path, sshd: SSHD, mariadb: MariaDB, port: int, **listener: Any) -> dict[str, Any]:
    good = workdir / "known_hosts"
    good.write_text(sshd.known_hosts_line() + "\n")
    other = keygen(workdir / "impostor_host_key")
    changed = workdir / "known_hosts_changed"
    changed.write_text(f"[127.0.0.1]:{sshd.port} " + " ".join(Path(f"{other}.pub").read_text().split()[:2]) + "\n")
    unknown = workdir / "known_hosts_empty"
    unknown.write_text("")

    def target(name: str, known: Path, **options: Any) -> dict[str, Any]:
        return {"name": name, "protocol": "ssh", "host": "127.0.0.1", "port": sshd.port, "tags": ["test"],
                "accounts": ["bastiontest"],
                "options": {"known_hosts": str(known), "users": {"bastiontest": sshd.user}, **options}}

    policies = workdir / "policies.yaml"
    policies.write_text(yaml.safe_dump({"access": [
        {"id": "ops-ssh", "groups": ["ops"], "targets": list(SSH_TARGETS), "account": "bastiontest"},
    ], "masking": [
        {"id": "cards", "scope": {"unless_groups": ["pci"]}, "recognizers": ["card"], "style": "partial"},
    ]}))
    options = {"portal_url": "http://portal.test", "exec_capture_bytes": 4096, "record_input": True,
               **listener.pop("options", {})}
    return {
        "state_dir": str(workdir / "var"),
        "listeners": {"ssh": {"port": port, "handshake_timeout": 10, "options": options, **listener}},
        "targets": [target("ssh-host", good, allow_forward=[f"127.0.0.1:{mariadb.port}"]),
                    target("ssh-pw", good), target("ssh-changed", changed), target("ssh-unknown", unknown)],
        "policies": {"files": [str(policies)], "stages": ["access"]},
        "audit": {"sinks": ["journal"]},
    }


def provision(config_path: Path, sshd: SSHD, workdir: Path) -> dict[str, Path]:
    """Vault entries, users as of their last SAML login and their registered keys."""
    settings, _ = load_checked(str(config_path))
    store, _, vault = open_store(settings)
    key = sshd.client_key.read_bytes()
    for name in SSH_TARGETS:
        if name == "ssh-pw":
            vault.set(name, "bastiontest", "password", sshd.password.encode())
        else:
            vault.set(name, "bastiontest", "ssh-key", key)
    keys = {}
    for user, groups in (("alice", ["ops"]), ("bob", ["developers"])):
        UserDirectory(store).remember(Identity(subject=user, email=f"{user}@example.org", groups=frozenset(groups),
                                               idp="saml"))
        keys[user] = keygen(workdir / f"{user}_key")
        SSHKeys(store).add(user, Path(f"{keys[user]}.pub").read_text())
    keys["stranger"] = keygen(workdir / "stranger_key")
    store.dispose()
    return keys


@dataclass
class SSHEnv:
    """A running bastion with the SSH listener, plus what a test needs to talk to it."""

    bastion: BastionProc
    sshd: SSHD
    keys: dict[str, Path]
    known_hosts: Path
    """The bastion's host keys, from ``host_keys.json``, for the OpenSSH client."""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def port(self) -> int:
        return self.bastion.ports["ssh"]

    @property
    def state_dir(self) -> Path:
        return self.bastion.workdir / "var"

    def store(self) -> StateStore:
        return StateStore(f"sqlite:///{self.state_dir}/state.db")

    def links(self) -> LoginLinks:
        return LoginLinks(self.store())

    def token(self, user: str = "alice", groups: tuple[str, ...] = ("ops",), ttl: float = 600) -> str:
        """A bastion token issued straight into the state store (as the portal would)."""
        token, _ = TokenStore(self.store()).issue(user, set(groups), ttl, reason="CHG-7", created_by="test")
        return token

    def ssh_argv(self, user: str, *args: str, key: str | None = "alice", batch: bool = True) -> list[str]:
        argv = ["ssh", "-p", str(self.port), "-o", f"UserKnownHostsFile={self.known_hosts}",
                "-o", "StrictHostKeyChecking=yes", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10",
                "-F", "/dev/null"]
        if batch:
            argv += ["-o", "BatchMode=yes"]
        if key:
            argv += ["-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-i", str(self.keys[key])]
        return [*argv, f"{user}@127.0.0.1", *args]

    def ssh(self, user: str, *args: str, key: str | None = "alice", input: bytes | None = None,
            timeout: float = 30) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(self.ssh_argv(user, *args, key=key), input=input, capture_output=True, timeout=timeout)

    def client_opts(self, key: str = "alice") -> list[str]:
        """Options for scp/sftp (they take -P/-p differently, so no port here)."""
        return ["-o", f"UserKnownHostsFile={self.known_hosts}", "-o", "StrictHostKeyChecking=yes",
                "-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "-F", "/dev/null", "-o", "IdentitiesOnly=yes",
                "-o", "IdentityAgent=none", "-i", str(self.keys[key])]

    def journal(self, type_: str | None = None) -> list[dict[str, Any]]:
        """Audit events so far (the bastion may be writing the last line right now)."""
        path = self.state_dir / "audit" / "journal.jsonl"
        events = []
        for line in path.read_text().splitlines() if path.exists() else []:
            try:
                events.append(json.loads(line)["event"])
            except ValueError:
                break  # a line still being written
        return [e for e in events if type_ is None or e.get("type") == type_]

    def accepted_upstream(self) -> int:
        """Logins the target's sshd accepted so far (proves whether the bastion went upstream)."""
        return self.sshd.log.read_text(errors="replace").count("Accepted ")


@contextmanager
def private_sshd(user: str, prefix: str) -> Iterator[tuple[SSHD, Path]]:
    """An sshd of a test module's own (OS user ``user``, not started) and a work directory
    for its bastion; stopped and removed, user included, afterwards."""
    root = Path(tempfile.mkdtemp(prefix=prefix))  # sshd's user must traverse it (not pytest's 0700)
    os.chmod(root, 0o711)
    server = SSHD(root / "sshd", user, secrets.token_urlsafe(12))
    (root / "bastion").mkdir()
    try:
        yield server, root / "bastion"
    finally:
        server.stop()
        server.remove_user()
        shutil.rmtree(root, ignore_errors=True)


def serving(b: BastionProc, server: SSHD, keys: dict[str, Path], **extra: Any) -> Iterator[SSHEnv]:
    """The environment of a started bastion ``b`` in front of ``server``, for a fixture to
    ``yield from``; the bastion must exit cleanly when it is stopped."""
    workdir = b.workdir
    yield SSHEnv(b, server, keys, bastion_known_hosts(workdir / "var", b.ports["ssh"], workdir / "bastion_known"),
                 extra=extra)
    code = stop_bastion(b)
    assert code == 0, b.log_text()[-3000:]


def bastion_known_hosts(state_dir: Path, port: int, path: Path) -> Path:
    keys = json.loads((state_dir / "ssh" / "host_keys.json").read_text())
    path.write_text("".join(f"[127.0.0.1]:{port} {k['public_key']}\n" for k in keys))
    return path


@pytest.fixture(scope="session")
def ssh_env(tmp_path_factory: pytest.TempPathFactory, sshd: SSHD, mariadb: MariaDB) -> Iterator[SSHEnv]:
    workdir = tmp_path_factory.mktemp("ssh-bastion")
    config = ssh_config(workdir, sshd, mariadb, free_port())
    keys = provision(write_config(workdir / "bastion.yaml", config), sshd, workdir)
    b = start_bastion(workdir, config)
    env = SSHEnv(b, sshd, keys, bastion_known_hosts(workdir / "var", b.ports["ssh"], workdir / "bastion_known_hosts"))
    yield env
    code = stop_bastion(b)
    assert code == 0, f"bastion exited with {code}:\n{b.log_text()[-3000:]}"


def guard_rules(allow_port: int) -> list[dict[str, Any]]:
    """The real guardrail engine, with rules keyed on markers the tests use."""
    return [
        {"id": "no-forbidden", "action": "deny", "match": {"command_regex": "forbidden"},
         "message": "forbidden commands are blocked"},
        {"id": "review", "action": "review", "match": {"command_regex": "needs-review"},
         "review": {"approvers": ["approvers"], "hold_seconds": 8}, "description": "needs a second pair of eyes"},
        {"id": "no-denied-files", "action": "deny", "match": {"paths": ["*denied*"]},
         "message": "files named 'denied' are off limits"},
        {"id": "forward-ok", "action": "allow", "match": {"forward_to": [f"*:{allow_port}"]}},
        {"id": "no-rm-rf", "action": "deny", "scope": {"protocols": ["ssh"]},
         "match": {"programs": ["rm"], "command_regex": r"\s-\w*[rR]"}, "message": "no recursive deletes"},
    ]


@pytest.fixture(scope="session")
def guarded_env(tmp_path_factory: pytest.TempPathFactory, sshd: SSHD, mariadb: MariaDB) -> Iterator[SSHEnv]:
    """The same targets behind a bastion running the guardrail engine (rules in guard_rules)."""
    workdir = tmp_path_factory.mktemp("ssh-guarded")
    config = ssh_config(workdir, sshd, mariadb, free_port())
    rules = workdir / "guardrails.yaml"
    rules.write_text(yaml.safe_dump({"guardrails": guard_rules(sshd.port)}))
    config["policies"] = {"files": [*config["policies"]["files"], str(rules)], "stages": ["access", "guardrails"]}
    keys = provision(write_config(workdir / "bastion.yaml", config), sshd, workdir)
    b = start_bastion(workdir, config)
    env = SSHEnv(b, sshd, keys, bastion_known_hosts(workdir / "var", b.ports["ssh"], workdir / "bastion_known_hosts"))
    yield env
    code = stop_bastion(b)
    assert code == 0, f"guarded bastion exited with {code}:\n{b.log_text()[-3000:]}"
