"""The corpus (corpus.py) against the parser and the matcher: disguises denied, benign lines pass."""

from __future__ import annotations

import subprocess

import pytest

from policies.files import GuardMatch
from policies.matching import match_command
from policies.shell import parse
from tests.unit.policies.shell.corpus import BENIGN, DEMO_RULE, DISGUISES

VICTIM = "/srv/victim"
RULE = GuardMatch(**DEMO_RULE)  # type: ignore[arg-type]


def _line(template: str) -> str:
    return template.replace("@D@", VICTIM)


def test_corpus_is_large_enough():
    assert len(set(DISGUISES)) + len(set(BENIGN)) >= 400
    assert not set(DISGUISES) & set(BENIGN)


@pytest.mark.parametrize("line", DISGUISES)
def test_disguise_is_denied(line):
    assert match_command(RULE, _line(line)), parse(_line(line))


@pytest.mark.parametrize("line", BENIGN)
def test_benign_line_passes(line):
    parsed = parse(_line(line))
    assert not parsed.unknown, parsed.unknown
    assert parsed.commands or line.startswith("[[")  # a conditional runs no program
    assert not match_command(RULE, _line(line)), parsed


@pytest.mark.parametrize("line", BENIGN)
def test_benign_line_is_valid_bash(line):
    """Oracle for the grammar: every line the parser accepts as benign, bash accepts too."""
    res = subprocess.run(["bash", "-n", "-c", _line(line)], capture_output=True, timeout=10)
    assert res.returncode == 0, res.stderr
