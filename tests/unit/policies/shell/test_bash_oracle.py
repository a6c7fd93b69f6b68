"""Real bash as the oracle: every program bash tries to run is one the parser reported.

bash runs each line with an empty PATH in a scratch directory, so nothing external
starts: each program lookup lands in ``command_not_found_handle``, which logs the name
bash resolved (after quote removal and expansion) and succeeds. The parser must have
reported every such name (it may report more: branches bash did not take). Each program
succeeds the first time and fails after, so ``&&``, ``||`` and loops are exercised.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from policies.shell import parse
from tests.unit.policies.shell.corpus import BENIGN, DISGUISES
from tests.unit.policies.shell.test_parser import GRAMMAR

HANDLER = """command_not_found_handle() {
    mapfile -t seen < "$ORACLE_LOG"
    printf "%s\\n" "$1" >> "$ORACLE_LOG"
    for s in "${seen[@]}"; do [[ $s == "$1" ]] && return 1; done
    return 0
}
"""
"""Succeeds the first time a program is run, fails after: loops (``while a``) end."""
LINES = [line for line, _ in GRAMMAR] + [line.replace("@D@", "victim") for line in BENIGN + DISGUISES
                                         if not parse(line.replace("@D@", "victim")).unknown]


def bash_programs(line: str, workdir: Path) -> set[str]:
    log = workdir / "programs.log"
    log.write_text("")
    env = {"PATH": "/nonexistent", "ORACLE_LOG": str(log), "HOME": str(workdir)}
    subprocess.run(["/bin/bash", "-c", HANDLER + line], cwd=workdir, env=env, capture_output=True, timeout=10,
                   stdin=subprocess.DEVNULL)
    return {os.path.basename(p) for p in log.read_text().splitlines()}


@pytest.mark.parametrize("line", LINES)
def test_parser_reports_every_program_bash_runs(line, tmp_path):
    parsed = parse(line)
    assert not parsed.unknown
    ran = bash_programs(line, tmp_path)
    assert ran <= {c.program for c in parsed.commands}, ran


def test_oracle_sees_programs(tmp_path):
    assert bash_programs("a; b | c && $(printf d)", tmp_path) == {"a", "b", "c", "d"}
