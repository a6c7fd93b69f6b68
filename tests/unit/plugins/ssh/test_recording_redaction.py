from __future__ import annotations

import json

import pytest

from plugins.ssh.recording import Carry, CastWriter


def redact(text: str) -> str:
    return text.replace("4111111111111111", "************1111").replace("4111 1111 1111 1111", "**** **** **** 1111")


@pytest.mark.parametrize(
    "chunks",
    [
        ["card 4111111111111111\n"],
        ["card 41111111", "11111111\n"],
        [*"card 4111111111111111", "\r\n"],                 # typed and echoed key by key
        ["card 4111 1111 ", "1111 1111\n"],                 # grouped, split inside the groups
        ["$ ", "echo ", "4111", " 1111 1111 1111", "\r\n"],
    ],
    ids=["whole", "split", "keystrokes", "grouped-split", "prompt-then-typed"],
)
def test_carry_never_releases_a_clear_value(chunks):
    carry = Carry(redact)
    out = "".join(carry.push(c) for c in chunks) + carry.drain()
    assert "4111111111111111" not in out and "4111 1111 1111 1111" not in out
    assert "1111" in out


def test_prompt_is_released_at_once():
    carry = Carry(redact)
    assert carry.push("user@host:~$ ") == "user@host:~$ "


def test_cast_writer_redacts_output_and_input(tmp_path):
    cast = CastWriter(tmp_path / "x.cast", 80, 24, record_input=True, redact=redact)
    for ch in "4111111111111111":
        cast.input(ch.encode())
        cast.output(ch.encode())  # the echo
    cast.input(b"\r")
    cast.output(b"\r\n")
    cast.output(b"clear words\n")
    cast.close()
    text = (tmp_path / "x.cast").read_text()
    assert "4111111111111111" not in text and "************1111" in text
    events = [json.loads(line) for line in text.splitlines()[1:]]
    assert "".join(d for _, c, d in events if c == "o").endswith("clear words\n")
