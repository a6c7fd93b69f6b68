"""asciicast writer and the audit-only shell command detector."""

from __future__ import annotations

import json

from plugins.ssh.recording import CastWriter, mask
from plugins.ssh.shell_lines import CommandDetector


def _read(path):  # type: ignore[no-untyped-def]
    lines = path.read_text(encoding="utf-8").splitlines()
    return json.loads(lines[0]), [json.loads(line) for line in lines[1:]]


def test_cast_header_events_and_split_utf8(tmp_path):
    cast = CastWriter(tmp_path / "s.cast", 100, 30, term="xterm-256color", title="t", command="top")
    euro = "€".encode()
    cast.output(b"price: " + euro[:1])
    cast.output(euro[1:] + b"\r\n")
    cast.resize(120, 40)
    cast.input(b"ignored")  # input recording is off by default
    cast.close()
    header, events = _read(tmp_path / "s.cast")
    assert header["version"] == 2 and (header["width"], header["height"]) == (100, 30)
    assert header["env"] == {"TERM": "xterm-256color"} and header["command"] == "top"
    assert "".join(e[2] for e in events if e[1] == "o") == "price: €\r\n"
    assert ["r", "120x40"] in [e[1:] for e in events]
    assert not [e for e in events if e[1] == "i"]
    assert (tmp_path / "s.cast").stat().st_mode & 0o777 == 0o600


def test_input_masked_unless_echoed(tmp_path):
    cast = CastWriter(tmp_path / "i.cast", 80, 24, record_input=True)
    cast.input(b"ls\r")
    cast.output(b"ls\r\nfile\r\n")
    cast.input(b"s3cret")  # a password prompt: nothing echoes
    cast.input(b"\r")
    cast.output(b"\r\n$ ")
    cast.input(b"x")
    cast.close()
    _, events = _read(tmp_path / "i.cast")
    inputs = [e[2] for e in events if e[1] == "i"]
    # chunks may be merged (input is released at word boundaries for redaction)
    assert "".join(inputs) == "ls\r******\r*"
    assert mask("a\x03b\r") == "*\x03*\r"


def _session(detector: CommandDetector, typed: str, echo: str) -> list[str]:
    detector.input(typed)
    return detector.output(echo)


def test_detector_reads_the_echoed_line():
    d = CommandDetector(80, 24)
    assert d.output("Last login: today\r\nuser@web01:~$ ") == []
    assert _session(d, "ls -la /tmp\r", "ls -la /tmp\r\n") == ["ls -la /tmp"]
    assert d.output("total 0\r\nuser@web01:~$ ") == []
    # editing: type, backspace twice, retype; the screen shows the final line
    assert _session(d, "cat fo\x7f\x7fbar\r", "cat fo\b \b\b \bbar\r\n") == ["cat bar"]


def test_detector_history_recall_and_ctrl_c():
    d = CommandDetector(80, 24)
    d.output("$ ")
    d.input("\x1b[A")  # up arrow: the shell draws the previous command
    d.output("echo previous")
    d.input("\r")
    assert d.output("\r\nprevious\r\n$ ") == ["echo previous"]
    d.input("rm -rf /\x03")  # abandoned with Ctrl-C
    assert d.output("rm -rf /^C\r\n$ ") == []


def test_detector_long_line_wraps():
    d = CommandDetector(20, 5)
    d.output("$ ")
    line = "echo " + "x" * 40
    d.input(line + "\r")
    assert d.output(line + "\r\n") == [line]


def test_detector_pauses_in_full_screen_programs():
    d = CommandDetector(80, 24)
    d.output("$ ")
    d.input("vim\r")
    assert d.output("vim\r\n\x1b[?1049h\x1b[H~\r\n~") == ["vim"]
    d.input(":wq\r")
    assert d.output(":wq\r\n") == []
    d.output("\x1b[?1049l$ ")
    d.input("id\r")
    assert d.output("id\r\n") == ["id"]
