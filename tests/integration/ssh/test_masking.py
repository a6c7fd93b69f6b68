"""Masking on SSH: exec output masked live per rule (exempt groups see clear values), and
every recording and audit record masked before storage whoever the user is."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from tests.integration.conftest import wait_for
from tests.integration.ssh.terminal import Terminal

CARD = "4111111111111111"


def test_exec_output_masked_live(ssh_env):
    res = ssh_env.ssh("ssh-host", f"echo paid with {CARD} ok; echo {CARD} >&2")
    assert res.returncode == 0
    assert res.stdout == b"paid with ************1111 ok\n" and b"************1111" in res.stderr
    ends = wait_for(lambda: [e for e in ssh_env.journal("session.end") if e["data"].get("masked_output")])
    assert ends and ends[-1]["data"]["masked_output"]["card"] >= 2


@pytest.mark.parametrize("pause", ["0", "0.005"])
def test_a_value_written_in_two_pieces_is_masked_whole(ssh_env, pause):
    # Two writes (the second after a pause) reach the bastion as two SSH packets.
    res = ssh_env.ssh("ssh-host", f"printf 'paid with 4111 1111 '; sleep {pause}; printf '1111 1111 ok\\n'; "
                                  f"printf 'card 41111111' >&2; sleep {pause}; printf '11111111\\n' >&2")
    assert res.returncode == 0, res.stderr
    assert res.stdout == b"paid with **** **** **** 1111 ok\n"
    assert res.stderr == b"card ************1111\n"


def test_output_that_could_still_grow_is_shown_while_the_command_runs(ssh_env):
    # "4111" could be the start of a card: it is held back, then shown once nothing follows.
    proc = subprocess.Popen(ssh_env.ssh_argv("ssh-host", "printf 'waiting for 4111'; sleep 8; echo ' done'"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    try:
        started, first = time.monotonic(), b""
        while len(first) < 16 and time.monotonic() - started < 30:
            first += proc.stdout.read1(100)
        assert first == b"waiting for 4111" and time.monotonic() - started < 6
        rest, _ = proc.communicate(timeout=30)
        assert rest == b" done\n"
    finally:
        proc.kill()
        proc.wait()


def test_exempt_group_sees_clear_output_but_storage_is_masked(ssh_env):
    token = ssh_env.token("alice", ("ops", "pci"))
    argv = ["sshpass", "-p", token, *[a for a in ssh_env.ssh_argv("ssh-host", key=None, batch=False)],
            "-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password",
            f"echo clear {CARD} marker-pci"]
    res = subprocess.run(argv, capture_output=True, timeout=30)
    assert res.returncode == 0, res.stderr
    assert CARD.encode() in res.stdout
    commands = wait_for(lambda: [e for e in ssh_env.journal("command") if "marker-pci" in e["data"].get("line", "")])
    stored = json.dumps(commands)
    assert CARD not in stored and "************1111" in stored


def test_recording_is_masked(ssh_env):
    term = Terminal(ssh_env.ssh_argv("ssh-host", "-tt"))
    try:
        term.expect(b"$ ")
        for ch in f"printf 'card %s end\\n' {CARD} ; echo rec-marker":  # typed key by key, echoed
            term.write(ch.encode())
        term.write(b"\r")
        term.expect(b"rec-marker")
        term.write(b"exit 0\r")
        term.wait()
    finally:
        term.close()

    def recorded() -> list[str]:
        texts = []
        for e in ssh_env.journal("recording"):
            try:
                texts.append(open(e["data"]["path"], encoding="utf-8").read())
            except OSError:
                pass
        return [t for t in texts if "rec-marker" in t]

    casts = wait_for(recorded)
    assert casts and CARD not in casts[-1]


def test_sftp_text_reads_masked_binary_untouched(ssh_env, sshd, tmp_path):
    import os
    import shutil

    text = "".join(f"line {i}: customer card {CARD}, thanks\n" for i in range(3000))  # ~150 KB, many reads
    blob = os.urandom(200_000) + CARD.encode()
    for name, content in (("cards.txt", text.encode()), ("blob.bin", blob)):
        path = sshd.home / name
        path.write_bytes(content)
        shutil.chown(path, sshd.user, sshd.user)
    batch = tmp_path / "batch"
    batch.write_text(f"get cards.txt {tmp_path / 'cards.txt'}\nget blob.bin {tmp_path / 'blob.bin'}\n")
    res = subprocess.run(["sftp", "-P", str(ssh_env.port), *ssh_env.client_opts(), "-b", str(batch),
                          "ssh-host@127.0.0.1"], capture_output=True, timeout=60)
    assert res.returncode == 0, res.stderr
    got = (tmp_path / "cards.txt").read_text()
    assert len(got) == len(text) and CARD not in got
    assert got.splitlines()[0] == "line 0: customer card ************1111, thanks"
    assert (tmp_path / "blob.bin").read_bytes() == blob  # not text: transferred unchanged
