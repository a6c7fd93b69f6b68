"""Terminal output of asciicast recordings -> output documents."""

from __future__ import annotations

import json

from bastion.audit.recordings import chunks, clean, output_documents
from bastion.audit.schema import SessionInfo, document


def test_clean_strips_terminal_control_sequences():
    raw = "\x1b[1;32muser@host\x1b[0m:~$ ls\r\n\x1b]0;title\x07a.txt\tb\x08\r\n\x1b(B"
    assert clean(raw) == "user@host:~$ ls\na.txt\tb\n"


def test_chunks_cut_at_line_ends():
    events = iter([(float(i), f"line {i} " + "x" * 50 + "\r\n") for i in range(200)])
    parts = list(chunks(events, size=1000))
    assert len(parts) > 5
    assert all(text.endswith("\n") for _, text in parts)
    assert "".join(text for _, text in parts).count("line") == 200
    assert parts[0][0] == 0.0 and parts[1][0] > 0


def test_output_documents(tmp_path):
    cast = tmp_path / "s-1.cast"
    cast.write_text("\n".join([json.dumps({"version": 2, "width": 80, "height": 24}),
                               json.dumps([0.5, "o", "secret 123\r\n"]), json.dumps([0.6, "i", "typed"]),
                               '[0.7, "o", "torn']) + "\n")
    rec = {"seq": 9, "event": {"type": "recording", "session_id": "s", "at": 100.0,
                               "data": {"path": str(cast), "channel": 1, "duration_s": 2.0}}}
    base = document(rec, "n", SessionInfo(user="bob"))
    docs = output_documents(base, rec, "n", SessionInfo(user="bob"), lambda t: t.replace("123", "***"), 1 << 20)
    assert len(docs) == 1
    doc = docs[0]
    assert doc["id"] == "n:000000000009:o0000" and doc["type"] == "output" and doc["user"] == "bob"
    assert doc["output"] == "secret ***\n" and doc["time"] == 98500
    missing = {"seq": 10, "event": {**rec["event"], "data": {"path": str(tmp_path / "gone.cast")}}}
    assert output_documents(base, missing, "n", None, str, 100) == []
