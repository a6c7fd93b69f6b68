"""Port forwarding: ``-L`` only to allowed destinations, ``-R`` and agent forwarding refused."""

from __future__ import annotations

import socket
import subprocess
import time

from bastion.demo.services import free_port
from tests.integration.conftest import wait_for


def _connect(port: int) -> socket.socket | None:
    try:
        return socket.create_connection(("127.0.0.1", port), timeout=5)
    except OSError:
        return None


def test_local_forward_allowed_and_denied(ssh_env, mariadb):
    allowed, denied = free_port(), free_port()
    argv = ssh_env.ssh_argv("ssh-host", "-N", "-o", "ExitOnForwardFailure=yes",
                            "-L", f"{allowed}:127.0.0.1:{mariadb.port}",
                            "-L", f"{denied}:127.0.0.1:{ssh_env.sshd.port}")
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        sock = wait_for(lambda: _connect(allowed), timeout=10)
        assert sock is not None
        with sock:
            greeting = sock.recv(4096)  # MariaDB speaks first: its handshake packet
            # the tunnel is on record while it is open
            opened = [e["data"] for e in ssh_env.journal("forward.start") if e["data"]["port"] == mariadb.port]
            assert opened and opened[-1]["verdict"] == "allow"
        assert b"MariaDB" in greeting
        with socket.create_connection(("127.0.0.1", denied), timeout=5) as sock:
            sock.settimeout(5)
            assert sock.recv(4096) == b""  # closed at once: the sshd banner never comes through
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    def forwards(port: int) -> list[dict]:  # type: ignore[type-arg]
        return [e["data"] for e in ssh_env.journal("forward") if e["data"]["port"] == port]

    ok = wait_for(lambda: [e for e in forwards(mariadb.port) if e.get("result") == "closed"])
    no = forwards(ssh_env.sshd.port)
    assert ok and ok[-1]["verdict"] == "allow" and ok[-1]["bytes_out"] >= len(greeting)
    assert ok[-1]["event_id"] == opened[-1]["event_id"]
    assert no and no[-1]["verdict"] == "deny" and no[-1]["rule"] == "ssh:allow_forward"


def test_remote_forward_is_refused(ssh_env):
    started = time.monotonic()
    res = ssh_env.ssh("ssh-host", "-o", "ExitOnForwardFailure=yes", "-R", f"{free_port()}:127.0.0.1:22", "true")
    assert res.returncode == 255 and b"remote port forwarding failed" in res.stderr
    assert time.monotonic() - started < 10


def test_agent_forwarding_is_refused(ssh_env):
    agent = subprocess.run(["ssh-agent", "-s"], capture_output=True, text=True, check=True).stdout
    env_lines = dict(part.split("=", 1) for part in agent.replace(";", "\n").split() if "=" in part)
    try:
        res = subprocess.run(ssh_env.ssh_argv("ssh-host", "-A", "echo sock=${SSH_AUTH_SOCK:-none}"),
                             capture_output=True, timeout=30,
                             env={"PATH": "/usr/bin:/bin", "SSH_AUTH_SOCK": env_lines["SSH_AUTH_SOCK"]})
        assert res.returncode == 0 and res.stdout == b"sock=none\n", res
    finally:
        subprocess.run(["kill", env_lines["SSH_AGENT_PID"]], check=False)
