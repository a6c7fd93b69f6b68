from __future__ import annotations

import json

from plugins.ssh.recording import CastWriter


def redact(text: str) -> str:
    return text.replace("4111111111111111", "************1111").replace("4111 1111 1111 1111", "**** **** **** 1111")


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
