"""Upstream logins with short-lived certificates of the bastion's user CA, against a real
OpenSSH sshd that trusts the CA (``TrustedUserCAKeys``) and has NO authorized_keys entry
and no vaulted credential for the target: the certificate is the only way in."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from bastion.demo.services import MariaDB, ServiceError, free_port
from bastion.demo.setup import write_config
from bastion.runtime.bootstrap import load_checked, open_store
from bastion.state.ssh_ca import UserCA, key_id
from plugins.ssh.certificate import certified_key
from tests.integration.conftest import SSH_USER, service_failed, start_bastion, wait_for
from tests.integration.ssh.conftest import SSHEnv, private_sshd, provision, serving, ssh_config
from tests.integration.ssh.terminal import Terminal

CA_USER = f"{SSH_USER}_ca"[:32]


@pytest.fixture(scope="module")
def ca_env(mariadb: MariaDB) -> Iterator[SSHEnv]:
    with private_sshd(CA_USER, "bastion-ca-") as (server, workdir):
        server.authorize_client_key = False
        b = None
        try:
            server.start()
            config = ssh_config(workdir, server, mariadb, free_port())
            config["targets"][0]["options"]["credential"] = "ssh-certificate"  # ssh-host
            path = write_config(workdir / "bastion.yaml", config)
            keys = provision(path, server, workdir)
            settings, _ = load_checked(str(path))
            store, _, vault = open_store(settings)
            assert vault.delete("ssh-host", "bastiontest")  # no standing credential for the target
            store.dispose()
            export = subprocess.run(["bastion", "ssh-ca", "export", "--config", str(path)], capture_output=True,
                                    text=True, timeout=60, env={**os.environ, "PATH": _venv_path()})
            assert export.returncode == 0, export.stderr
            server.stop()
            server.trusted_user_ca = export.stdout
            server.start()
            b = start_bastion(workdir, config)
        except (ServiceError, OSError, subprocess.CalledProcessError) as exc:
            service_failed("sshd", exc)
        assert b is not None
        yield from serving(b, server, keys)


def _venv_path() -> str:
    return f"{Path(__file__).resolve().parents[3] / '.venv' / 'bin'}:{os.environ.get('PATH', '')}"


def test_the_target_trusts_only_the_ca(ca_env: SSHEnv) -> None:
    assert not (ca_env.sshd.authorized / CA_USER).exists()
    ca_file = ca_env.state_dir / "ssh" / "user_ca"
    assert stat.S_IMODE(ca_file.stat().st_mode) == 0o600
    assert (ca_env.sshd.workdir / "user_ca.pub").read_text().startswith("ssh-ed25519 ")


def test_exec_through_a_certificate_names_the_person_in_sshd_log(ca_env: SSHEnv) -> None:
    res = ca_env.ssh("ssh-host", "echo cert-$((40+2)); whoami")
    assert res.returncode == 0, res.stderr
    assert res.stdout.decode().split() == ["cert-42", CA_USER]
    start = wait_for(lambda: ca_env.journal("session.start"))
    session_id = start[-1]["session_id"]
    log = wait_for(lambda: [line for line in ca_env.sshd.log.read_text(errors="replace").splitlines()
                            if f"session={session_id}" in line])
    text = "\n".join(log)
    assert f'Accepted certificate ID "bastion:alice:session={session_id}"' in text, text
    assert any(line.startswith(f"Accepted publickey for {CA_USER}") and "ED25519-CERT" in line for line in log), text


def test_shell_through_a_certificate(ca_env: SSHEnv) -> None:
    term = Terminal(ca_env.ssh_argv("ssh-host", "-tt"))
    try:
        term.expect(b"$ ")
        term.write(b"echo shell-$((6*7))\r")
        term.expect(b"shell-42")
        term.write(b"exit 0\r")
        assert term.wait() == 0
    finally:
        term.close()


def test_sftp_through_a_certificate(ca_env: SSHEnv, tmp_path: Path) -> None:
    (tmp_path / "up.txt").write_text("certified upload\n")
    batch = tmp_path / "batch"
    batch.write_text(f"put {tmp_path / 'up.txt'} cert-up.txt\nget cert-up.txt {tmp_path / 'down.txt'}\n"
                     "rm cert-up.txt\n")
    res = subprocess.run(["sftp", "-P", str(ca_env.port), *ca_env.client_opts(), "-b", str(batch),
                          "ssh-host@127.0.0.1"], capture_output=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "down.txt").read_text() == "certified upload\n"


def _login(ca_env: SSHEnv, ca: UserCA, **sign: object) -> bool:
    """Log in to the sshd directly with a certificate of ``ca`` (sign's arguments varied)."""
    private = ed25519.Ed25519PrivateKey.generate()
    args = {"principal": CA_USER, "key_id": key_id("mallory", "direct"), "source_address": "127.0.0.1", **sign}
    cert = ca.sign(private.public_key(), **args)  # type: ignore[arg-type]
    from cryptography.hazmat.primitives import serialization

    key = paramiko.Ed25519Key.from_private_key(__import__("io").StringIO(private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()).decode()))
    key.load_certificate(cert.decode())
    sock = socket.create_connection(("127.0.0.1", ca_env.sshd.port), timeout=10)
    transport = paramiko.Transport(sock)
    try:
        transport.start_client(timeout=10)
        transport.auth_publickey(CA_USER, key)
        return transport.is_authenticated()
    except paramiko.AuthenticationException:
        return False
    finally:
        transport.close()


@pytest.mark.parametrize(("sign", "accepted"), [
    ({}, True),  # the control: a fresh certificate works
    ({"now": time.time() - 3600}, False),  # expired an hour ago
    ({"validity": 5, "now": time.time() - 40}, False),  # older than its validity (and the skew allowance)
    ({"principal": "root"}, False),  # another account
    ({"source_address": "10.255.255.1"}, False),  # stolen and used from elsewhere
])
def test_sshd_enforces_the_certificate(ca_env: SSHEnv, sign: dict[str, object], accepted: bool) -> None:
    ca = UserCA.open(ca_env.state_dir, create=False)
    assert _login(ca_env, ca, **sign) is accepted


def test_another_ca_is_refused(ca_env: SSHEnv, tmp_path: Path) -> None:
    assert _login(ca_env, UserCA.open(tmp_path)) is False


def test_certified_key_uses_this_connections_address(ca_env: SSHEnv) -> None:
    ctx_like = type("Ctx", (), {"settings": type("S", (), {"state_dir": str(ca_env.state_dir)})()})()
    target = type("T", (), {"options": {"credential": "ssh-certificate"}})()
    with socket.create_connection(("127.0.0.1", ca_env.sshd.port)) as sock:
        key = certified_key(ctx_like, target, CA_USER, None, sock)  # type: ignore[arg-type]
    assert key.public_blob is not None and key.public_blob.key_type == "ssh-ed25519-cert-v01@openssh.com"
    assert b"source-address" in key.public_blob.key_blob and b"127.0.0.1" in key.public_blob.key_blob
