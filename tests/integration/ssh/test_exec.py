"""Exec channels: exit codes and signals, stdin/stdout/stderr, EOF, upstream passwords."""

from __future__ import annotations

import pytest

from tests.integration.conftest import SSH_USER, wait_for


@pytest.mark.parametrize(("command", "code"), [("true", 0), ("exit 3", 3), ("false", 1)])
def test_exit_status_is_propagated(ssh_env, command, code):
    res = ssh_env.ssh("ssh-host", command)
    assert res.returncode == code, res.stderr


def test_exit_signal_is_propagated(ssh_env):
    res = ssh_env.ssh("ssh-host", "kill -TERM $$")
    assert res.returncode == 255  # OpenSSH's code when the remote command died of a signal
    event = wait_for(lambda: [e for e in ssh_env.journal("command") if e["data"].get("line") == "kill -TERM $$"])
    assert event[-1]["data"]["exit_signal"] == "TERM"


def test_stdin_stdout_stderr_and_eof(ssh_env):
    payload = bytes(range(256)) * 4096  # 1 MiB, every byte value
    res = ssh_env.ssh("ssh-host", "sha256sum; echo to-stderr >&2", input=payload)
    import hashlib

    assert res.returncode == 0, res.stderr
    assert res.stdout.split()[0].decode() == hashlib.sha256(payload).hexdigest()
    assert res.stderr == b"to-stderr\n"


def test_exec_is_audited_with_output_excerpt(ssh_env):
    res = ssh_env.ssh("ssh-host", "echo audited-$((40+2)); exit 7")
    assert res.returncode == 7 and res.stdout == b"audited-42\n"
    events = wait_for(lambda: [e for e in ssh_env.journal("command") if "audited-" in e["data"].get("line", "")])
    data = events[-1]["data"]
    assert data["mode"] == "exec" and data["verdict"] == "allow" and data["exit_status"] == 7
    assert data["output"] == "audited-42\n" and data["bytes_out"] == len(b"audited-42\n")
    start = [e for e in ssh_env.journal("session.start") if e["session_id"] == events[-1]["session_id"]]
    assert start[0]["data"]["user"] == "alice" and start[0]["data"]["account"] == "bastiontest"
    assert start[0]["data"]["auth"] == "publickey"


def test_a_command_is_on_record_before_it_runs(ssh_env):
    import subprocess

    proc = subprocess.Popen(ssh_env.ssh_argv("ssh-host", "sleep 3; echo ahead-marker"), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        start = wait_for(lambda: [e for e in ssh_env.journal("command.start")
                                  if "ahead-marker" in e["data"]["line"]])
        assert start and proc.poll() is None  # recorded while it still runs
        out, _ = proc.communicate(timeout=30)
    finally:
        proc.kill()
        proc.wait()
    assert out == b"ahead-marker\n"
    event_id = start[0]["data"]["event_id"]
    outcome = wait_for(lambda: [e for e in ssh_env.journal("command") if e["data"]["event_id"] == event_id])
    assert outcome[0]["data"]["exit_status"] == 0 and outcome[0]["data"]["line"] == start[0]["data"]["line"]


def test_upstream_password_credential(ssh_env):
    res = ssh_env.ssh("ssh-pw", "whoami")
    assert res.returncode == 0 and res.stdout == f"{SSH_USER}\n".encode(), res.stderr


def test_user_prefix_must_match_key_owner(ssh_env):
    assert ssh_env.ssh("alice:ssh-host", "true").returncode == 0
    res = ssh_env.ssh("bob:ssh-host", "true")
    assert res.returncode == 255 and b"Permission denied" in res.stderr


@pytest.mark.parametrize(("user", "key"), [
    ("ssh-host", "stranger"),      # key not registered
    ("ssh-host", "bob"),           # registered, but bob's groups have no access rule
    ("no-such-host", "alice"),     # unknown target
    ("shop!db", "alice"),          # not a target selector
], ids=["wrong-key", "no-access", "unknown-target", "bad-name"])
def test_refused_logins_open_nothing_upstream(ssh_env, user, key):
    before = ssh_env.accepted_upstream()
    res = ssh_env.ssh(user, "true", key=key)
    assert res.returncode == 255 and b"Permission denied" in res.stderr
    assert ssh_env.accepted_upstream() == before


@pytest.mark.parametrize(("target", "message"), [
    ("ssh-changed", b"has CHANGED"),
    ("ssh-unknown", b"is unknown to the bastion"),
])
def test_unverified_target_host_key_is_refused(ssh_env, target, message):
    before = ssh_env.accepted_upstream()
    res = ssh_env.ssh(target, "touch host-key-test")
    assert res.returncode == 255
    assert message in res.stderr, res.stderr
    assert ssh_env.accepted_upstream() == before
    assert not (ssh_env.sshd.home / "host-key-test").exists()
    refused = wait_for(lambda: [e for e in ssh_env.journal("upstream") if e["data"]["result"] == "refused"
                                and e["data"]["target"] == target])
    assert refused
