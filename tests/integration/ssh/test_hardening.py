"""The SSH rules hold against their disguises, through the bastion to the real sshd:
exec commands are parsed (wrappers, option spellings, run-time values), SFTP paths are
judged as the target resolves them, legacy scp endpoints are found in any spelling, and
a secret-looking value never hides the commands around it in the record."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest
import yaml

from bastion.demo.services import free_port
from bastion.demo.setup import DEMO_GUARDRAILS, write_config
from tests.integration.conftest import start_bastion, stop_bastion, wait_for
from tests.integration.ssh.conftest import SSHEnv, bastion_known_hosts, provision, ssh_config

DEMO_SSH_RULES = [r for r in DEMO_GUARDRAILS if r["id"] in ("ssh-no-rm-rf", "ssh-etc-read-only")]


@pytest.fixture(scope="module")
def demo_rules_env(tmp_path_factory, sshd, mariadb) -> Iterator[SSHEnv]:  # type: ignore[no-untyped-def]
    workdir = tmp_path_factory.mktemp("ssh-hardening")
    config = ssh_config(workdir, sshd, mariadb, free_port())
    rules = workdir / "guardrails.yaml"
    rules.write_text(yaml.safe_dump({"guardrails": DEMO_SSH_RULES, "masking": [
        {"id": "secrets", "recognizers": ["pem_private_key", "aws_access_key"], "style": "full"}]}))
    config["policies"] = {"files": [*config["policies"]["files"], str(rules)], "stages": ["access", "guardrails"]}
    keys = provision(write_config(workdir / "bastion.yaml", config), sshd, workdir)
    b = start_bastion(workdir, config)
    yield SSHEnv(b, sshd, keys, bastion_known_hosts(workdir / "var", b.ports["ssh"], workdir / "known"))
    stop_bastion(b)


def victim(env: SSHEnv, name: str) -> Path:
    """A directory in the target account's home, with a file in it."""
    d = env.sshd.home / name
    d.mkdir(exist_ok=True)
    (d / "f").write_text("x")
    shutil.chown(d, env.sshd.user, env.sshd.user)
    shutil.chown(d / "f", env.sshd.user, env.sshd.user)
    return d


@pytest.mark.parametrize("line", [
    "rm --recursive --force @D@", "bash -c 'rm -rf @D@'", "sh -c \"rm -rf @D@\"", "nice rm -rf @D@",
    "timeout 5 rm -rf @D@", "echo @D@ | xargs rm -rf", "find @D@ -delete", "$(echo rm) -rf @D@",
    "rm${IFS}-rf${IFS}@D@", "/bin/r[m] -rf @D@", "python3 -c 'import shutil; shutil.rmtree(\"@D@\")'",
    "env -i rm -rf @D@", "command rm -fr @D@", "cd / && rm -Rf ~/@D@",
])
def test_exec_disguises_are_refused_and_the_directory_survives(demo_rules_env, line):
    env = demo_rules_env
    name = f"victim-{abs(hash(line)) % 10**8}"
    d = victim(env, name)
    res = env.ssh("ssh-host", line.replace("@D@", name))
    assert res.returncode == 126, (res.returncode, res.stderr)
    assert b"ssh-no-rm-rf" in res.stderr
    assert d.exists() and (d / "f").exists()


def test_benign_commands_still_run(demo_rules_env):
    env = demo_rules_env
    victim(env, "benign")
    res = env.ssh("ssh-host", "ls -R benign && rm benign/f && echo rm -rf benign")
    assert res.returncode == 0 and b"rm -rf benign" in res.stdout
    assert not (env.sshd.home / "benign" / "f").exists()


def _sftp(env: SSHEnv) -> tuple[paramiko.Transport, paramiko.SFTPClient]:
    transport = paramiko.Transport(("127.0.0.1", env.port))
    transport.connect(username="ssh-host", password=env.token())
    sftp = paramiko.SFTPClient.from_transport(transport)
    assert sftp is not None
    return transport, sftp


@pytest.mark.parametrize("spelling", ["//etc/bastion-x", "/./etc/bastion-x", "/var/../etc/bastion-x",
                                      "../../../../../../etc/bastion-x", "/etc//./bastion-x"])
def test_sftp_path_spellings_of_etc_are_refused_by_the_bastion(demo_rules_env, spelling):
    env = demo_rules_env
    transport, sftp = _sftp(env)
    try:
        for action in (lambda: sftp.open(spelling, "w"), lambda: sftp.mkdir(spelling),
                       lambda: sftp.remove(spelling), lambda: sftp.rename("nothing-here", spelling)):
            with pytest.raises(PermissionError):
                action()
    finally:
        transport.close()
    denied = wait_for(lambda: [e["data"] for e in env.journal("fileop")
                               if spelling in (e["data"]["path"], e["data"].get("target_path"))
                               and e["data"]["verdict"] == "deny"])
    assert {d["rule"] for d in denied} == {"guardrails:ssh-etc-read-only"}
    assert len(denied) >= 4


def test_a_relative_symlink_into_etc_is_refused(demo_rules_env):
    transport, sftp = _sftp(demo_rules_env)
    try:
        with pytest.raises(PermissionError):
            sftp.symlink("../../../../../../etc/passwd", "innocent-link")
    finally:
        transport.close()
    assert not os.path.lexists(demo_rules_env.sshd.home / "innocent-link")


@pytest.mark.parametrize("line", ["scp -B -t /etc/bastion-x", "scp -t -v -B /etc/", "command scp -t /etc/bastion-x",
                                  "/usr/bin/scp -t //etc/bastion-x", "scp -dt -- /etc", "sudo -n scp -t /etc/x"])
def test_legacy_scp_endpoints_are_judged_as_file_transfers(demo_rules_env, line):
    env = demo_rules_env
    res = env.ssh("ssh-host", line, input=b"")
    assert res.returncode == 126
    refused = wait_for(lambda: [e["data"] for e in env.journal("command") if e["data"]["line"] == line])
    assert refused[0]["verdict"] == "deny"


def test_legacy_scp_upload_with_a_disguised_path_is_refused(demo_rules_env, tmp_path):
    env = demo_rules_env
    local = tmp_path / "f.txt"
    local.write_text("data")
    res = subprocess.run(["scp", "-O", "-P", str(env.port), *env.client_opts(), str(local),
                          "ssh-host@127.0.0.1://etc/bastion-x"], capture_output=True, timeout=60)
    assert res.returncode != 0 and b"denied" in res.stderr


def test_a_secret_looking_value_never_hides_the_commands_around_it(demo_rules_env):
    env = demo_rules_env
    line = "echo -----BEGIN RSA PRIVATE KEY-----; touch ~/pem-marker; echo -----END RSA PRIVATE KEY-----"
    res = env.ssh("ssh-host", line)
    assert res.returncode == 0
    recorded = wait_for(lambda: [e["data"]["line"] for e in env.journal("command")
                                 if "pem-marker" in e["data"]["line"]])
    assert "touch ~/pem-marker" in recorded[0]
