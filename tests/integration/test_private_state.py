"""The bastion's state stays private: what a running bastion wrote (keys, state store,
journal, index, recordings) is its owner's alone, and `bastion serve` refuses to start
while anything in its state is readable by others."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml

from bastion.runtime.private import exposed
from tests.integration.conftest import ROOT, BastionProc


def test_everything_a_running_bastion_wrote_is_private(bastion: BastionProc) -> None:
    token = bastion.token("alice", "dba")  # a token, a journal record, the index: written by now
    assert token
    state = bastion.workdir / "var"
    assert (state / "state.db").exists() and (state / "audit").is_dir()
    assert exposed([state]) == []


@pytest.mark.parametrize("spot", ["state.db", "audit/journal.jsonl", "audit", "."])
def test_serve_refuses_to_start_while_state_is_readable_by_others(tmp_path, spot: str) -> None:
    state = tmp_path / "var"
    config = tmp_path / "bastion.yaml"
    config.write_text(yaml.safe_dump({"state_dir": str(state), "listeners": {}}))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "bastion.cli", "tokens", "issue", "--user", "u", "--groups", "g",
                    "--config", str(config)], check=True, capture_output=True, cwd=ROOT, env=env)
    (state / "audit").mkdir(mode=0o700, exist_ok=True)
    os.close(os.open(state / "audit" / "journal.jsonl", os.O_CREAT | os.O_WRONLY, 0o600))
    assert exposed([state]) == []  # the CLI created what it wrote privately
    os.chmod(state / spot, 0o755 if (state / spot).is_dir() else 0o644)
    res = subprocess.run([sys.executable, "-m", "bastion.cli", "serve", "--config", str(config)],
                         capture_output=True, cwd=ROOT, env=env, timeout=60)
    err = res.stderr.decode()
    assert res.returncode == 2, err
    assert "readable by other users" in err and f"chmod -R go-rwx {state}" in err
