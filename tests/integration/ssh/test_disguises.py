"""The corpus's disguises are real: run through the target's own bash (sshd, no bastion),
each one deletes the victim directory. The same lines are denied by the demo rule.

This is the oracle for tests/unit/policies/shell/corpus.py: a parser that judged these
lines harmless would let a real recursive delete through.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bastion.demo.services import SSHD
from policies.files import GuardMatch
from policies.matching import match_command
from tests.unit.policies.shell.corpus import DEMO_RULE, ORACLE

RULE = GuardMatch(**DEMO_RULE)  # type: ignore[arg-type]


def _ssh(sshd: SSHD, known_hosts: Path, command: str) -> subprocess.CompletedProcess[bytes]:
    argv = ["ssh", "-p", str(sshd.port), "-F", "/dev/null", "-o", f"UserKnownHostsFile={known_hosts}",
            "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR",
            "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-i", str(sshd.client_key),
            f"{sshd.user}@127.0.0.1", command]
    return subprocess.run(argv, capture_output=True, timeout=30, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def known_hosts(sshd: SSHD, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("disguises") / "known_hosts"
    path.write_text(sshd.known_hosts_line() + "\n")
    return path


@pytest.mark.parametrize("template", ORACLE)
def test_disguise_really_deletes_and_is_denied(sshd, known_hosts, template):
    victim = sshd.home / f"victim-{ORACLE.index(template)}"
    made = _ssh(sshd, known_hosts, f"mkdir -p {victim}/sub && touch {victim}/sub/file {victim}/file")
    assert made.returncode == 0, made.stderr
    assert (victim / "sub" / "file").exists()
    line = template.replace("@D@", str(victim))

    ran = _ssh(sshd, known_hosts, line)

    assert not victim.exists(), f"not a real disguise: {line!r} left {victim} ({ran.stderr!r})"
    assert match_command(RULE, line), f"the demo rule lets {line!r} through"


def test_benign_control_leaves_the_directory(sshd, known_hosts):
    """The oracle can fail: a line that only looks at the directory leaves it in place."""
    victim = sshd.home / "victim-control"
    assert _ssh(sshd, known_hosts, f"mkdir -p {victim}/sub").returncode == 0
    line = f"ls -R {victim} && echo rm -rf {victim}"
    assert _ssh(sshd, known_hosts, line).returncode == 0
    assert victim.is_dir()
    assert not match_command(RULE, line)
