"""SSH fails closed too when the journal cannot write: an open shell is ended with a
message, and a new command is refused before it reaches the target."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest

from bastion.demo.services import free_port
from bastion.demo.setup import write_config
from tests.integration.conftest import start_bastion, stop_bastion
from tests.integration.ssh.conftest import SSHEnv, bastion_known_hosts, provision, ssh_config


@pytest.fixture()
def fragile_env(tmp_path, sshd, mariadb) -> Iterator[SSHEnv]:  # type: ignore[no-untyped-def]
    config = ssh_config(tmp_path, sshd, mariadb, free_port())
    config["audit"] = {**config["audit"], "rotate_bytes": 4096}
    keys = provision(write_config(tmp_path / "bastion.yaml", config), sshd, tmp_path)
    b = start_bastion(tmp_path, config)
    env = SSHEnv(b, sshd, keys, bastion_known_hosts(tmp_path / "var", b.ports["ssh"], tmp_path / "known"))
    try:
        yield env
    finally:
        journal_dir = env.state_dir / "audit"
        moved = journal_dir.with_name("audit-moved")
        if moved.exists() and not journal_dir.exists():
            moved.rename(journal_dir)
        stop_bastion(b)


def test_open_shell_ended_and_new_commands_refused(fragile_env):
    env = fragile_env
    transport = paramiko.Transport(("127.0.0.1", env.port))
    transport.connect(username="ssh-host", password=env.token())
    chan = transport.open_session()
    chan.get_pty()
    chan.invoke_shell()
    chan.settimeout(0.2)
    journal_dir: Path = env.state_dir / "audit"
    journal_dir.rename(journal_dir.with_name("audit-moved"))
    out, deadline = b"", time.monotonic() + 30
    while time.monotonic() < deadline and not chan.closed:
        try:
            chan.send(b"echo audited-line-that-fills-the-journal-segment-quickly-" + b"x" * 200 + b"\n")
        except (OSError, EOFError):
            break
        for recv in (chan.recv, chan.recv_stderr):
            try:
                out += recv(65536)
            except TimeoutError:
                pass
        if b"audit trail cannot be written" in out:
            break
    for recv in (chan.recv, chan.recv_stderr):  # the channel may close before the loop read its last words
        try:
            while chunk := recv(65536):
                out += chunk
        except (TimeoutError, OSError, EOFError):
            pass
    assert b"audit trail cannot be written" in out, out[-500:]
    deadline = time.monotonic() + 10
    while transport.is_active() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not transport.is_active()
    transport.close()

    before = env.accepted_upstream()
    res = env.ssh("ssh-host", "echo should-not-run", timeout=30)
    assert res.returncode != 0 and b"should-not-run" not in res.stdout
    assert env.accepted_upstream() == before  # refused before the bastion went upstream
    assert env.bastion.proc.poll() is None
