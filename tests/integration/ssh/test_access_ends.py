"""SSH: a revoked token ends its open shell within two seconds (with a notice); failed logins
are capped per connection and throttled across connections; a token pasted as the user
name never reaches the log or the audit; half-open connections are dropped at the
handshake deadline."""

from __future__ import annotations

import socket
import time

import paramiko
import pytest

from bastion.demo.services import free_port
from bastion.demo.setup import write_config
from tests.integration.conftest import start_bastion, stop_bastion, wait_for
from tests.integration.ssh.conftest import SSHEnv, bastion_known_hosts, provision, ssh_config


def test_revoking_the_token_ends_an_open_shell(ssh_env):
    token = ssh_env.token()
    transport = paramiko.Transport(("127.0.0.1", ssh_env.port))
    transport.connect(username="ssh-host", password=token)
    chan = transport.open_session()
    chan.get_pty()
    chan.invoke_shell()
    chan.settimeout(0.2)
    chan.send(b"echo still-open\n")
    out = b""
    deadline = time.monotonic() + 20
    while b"still-open" not in out and time.monotonic() < deadline:
        try:
            out += chan.recv(65536)
        except TimeoutError:
            pass
    from bastion.state.tokens import TokenStore

    TokenStore(ssh_env.store()).revoke(token.split("_")[1])
    deadline = time.monotonic() + 10
    while transport.is_active() and time.monotonic() < deadline:
        for recv in (chan.recv, chan.recv_stderr):
            try:
                out += recv(65536)
            except (TimeoutError, OSError, EOFError):
                pass
    assert not transport.is_active()
    assert b"token was revoked" in out
    transport.close()
    ends = wait_for(lambda: [e for e in ssh_env.journal("session.end") if "token was revoked" in e["data"]["reason"]])
    assert ends


def test_a_token_pasted_as_the_user_name_is_never_logged(ssh_env):
    token = ssh_env.token()
    transport = paramiko.Transport(("127.0.0.1", ssh_env.port))
    transport.start_client(timeout=10)
    with pytest.raises(paramiko.AuthenticationException):
        transport.auth_password(token, "wrong")
    transport.close()
    wait_for(lambda: [e for e in ssh_env.journal("auth") if "[bastion token]" in str(e["data"])])
    secret = token.split("_", 2)[2]
    assert secret not in ssh_env.bastion.log_text()
    assert secret not in (ssh_env.state_dir / "audit" / "journal.jsonl").read_text()


@pytest.fixture()
def strict_env(tmp_path, sshd, mariadb):  # type: ignore[no-untyped-def]
    config = ssh_config(tmp_path, sshd, mariadb, free_port())
    config["listeners"]["ssh"]["handshake_timeout"] = 3
    config["listeners"]["web"] = {"port": free_port(), "handshake_timeout": 3}
    config["login_throttle"] = {"free_attempts": 20, "base_delay": 30, "max_delay": 60, "window": 600}
    keys = provision(write_config(tmp_path / "bastion.yaml", config), sshd, tmp_path)
    b = start_bastion(tmp_path, config)
    yield SSHEnv(b, sshd, keys, bastion_known_hosts(tmp_path / "var", b.ports["ssh"], tmp_path / "known"))
    stop_bastion(b)


def test_a_connection_gets_at_most_six_attempts_then_the_address_is_throttled(strict_env):
    tried = 0
    transport = paramiko.Transport(("127.0.0.1", strict_env.port))
    transport.start_client(timeout=10)
    for _ in range(11):
        try:
            transport.auth_password("ssh-host", f"bst_0000_wrong{tried}")
        except paramiko.AuthenticationException:
            tried += 1
        except (paramiko.SSHException, EOFError, OSError):
            break
    transport.close()
    refused = wait_for(lambda: strict_env.journal("auth"), timeout=30)  # written when the connection ends
    assert len(refused[0]["data"]["reasons"]) == 6
    for n in range(3):  # 6 + 3*6 + 2 failures > 20: this address is now blocked
        t = paramiko.Transport(("127.0.0.1", strict_env.port))
        t.start_client(timeout=10)
        for i in range(6):
            try:
                t.auth_password("ssh-host", f"bst_0000_wrong{n}{i}")
            except (paramiko.AuthenticationException, paramiko.SSHException, EOFError, OSError):
                pass
        t.close()
    good = strict_env.token()
    t = paramiko.Transport(("127.0.0.1", strict_env.port))
    t.start_client(timeout=10)
    with pytest.raises(paramiko.AuthenticationException):
        t.auth_password("ssh-host", good)
    t.close()
    assert wait_for(lambda: [e for e in strict_env.journal("auth") if "throttled" in str(e["data"]["reasons"])],
                    timeout=30)


@pytest.mark.parametrize("listener", ["ssh", "web"])
def test_half_open_connections_are_dropped_at_the_handshake_deadline(strict_env, listener):
    port = strict_env.bastion.ports[listener]
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(b"SSH-2.0-slow\r\n" if listener == "ssh" else b"GET / HTTP/1.1\r\nHost: x\r\n")
        sock.settimeout(30)  # the deadline is 3 s; anything under 30 s is the bastion's doing
        data = b""
        while True:
            try:
                chunk = sock.recv(65536)  # a TimeoutError here (30 s) fails the test
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                break
            data += chunk
    # closed by the bastion (recv returned end of stream), not by our 30 s limit
