"""Shell-aware masking with the real built-in recognizers: secrets hidden, commands kept."""

from __future__ import annotations

import re

import pytest

from policies.masking import BUILTIN, full, mask_text
from policies.shell.redact import redact_command
from tests.unit.policies.shell.corpus import BENIGN, DISGUISES

STYLE = full()
PEM = ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx1c3Yz0dGkq8f1mQ2Zp4n5W7\nr9Tq0c2bPq8Lw3yX\n"
       "-----END RSA PRIVATE KEY-----")


def mask(text: str) -> str:
    return mask_text(text, list(BUILTIN.values()), lambda _: STYLE)[0]


def greedy(text: str) -> str:
    """A masker that would swallow everything between two markers (a custom recognizer
    can be written so): redact_command must not let it reach across shell syntax."""
    return re.sub(r"-----BEGIN.*?-----END[^-]*-----", lambda m: "*" * len(m[0]), text, flags=re.S)


def test_reproduction_keeps_the_hidden_command_visible():
    line = "echo -----BEGIN RSA PRIVATE KEY-----; touch ~/x; echo -----END RSA PRIVATE KEY-----"
    assert "touch ~/x" not in greedy(line)  # what a greedy masker does to the whole line
    assert "; touch ~/x; " in redact_command(line, greedy)
    assert "; touch ~/x; " in redact_command(line, mask)  # and the built-in ones


@pytest.mark.parametrize("sep", [";", " && ", " || ", " | ", " & ", "\n", " |& "])
def test_commands_on_either_side_of_syntax_survive(sep):
    line = f"echo -----BEGIN RSA PRIVATE KEY-----{sep}rm -rf ~/x{sep}echo -----END RSA PRIVATE KEY-----"
    assert f"{sep}rm -rf ~/x{sep}" in redact_command(line, greedy)


def test_substitutions_and_subshells_are_cut_too():
    line = "echo $(echo -----BEGIN RSA PRIVATE KEY-----; id) `whoami` (uname -a)"
    redacted = redact_command(line, mask)
    assert "; id)" in redacted and "`whoami`" in redacted and "(uname -a)" in redacted


def test_a_quoted_key_is_masked_whole():
    line = f"printf '%s' '{PEM}' > key; chmod 600 key"
    redacted = redact_command(line, mask)
    assert "MIIEow" not in redacted and "-----END" not in redacted
    assert redacted.endswith("> key; chmod 600 key")


def test_a_here_document_key_is_masked_whole():
    line = f"cat > key <<EOF\n{PEM}\nEOF\nchmod 600 key"
    redacted = redact_command(line, mask)
    assert "MIIEow" not in redacted and "r9Tq0c2bPq8Lw3yX" not in redacted
    assert redacted.startswith("cat > key <<EOF\n") and redacted.endswith("\nEOF\nchmod 600 key")


def test_tokens_are_masked_inside_their_segment():
    token = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    line = f"curl -H 'Authorization: token {token}' https://api.example.org | jq .; history -c"
    redacted = redact_command(line, mask)
    assert token not in redacted and redacted.endswith("| jq .; history -c")


def test_quoted_separators_are_not_syntax():
    calls: list[str] = []
    redact_command("mysql -p'x;y|z' -e \"a && b\"; ls", lambda s: calls.append(s) or s)
    assert calls == ["mysql -p'x;y|z' -e \"a && b\"", " ls"]


@pytest.mark.parametrize("line", DISGUISES + BENIGN)
def test_identity_mask_changes_nothing(line):
    assert redact_command(line, lambda s: s) == line
