"""paramiko as the client: token as password or keyboard-interactive answer, login link, SFTP."""

from __future__ import annotations

import re

import paramiko
import pytest

from bastion.core.types import Identity
from tests.integration.conftest import SSH_USER, wait_for


def _client(ssh_env, user: str = "ssh-host") -> paramiko.Transport:  # type: ignore[no-untyped-def]
    transport = paramiko.Transport(("127.0.0.1", ssh_env.port))
    transport.start_client(timeout=10)
    key = transport.get_remote_server_key()
    known = paramiko.HostKeys(str(ssh_env.known_hosts)).lookup(f"[127.0.0.1]:{ssh_env.port}")
    assert known is not None and known[key.get_name()] == key  # the bastion's published host key
    return transport


def _run(transport: paramiko.Transport, command: str) -> tuple[int, bytes]:
    chan = transport.open_session(timeout=10)
    chan.exec_command(command)
    out = b""
    while data := chan.recv(65536):
        out += data
    return chan.recv_exit_status(), out


def test_token_as_password(ssh_env):
    token = ssh_env.token()
    transport = _client(ssh_env)
    try:
        transport.auth_password("ssh-host", token)
        assert _run(transport, "echo one; exit 4") == (4, b"one\n")
        assert _run(transport, "echo two") == (0, b"two\n")  # a second channel on the same connection
    finally:
        transport.close()
    start = wait_for(lambda: [e for e in ssh_env.journal("session.start") if e["data"].get("auth") == "password"])
    assert start[-1]["data"]["reason"] == "CHG-7" and start[-1]["data"]["token_id"]
    # neither the token (its random part, which may hold "_" itself) nor the vaulted upstream key
    # is written anywhere
    secret = token.split("_", 2)[2]
    vaulted = ssh_env.sshd.client_key.read_text().splitlines()[2]
    for path in [ssh_env.bastion.log, *(ssh_env.state_dir / "audit").glob("*"),
                 *(ssh_env.state_dir / "recordings").glob("*")]:
        text = path.read_text(errors="replace")
        assert secret not in text and vaulted not in text, path


def test_token_as_keyboard_interactive_answer(ssh_env):
    token = ssh_env.token()
    transport = _client(ssh_env)
    try:
        transport.auth_interactive("alice:ssh-host", lambda title, instructions, prompts: [token])
        assert _run(transport, "whoami") == (0, f"{SSH_USER}\n".encode())
    finally:
        transport.close()


def test_login_link_with_paramiko(ssh_env):
    seen: list[str] = []

    def handler(title: str, instructions: str, prompts: list[tuple[str, bool]]) -> list[str]:
        seen.append(prompts[0][0])
        code = re.search(r"/login/([\w-]+)", prompts[0][0])
        assert code is not None
        ssh_env.links().approve(code.group(1), Identity(subject="alice", groups=frozenset({"ops"}), idp="saml"))
        return [""]

    transport = _client(ssh_env)
    try:
        transport.auth_interactive("ssh-host", handler)
        assert _run(transport, "echo approved") == (0, b"approved\n")
    finally:
        transport.close()
    assert "Press Enter after approving in the browser" in seen[0]


@pytest.mark.parametrize("kind", ["garbage", "revoked", "expired", "no-access"])
def test_bad_tokens_fail_and_open_nothing_upstream(ssh_env, kind):
    if kind == "garbage":
        token = "bst_0000_nope"
    elif kind == "no-access":
        token = ssh_env.token("bob", ("developers",))
    else:
        token = ssh_env.token(ttl=0.5 if kind == "expired" else 600)
        if kind == "revoked":
            from bastion.state.tokens import TokenStore

            TokenStore(ssh_env.store()).revoke(token.split("_")[1])
        else:
            import time

            time.sleep(0.6)
    before = ssh_env.accepted_upstream()
    transport = _client(ssh_env)
    try:
        with pytest.raises(paramiko.AuthenticationException):
            transport.auth_password("ssh-host", token)
    finally:
        transport.close()
    assert ssh_env.accepted_upstream() == before


def test_sftp_client(ssh_env, tmp_path):
    transport = _client(ssh_env)
    transport.auth_password("ssh-host", ssh_env.token())
    try:
        sftp = paramiko.SFTPClient.from_transport(transport)
        assert sftp is not None
        payload = bytes(range(256)) * 1000
        with sftp.open("paramiko.bin", "wb") as fh:
            fh.write(payload)
        assert sftp.stat("paramiko.bin").st_size == len(payload)
        assert "paramiko.bin" in sftp.listdir(".")
        with sftp.open("paramiko.bin", "rb") as fh:
            assert fh.read() == payload
        sftp.posix_rename("paramiko.bin", "paramiko2.bin")
        sftp.remove("paramiko2.bin")
        with pytest.raises(OSError):
            sftp.stat("paramiko2.bin")
        sftp.close()
    finally:
        transport.close()
    assert not (ssh_env.sshd.home / "paramiko2.bin").exists()
