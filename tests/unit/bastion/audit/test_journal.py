"""The journal: chain, segments, crash recovery, verification and retention."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time

import pytest

from bastion.audit import segments
from bastion.audit.journal import GENESIS, Journal, chain_hash, event_dict, prune, record_line, verify
from bastion.core.contracts import AuditEvent


def event(i: int, at: float | None = None) -> dict:
    return {"type": "query", "session_id": "s", "at": at or time.time(), "id": "", "schema": 1,
            "data": {"statement": f"SELECT {i}"}}


def fill(journal: Journal, n: int, start: int = 0, at: float | None = None) -> None:
    for i in range(start, start + n):
        journal.append(event(i, at))


def test_records_are_chained_from_genesis(tmp_path):
    j = Journal(tmp_path, fsync=False)
    fill(j, 3)
    lines = [json.loads(x) for x in (tmp_path / "journal.jsonl").read_text().splitlines()]
    assert [r["seq"] for r in lines] == [1, 2, 3]
    assert lines[0]["prev"] == GENESIS and lines[1]["prev"] == lines[0]["hash"]
    assert verify(tmp_path).ok and verify(tmp_path).records == 3


def test_rotation_by_size_keeps_the_chain_across_segments(tmp_path):
    j = Journal(tmp_path, fsync=False, rotate_bytes=500)
    fill(j, 20)
    j.close()
    names = sorted(p.name for p in tmp_path.glob("journal*.jsonl"))
    assert len(names) > 3 and names[-1] == "journal.jsonl" and names[0] == "journal-000000000001.jsonl"
    for seg in segments.list_segments(tmp_path):
        assert segments.first_record(seg.path)["seq"] == seg.first_seq
    res = verify(tmp_path)
    assert res.ok and res.records == 20 and res.segments == len(names)
    j2 = Journal(tmp_path, fsync=False, rotate_bytes=500)  # reopening continues the sequence
    assert j2.append(event(20)) == 21
    assert verify(tmp_path).ok


def test_daily_rotation(tmp_path):
    j = Journal(tmp_path, fsync=False, rotate_daily=True)
    day = 86400 * 20000
    fill(j, 2, at=day + 10)
    fill(j, 2, 2, at=day + 86400 + 10)
    assert [s.first_seq for s in segments.list_segments(tmp_path)] == [1, 3]


def test_torn_last_line_is_terminated_and_the_chain_continues(tmp_path):
    j = Journal(tmp_path, fsync=False)
    fill(j, 3)
    j.close()
    with open(tmp_path / "journal.jsonl", "ab") as fh:
        fh.write(b'{"seq":4,"prev":"abc","event":{"ty')  # kill -9 mid-write
    j2 = Journal(tmp_path, fsync=False)
    assert j2.torn and j2.seq == 3
    assert j2.append(event(3)) == 4
    res = verify(tmp_path)
    assert res.ok and res.records == 4 and res.torn == 1
    records, _, torn = segments.read_from(tmp_path, segments.Position(), 100)
    assert [r["seq"] for r in records] == [1, 2, 3, 4] and torn == 1


def test_complete_record_without_newline_survives_recovery(tmp_path):
    j = Journal(tmp_path, fsync=False)
    fill(j, 2)
    j.close()
    path = tmp_path / "journal.jsonl"
    path.write_bytes(path.read_bytes()[:-1])  # crash between the record and its \n
    j2 = Journal(tmp_path, fsync=False)
    assert j2.seq == 2 and j2.append(event(2)) == 3
    assert verify(tmp_path).ok


def test_verify_detects_edits_removals_and_reordering(tmp_path):
    j = Journal(tmp_path, fsync=False)
    fill(j, 4)
    j.close()
    path = tmp_path / "journal.jsonl"
    original = path.read_text().splitlines()
    path.write_text("\n".join(original).replace("SELECT 2", "SELECT 9") + "\n")
    assert not verify(tmp_path).ok and "edited" in verify(tmp_path).problem
    path.write_text("\n".join(original[:1] + original[2:]) + "\n")
    assert not verify(tmp_path).ok and "chain broken" in verify(tmp_path).problem
    path.write_text("\n".join([original[1], original[0], *original[2:]]) + "\n")
    assert not verify(tmp_path).ok


def test_verify_detects_a_missing_segment(tmp_path):
    j = Journal(tmp_path, fsync=False, rotate_bytes=300)
    fill(j, 10)
    j.close()
    rotated = [s for s in segments.list_segments(tmp_path) if not s.active]
    rotated[1].path.unlink()
    res = verify(tmp_path)
    assert not res.ok and "missing or extra segment" in res.problem


def test_retention_prunes_old_indexed_segments_and_verify_uses_the_anchor(tmp_path):
    now = time.time()
    j = Journal(tmp_path, fsync=False, rotate_bytes=300)
    fill(j, 6, at=now - 40 * 86400)
    fill(j, 6, 6, at=now)
    old = [s for s in segments.list_segments(tmp_path) if not s.active]
    assert prune(tmp_path, 30, indexed_seq=0, now=now) == []  # nothing indexed yet: keep everything
    deleted = prune(tmp_path, 30, indexed_seq=12, now=now)
    assert deleted and all(not p.exists() for p in deleted) and len(deleted) < len(old) + 1
    res = verify(tmp_path)
    assert res.ok and res.records < 12
    assert (tmp_path / "journal.anchor").exists()
    j.append(event(12))
    assert verify(tmp_path).ok
    assert prune(tmp_path, 0, None) == []


def test_read_from_follows_rotation_without_repeating(tmp_path):
    j = Journal(tmp_path, fsync=False, rotate_bytes=400)
    fill(j, 5)
    first, pos, _ = segments.read_from(tmp_path, segments.Position(), 3)
    fill(j, 10, 5)  # the active segment the reader stood in gets rotated
    rest, pos, _ = segments.read_from(tmp_path, pos, 100)
    assert [r["seq"] for r in first + rest] == list(range(1, 16))
    again, pos2, _ = segments.read_from(tmp_path, pos, 100)
    assert again == [] and pos2.seq == 15
    stale, _, _ = segments.read_from(tmp_path, segments.Position(segment=999, offset=0, seq=10), 100)
    assert [r["seq"] for r in stale] == [11, 12, 13, 14, 15]


def test_partial_line_being_written_is_not_consumed(tmp_path):
    j = Journal(tmp_path, fsync=False)
    fill(j, 2)
    with open(tmp_path / "journal.jsonl", "ab") as fh:
        fh.write(b'{"seq":3')
    records, pos, torn = segments.read_from(tmp_path, segments.Position(), 100)
    assert [r["seq"] for r in records] == [1, 2] and torn == 0
    assert segments.last_record(tmp_path / "journal.jsonl")["seq"] == 2


EVENTS = [
    AuditEvent("query", "s1", 1.5, {"statement": "SELECT 'é', \"q\"", "rows": 3, "masked": {"card": 1},
                                     "would": ["r1", "r2"], "error": None}),
    AuditEvent("session.start", "", 1700000000.123456, {"groups": ("dba", "ops"), "nested": {"b": 1, "a": [1.5]}}),
    AuditEvent("command", "s2", 2.0, {"line": "printf '\\x00\\udcff'", "output": "\u2603\n"}, id="e1", schema=2),
]


@pytest.mark.parametrize("event", EVENTS)
def test_a_line_is_what_one_json_dump_of_the_record_would_be(event):
    record = event_dict(event)
    assert record == dataclasses.asdict(event)
    line, digest = record_line(7, "ab" * 32, record)
    expected = json.dumps({"seq": 7, "prev": "ab" * 32, "hash": chain_hash("ab" * 32, record), "event": record},
                          sort_keys=True, separators=(",", ":"), default=str).encode() + b"\n"
    assert line == expected and digest == chain_hash("ab" * 32, record)


def test_an_unsynced_append_is_synced_by_close_and_before_rotation(tmp_path, monkeypatch):
    synced: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real(fd))[1])
    monkeypatch.setattr(os, "fdatasync", lambda fd: (synced.append(fd), real(fd))[1])  # the journal's flush
    journal = Journal(tmp_path, fsync=True, rotate_bytes=300)
    journal.append({"type": "a", "data": {"x": "y" * 200}}, sync=False)
    assert not synced
    journal.append({"type": "b", "data": {}}, sync=False)  # rotates first: the segment is synced
    assert synced
    synced.clear()
    journal.close()
    assert synced


def test_group_commit_one_fsync_covers_every_record_written_before_it(tmp_path, monkeypatch):
    import threading

    synced: list[int] = []
    real = os.fsync

    def slow_fsync(fd: int) -> None:
        time.sleep(0.002)  # a disk: long enough for other writers to queue behind it
        synced.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", slow_fsync)
    monkeypatch.setattr(os, "fdatasync", slow_fsync)  # the journal's flush
    journal = Journal(tmp_path, fsync=True)
    late: list[int] = []

    def writer(k: int) -> None:
        for i in range(25):
            seq = journal.append({"type": "t", "data": {"k": k, "i": i}})
            if journal._synced < seq:  # returned before its record was on disk
                late.append(seq)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not late and journal.seq == 200
    assert len(synced) < 200 * 0.8  # writers shared fsyncs
    journal.close()
    assert verify(tmp_path).ok


def test_close_orphans_gives_every_unfinished_start_an_unknown_outcome(tmp_path):
    from types import SimpleNamespace

    from bastion.audit.journal import STARTS, JournalSink

    audit = SimpleNamespace(journal_dir=str(tmp_path), fsync=False, rotate_bytes=0, rotate_daily=False)
    ctx = SimpleNamespace(settings=SimpleNamespace(config=SimpleNamespace(audit=audit)), open_sessions=None)
    sink = JournalSink(ctx)  # type: ignore[arg-type]
    sink.emit(AuditEvent("session.start", "s1", 1.0, {}))
    for i, start in enumerate(STARTS):
        sink.emit(AuditEvent(start, "s1", 2.0, {"event_id": f"open-{i}", "line": f"still running {i}"}))
        sink.emit(AuditEvent(start, "s1", 2.0, {"event_id": f"done-{i}"}))
        sink.emit(AuditEvent(STARTS[start], "s1", 3.0, {"event_id": f"done-{i}", "verdict": "allow"}))
    sink.close()

    again = JournalSink(ctx)  # type: ignore[arg-type]
    again.close_orphans()
    again.close_orphans()  # a second start finds nothing left open
    again.close()
    events = [r["event"] for s in segments.list_segments(tmp_path) for r in segments.iter_all_segment(s.path)]
    recovered = [e for e in events if e["data"].get("recovered")]
    assert sorted((e["type"], e["data"].get("event_id")) for e in recovered) == sorted(
        [(STARTS[start], f"open-{i}") for i, start in enumerate(STARTS)] + [("session.end", None)])
    for e in recovered:
        if e["type"] != "session.end":
            assert "outcome unknown" in e["data"]["error"] and e["data"]["line"].startswith("still running")
    assert verify(tmp_path).ok


def test_journals_from_either_encoder_verify(tmp_path):
    """Lines written with json.dumps (older bastions) and with orjson hash the bytes as
    written: both verify, also where the two spell a value differently (a float below 1e-4,
    NaN), and an edit is still caught."""
    old_style = {"type": "query", "at": 1.0, "data": {"duration": 1.2e-05, "ratio": float("nan")}}
    body = json.dumps(old_style, sort_keys=True, separators=(",", ":"), default=str).encode()
    digest = hashlib.sha256(GENESIS.encode() + body).hexdigest()
    (tmp_path / "journal.jsonl").write_bytes(
        b'{"event":%s,"hash":"%s","prev":"%s","seq":1}\n' % (body, digest.encode(), GENESIS.encode()))
    j = Journal(tmp_path, fsync=False)
    j.append({"type": "query", "at": 2.0, "data": {"duration": 3e-06, "user": "zoe"}})
    j.close()
    assert b'"duration":3e-06' not in (tmp_path / "journal.jsonl").read_bytes().splitlines()[1]  # orjson spelling
    assert verify(tmp_path).ok and verify(tmp_path).records == 2
    lines = (tmp_path / "journal.jsonl").read_bytes().splitlines(keepends=True)
    (tmp_path / "journal.jsonl").write_bytes(lines[0] + lines[1].replace(b'"at":2.0', b'"at":2.5'))
    assert not verify(tmp_path).ok
