"""Deny and review paths, proven on the target side (a stand-in deny stage, see guarded.py)."""

from __future__ import annotations

import socket
import subprocess

from bastion.demo.services import free_port
from tests.integration.conftest import wait_for
from tests.integration.ssh.terminal import Terminal


def test_denied_exec_never_reaches_the_target(guarded_env):
    before = guarded_env.accepted_upstream()
    res = guarded_env.ssh("ssh-host", "touch forbidden-exec-proof")
    assert res.returncode == 126
    assert b"bastion: command denied: forbidden commands are blocked (rule guardrails:no-forbidden, ref " in res.stderr
    assert not (guarded_env.sshd.home / "forbidden-exec-proof").exists()
    assert guarded_env.accepted_upstream() == before  # the bastion did not even log in upstream
    event = wait_for(lambda: [e["data"] for e in guarded_env.journal("command")
                              if e["data"]["line"] == "touch forbidden-exec-proof"])
    assert event[-1]["verdict"] == "deny" and event[-1]["rule"] == "guardrails:no-forbidden"


def test_review_not_approved_in_time_is_denied(guarded_env):
    res = guarded_env.ssh("ssh-host", "touch needs-review-proof")
    assert res.returncode == 126 and b"no approval before the hold time ended" in res.stderr, res.stderr
    assert not (guarded_env.sshd.home / "needs-review-proof").exists()


def test_review_approved_runs_the_command(guarded_env):
    from types import SimpleNamespace

    from bastion.approvals import ApprovalBroker
    from bastion.core.types import Identity

    # the approver's side only needs the shared state store (never the bastion's journal)
    broker = ApprovalBroker(SimpleNamespace(store=guarded_env.store(), maskers=[]))
    proc = subprocess.Popen(guarded_env.ssh_argv("ssh-host", "touch needs-review-approved; echo ran"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    pending = wait_for(lambda: [a for a in broker.list("pending") if "needs-review-approved" in a.statement])
    assert pending and pending[0].kind == "command" and pending[0].requester == "alice"
    broker.decide(pending[0].id, Identity(subject="carol", groups=frozenset({"approvers"})), True)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0 and out == b"ran\n", err
    assert (guarded_env.sshd.home / "needs-review-approved").exists()


def test_allowed_command_after_a_denied_one_on_the_same_connection(guarded_env):
    import paramiko

    transport = paramiko.Transport(("127.0.0.1", guarded_env.port))
    transport.connect(username="ssh-host", password=guarded_env.token())
    try:
        denied = transport.open_session()
        denied.exec_command("echo forbidden")
        assert denied.recv_exit_status() == 126 and denied.recv(100) == b""
        allowed = transport.open_session()
        allowed.exec_command("echo fine")
        assert allowed.recv_exit_status() == 0 and allowed.recv(100) == b"fine\n"
    finally:
        transport.close()


def test_denied_sftp_write_leaves_no_file(guarded_env, tmp_path):
    (tmp_path / "data.txt").write_text("payload\n")
    batch = tmp_path / "batch"
    batch.write_text(f"put {tmp_path / 'data.txt'} denied-upload.txt\n")
    res = subprocess.run(["sftp", "-P", str(guarded_env.port), *guarded_env.client_opts(), "-b", str(batch),
                          "ssh-host@127.0.0.1"], capture_output=True, timeout=60)
    assert res.returncode != 0 and b"Permission denied" in res.stderr, res.stderr
    assert not (guarded_env.sshd.home / "denied-upload.txt").exists()
    # the same session goes on: allowed operations still work
    batch.write_text(f"put {tmp_path / 'data.txt'} allowed-upload.txt\nrm allowed-upload.txt\n")
    res = subprocess.run(["sftp", "-P", str(guarded_env.port), *guarded_env.client_opts(), "-b", str(batch),
                          "ssh-host@127.0.0.1"], capture_output=True, timeout=60)
    assert res.returncode == 0, res.stderr
    event = wait_for(lambda: [e["data"] for e in guarded_env.journal("fileop")
                              if e["data"]["path"].endswith("denied-upload.txt")])
    assert event[-1]["verdict"] == "deny" and event[-1]["op"] == "open-write"


def test_denied_scp_uploads_leave_no_file(guarded_env, tmp_path):
    local = tmp_path / "x.txt"
    local.write_text("x\n")
    for flags, name in (([], "denied-scp.txt"), (["-O"], "denied-legacy.txt")):
        res = subprocess.run(["scp", "-P", str(guarded_env.port), *guarded_env.client_opts(), *flags, str(local),
                              f"ssh-host@127.0.0.1:{name}"], capture_output=True, timeout=60)
        assert res.returncode != 0, (flags, res)
        assert not (guarded_env.sshd.home / name).exists()
        if flags:
            assert b"file transfer denied: files named 'denied' are off limits" in res.stderr, res.stderr


def test_typed_shell_commands_are_audit_only(guarded_env):
    term = Terminal(guarded_env.ssh_argv("ssh-host", "-tt"))
    try:
        term.expect(b"$ ")
        term.write(b"echo forbidden-but-typed\r")
        term.expect(b"forbidden-but-typed\r\n")  # not blocked: typed lines are not a security boundary
        term.write(b"exit\r")
        assert term.wait() == 0
    finally:
        term.close()
    events = wait_for(lambda: [e["data"] for e in guarded_env.journal("command")
                               if e["data"]["line"] == "echo forbidden-but-typed"])
    assert events[-1]["audit_only"] and events[-1]["would"] == "deny"
    assert events[-1]["rule"] == "guardrails:no-forbidden"


def test_rule_can_allow_a_forward_outside_allow_forward(guarded_env):
    port = free_port()
    proc = subprocess.Popen(guarded_env.ssh_argv("ssh-host", "-N", "-o", "ExitOnForwardFailure=yes",
                                                 "-L", f"{port}:127.0.0.1:{guarded_env.sshd.port}"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        sock = wait_for(lambda: _try_connect(port), timeout=10)
        assert sock is not None
        with sock:
            sock.settimeout(5)
            assert sock.recv(100).startswith(b"SSH-2.0-OpenSSH")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _try_connect(port: int) -> socket.socket | None:
    try:
        return socket.create_connection(("127.0.0.1", port), timeout=5)
    except OSError:
        return None


def test_rm_rf_rule_from_the_rule_language(guarded_env, sshd):
    marker = sshd.home / "keep-me"
    marker.mkdir(exist_ok=True)
    res = guarded_env.ssh("ssh-host", f"rm -rf {marker}")
    assert res.returncode == 126 and b"no recursive deletes" in res.stderr
    assert marker.exists()
