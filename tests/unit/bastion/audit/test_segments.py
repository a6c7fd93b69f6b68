"""segments.last_record: the last complete record, read backwards, linear in the file's size."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bastion.audit import segments


def _line(seq: int, pad: int = 0) -> bytes:
    return json.dumps({"seq": seq, "event": {"type": "t", "data": {"pad": "x" * pad}}}).encode() + b"\n"


@pytest.mark.parametrize(("content", "expected"), [
    (b"", None),
    (_line(1), 1),
    (_line(1) + _line(2), 2),
    (_line(1) + _line(2) + b'{"seq":3', 2),                    # a torn tail is not a record
    (_line(1) + b"garbage\n", 1),                              # nor is an unparseable line
    (_line(1) + _line(2, pad=3 * segments.TAIL_CHUNK), 2),     # a line spanning several chunks
    (_line(1, pad=segments.TAIL_CHUNK - 40) + _line(2), 2),    # a newline near a chunk boundary
    (_line(1, pad=2 * segments.TAIL_CHUNK) + b"x" * 10, 1),
], ids=["empty", "one", "two", "torn-tail", "garbage", "long-last", "boundary", "long-then-torn"])
def test_last_record(tmp_path: Path, content: bytes, expected: int | None) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_bytes(content)
    record = segments.last_record(path)
    assert (record["seq"] if record else None) == expected
