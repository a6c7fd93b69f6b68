"""``bastion audit verify``: check a journal's hash chain across its segments.

Every complete record must follow the previous one (``seq`` + 1, ``prev`` = its hash) and
its hash must cover its event as written. A line without its ``\\n`` (being written, or
torn by a crash and not yet terminated by a reopen) is not part of the chain yet; a torn
line the journal terminated is counted, not an error (see ``Journal._recover``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bastion.audit import segments as seg
from bastion.audit.chain import GENESIS, chain_hash, digest_of


def _hash_ok(raw: bytes, record: dict[str, Any], prev: str) -> bool:
    """Does the record's hash cover its event? Checked on the event's bytes as written
    (the line is ``{"event":<bytes>,"hash":…,"prev":…,"seq":…}``), else on its canonical
    JSON (a line laid out otherwise, e.g. rewritten by a tool)."""
    digest = record.get("hash")
    tail = b',"hash":"%s","prev":"%s","seq":%d}\n' % (str(digest).encode(), str(record.get("prev")).encode(),
                                                       record["seq"])
    if raw.startswith(b'{"event":') and raw.endswith(tail) and digest_of(prev, raw[9:-len(tail)]) == digest:
        return True
    return chain_hash(prev, record["event"]) == digest


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    records: int
    segments: int
    torn: int
    problem: str = ""


def verify(directory: Path) -> VerifyResult:
    """Check the chain across every segment (from ``journal.anchor`` when retention pruned)."""
    directory = directory if directory.is_dir() else directory.parent
    anchor = seg.read_anchor(directory)
    expect_seq, prev = (anchor[0] + 1, anchor[1]) if anchor else (1, GENESIS)
    count = torn = 0
    segments = seg.list_segments(directory)
    for segment in segments:
        if anchor and not segment.active and segment.first_seq < expect_seq:
            last = seg.last_record(segment.path)
            if last is not None and last["seq"] <= anchor[0]:
                continue  # retention wrote the anchor but crashed before deleting this segment
        if segment.first_seq != expect_seq:
            return VerifyResult(False, count, len(segments), torn,
                                f"{segment.path.name}: starts at record {segment.first_seq}, "
                                f"expected {expect_seq} (missing or extra segment)")
        with open(segment.path, "rb") as fh:
            for lineno, raw in enumerate(fh, 1):
                if not raw.endswith(b"\n"):
                    break  # being written (or torn and not yet reopened): not part of the chain yet
                record = seg.parse_line(raw)
                where = f"{segment.path.name} line {lineno}"
                if record is None:
                    torn += 1
                    continue
                count += 1
                if record.get("prev") != prev or record["seq"] != expect_seq:
                    return VerifyResult(False, count, len(segments), torn,
                                        f"{where} (record {record['seq']}): chain broken "
                                        f"(missing, reordered or inserted record)")
                if not _hash_ok(raw, record, prev):
                    return VerifyResult(False, count, len(segments), torn,
                                        f"{where} (record {record['seq']}): content does not match its hash "
                                        f"(edited)")
                prev, expect_seq = record["hash"], expect_seq + 1
    return VerifyResult(True, count, len(segments), torn)
