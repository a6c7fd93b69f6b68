"""``bastion credentials rotate`` of a vaulted SSH key against a real sshd: the new key is
installed through the old one, verified, and the old one removed; a failure (the
authorized_keys file cannot be written) keeps the old key working and vaulted."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest

from bastion.demo.services import SSHD, MariaDB, ServiceError, free_port
from bastion.demo.setup import write_config
from bastion.runtime.bootstrap import load_checked, open_store
from plugins.ssh.upstream import load_private_key
from tests.integration.conftest import SSH_USER, service_failed, start_bastion, stop_bastion
from tests.integration.ssh.conftest import SSHEnv, bastion_known_hosts, provision, ssh_config

ROT_USER = f"{SSH_USER}_rot"[:32]


@pytest.fixture(scope="module")
def rot_env(mariadb: MariaDB) -> Iterator[SSHEnv]:
    root = Path(tempfile.mkdtemp(prefix="bastion-rot-"))
    os.chmod(root, 0o711)
    server = SSHD(root / "sshd", ROT_USER, secrets.token_urlsafe(12))
    workdir = root / "bastion"
    workdir.mkdir()
    b = None
    try:
        server.start()
        shutil.chown(server.authorized / ROT_USER, ROT_USER)  # the account maintains its own file
        config = ssh_config(workdir, server, mariadb, free_port())
        config["targets"][0]["options"]["authorized_keys"] = f"{server.authorized}/%u"
        keys = provision(write_config(workdir / "bastion.yaml", config), server, workdir)
        b = start_bastion(workdir, config)
    except (ServiceError, OSError, subprocess.CalledProcessError) as exc:
        server.stop()
        service_failed("sshd", exc)
    assert b is not None
    yield SSHEnv(b, server, keys, bastion_known_hosts(workdir / "var", b.ports["ssh"], workdir / "bastion_known"))
    code = stop_bastion(b)
    server.stop()
    server.remove_user()
    shutil.rmtree(root, ignore_errors=True)
    assert code == 0, b.log_text()[-3000:]


def vaulted(env: SSHEnv) -> bytes:
    settings, _ = load_checked(str(env.bastion.config))
    store, _, vault = open_store(settings)
    try:
        return vault.get("ssh-host", "bastiontest").value
    finally:
        store.dispose()


def logs_in(env: SSHEnv, private: bytes) -> bool:
    transport = paramiko.Transport(socket.create_connection(("127.0.0.1", env.sshd.port), timeout=10))
    try:
        transport.start_client(timeout=10)
        transport.auth_publickey(ROT_USER, load_private_key(private))
        return transport.is_authenticated()
    except paramiko.AuthenticationException:
        return False
    finally:
        transport.close()


def test_new_key_replaces_the_old(rot_env: SSHEnv) -> None:
    old = vaulted(rot_env)
    res = rot_env.bastion.cli("credentials", "rotate", "ssh-host/bastiontest", "--wait", "60")
    assert res.returncode == 0, res.stderr
    new = vaulted(rot_env)
    assert new != old and logs_in(rot_env, new) and not logs_in(rot_env, old)
    lines = (rot_env.sshd.authorized / ROT_USER).read_text().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ssh-ed25519 ") and "bastion-rotated-" in lines[0]
    run = rot_env.ssh("ssh-host", "echo rotated-$((40+2))")
    assert run.returncode == 0 and run.stdout == b"rotated-42\n", run.stderr
    event = [e for e in rot_env.bastion.journal() if e["type"] == "credential.rotate"][-1]
    assert event["data"]["result"] == "rotated" and event["data"]["kind"] == "ssh-key"  # type: ignore[index]


def test_unwritable_authorized_keys_keeps_the_old_key(rot_env: SSHEnv) -> None:
    before = vaulted(rot_env)
    path = rot_env.sshd.authorized / ROT_USER
    content = path.read_text()
    os.chmod(path, 0o444)
    try:
        res = rot_env.bastion.cli("credentials", "rotate", "ssh-host/bastiontest", "--wait", "60")
    finally:
        os.chmod(path, 0o644)
    assert res.returncode == 1 and b"authorized_keys" in res.stderr, res.stderr
    assert vaulted(rot_env) == before and logs_in(rot_env, before)
    assert path.read_text() == content
    event = [e for e in rot_env.bastion.journal() if e["type"] == "credential.rotate"][-1]
    assert event["data"]["result"] == "failed"  # type: ignore[index]
