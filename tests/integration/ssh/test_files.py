"""File transfers: scp (SFTP-based and legacy ``-O``) both ways, sftp batch, all audited."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.integration.conftest import wait_for


def _scp(ssh_env, *args: str) -> subprocess.CompletedProcess[bytes]:  # type: ignore[no-untyped-def]
    return subprocess.run(["scp", "-P", str(ssh_env.port), *ssh_env.client_opts(), *args], capture_output=True,
                          timeout=60)


def _fileops(ssh_env, path_part: str) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    return [e["data"] for e in ssh_env.journal("fileop") if path_part in e["data"].get("path", "")]


@pytest.mark.parametrize("legacy", [False, True], ids=["sftp-scp", "legacy-scp"])
def test_scp_both_ways(ssh_env, tmp_path, legacy):
    flags = ["-O"] if legacy else []
    name = f"scp-{'legacy' if legacy else 'sftp'}.bin"
    local = tmp_path / name
    local.write_bytes(os.urandom(300_000))
    up = _scp(ssh_env, *flags, str(local), f"ssh-host@127.0.0.1:{name}")
    assert up.returncode == 0, up.stderr
    remote = ssh_env.sshd.home / name
    assert remote.read_bytes() == local.read_bytes()
    back = tmp_path / f"back-{name}"
    down = _scp(ssh_env, *flags, f"ssh-host@127.0.0.1:{name}", str(back))
    assert down.returncode == 0, down.stderr
    assert back.read_bytes() == local.read_bytes()
    if legacy:  # the exec command is judged and recorded as a file transfer
        def recorded() -> list[dict]:  # type: ignore[type-arg]
            return [e["data"] for e in ssh_env.journal("command") if e["data"].get("scp", {}).get("path") == name]

        # each transfer's record is written when its exec channel ends, which may be just
        # after scp exits: wait for both
        events = wait_for(lambda: recorded() if len(recorded()) >= 2 else [])
        assert {e["scp"]["op"] for e in events} == {"open-write", "open-read"}
        assert all(e["exit_status"] == 0 for e in events)
    else:
        ops = wait_for(lambda: [o for o in _fileops(ssh_env, name) if o["op"].startswith("open")
                                and o["result"] == "ok"] if len(_fileops(ssh_env, name)) >= 2 else [])
        written = [o for o in ops if o["op"] == "open-write"]
        read = [o for o in ops if o["op"] == "open-read"]
        assert written and written[0]["bytes_written"] == 300_000
        assert read and read[0]["bytes_read"] == 300_000
        # each was on record (fileop.start) before the target saw the request
        starts = {e["data"]["event_id"]: e["data"]["op"] for e in ssh_env.journal("fileop.start")
                  if name in e["data"]["path"]}
        assert starts.get(written[0]["event_id"]) == "open-write" and starts.get(read[0]["event_id"]) == "open-read"


def test_sftp_batch(ssh_env, tmp_path):
    (tmp_path / "put-me.txt").write_text("hello over sftp\n")
    batch = tmp_path / "batch"
    batch.write_text("\n".join([
        "mkdir sftp-dir", f"put {tmp_path / 'put-me.txt'} sftp-dir/a.txt", "ls sftp-dir",
        "rename sftp-dir/a.txt sftp-dir/b.txt", f"get sftp-dir/b.txt {tmp_path / 'got.txt'}",
        "rm sftp-dir/b.txt", "rmdir sftp-dir", ""]))
    res = subprocess.run(["sftp", "-P", str(ssh_env.port), *ssh_env.client_opts(), "-b", str(batch),
                          "ssh-host@127.0.0.1"], capture_output=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert b"sftp-dir/a.txt" in res.stdout  # the ls
    assert (tmp_path / "got.txt").read_text() == "hello over sftp\n"
    assert not (ssh_env.sshd.home / "sftp-dir").exists()
    ops = wait_for(lambda: [o for o in _fileops(ssh_env, "sftp-dir") if o["op"] == "rmdir"] and
                   _fileops(ssh_env, "sftp-dir"))
    seen = {(o["op"], os.path.basename(o["path"].rstrip("/")), o["result"]) for o in ops}
    assert {("mkdir", "sftp-dir", "ok"), ("open-write", "a.txt", "ok"), ("list", "sftp-dir", "ok"),
            ("rename", "a.txt", "ok"), ("open-read", "b.txt", "ok"), ("remove", "b.txt", "ok"),
            ("rmdir", "sftp-dir", "ok")} <= seen, seen
    rename = next(o for o in ops if o["op"] == "rename")
    assert rename["target_path"].endswith("sftp-dir/b.txt")
