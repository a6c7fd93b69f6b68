"""Idle timeout and maximum session length (a bastion with short limits of its own)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import paramiko
import pytest

from bastion.demo.services import free_port
from bastion.demo.setup import write_config
from tests.integration.conftest import start_bastion, stop_bastion, wait_for
from tests.integration.ssh.conftest import SSHEnv, bastion_known_hosts, provision, ssh_config


@pytest.fixture(scope="module")
def short_env(tmp_path_factory, sshd, mariadb) -> Iterator[SSHEnv]:  # type: ignore[no-untyped-def]
    workdir = tmp_path_factory.mktemp("ssh-short")
    config = ssh_config(workdir, sshd, mariadb, free_port(), idle_timeout=2,
                        options={"max_session_seconds": 5, "keepalive": 1})
    keys = provision(write_config(workdir / "bastion.yaml", config), sshd, workdir)
    b = start_bastion(workdir, config)
    yield SSHEnv(b, sshd, keys, bastion_known_hosts(workdir / "var", b.ports["ssh"], workdir / "known"))
    assert stop_bastion(b) == 0


def _shell(env: SSHEnv, command: str | None = None) -> tuple[paramiko.Transport, paramiko.Channel]:
    transport = paramiko.Transport(("127.0.0.1", env.port))
    transport.connect(username="ssh-host", password=env.token())
    chan = transport.open_session()
    if command is None:
        chan.get_pty()
        chan.invoke_shell()
    else:
        chan.exec_command(command)
    return transport, chan


def _drain_until_closed(chan: paramiko.Channel, timeout: float, keep_typing: bool = False) -> bytes:
    out, deadline, last_key = b"", time.monotonic() + timeout, 0.0
    chan.settimeout(0.2)
    while time.monotonic() < deadline and not chan.closed:
        if keep_typing and time.monotonic() - last_key > 0.5:
            chan.send(b" ")
            last_key = time.monotonic()
        for recv in (chan.recv, chan.recv_stderr):
            try:
                out += recv(65536)
            except TimeoutError:
                pass
    return out


def test_idle_session_is_closed(short_env):
    started = time.monotonic()  # idle time counts from the connection (setup may be slow under load)
    transport, chan = _shell(short_env)
    try:
        out = _drain_until_closed(chan, 10)
    finally:
        transport.close()
    assert 2 <= time.monotonic() - started < 9
    assert b"bastion: idle timeout (2s without input), closing the connection" in out
    ended = wait_for(lambda: [e for e in short_env.journal("session.end") if "idle" in e["data"]["reason"]])
    assert ended


def test_session_length_is_capped_even_when_busy(short_env):
    started = time.monotonic()  # the session's length counts from its start
    transport, chan = _shell(short_env, "cat > /dev/null")
    try:
        _drain_until_closed(chan, 12, keep_typing=True)
    finally:
        transport.close()
    assert 5 <= time.monotonic() - started < 12
    assert wait_for(lambda: [e for e in short_env.journal("session.end") if "maximum" in e["data"]["reason"]])
