"""Journal segments on disk, and reading records from a position (used by verify and the indexer).

A journal directory holds the active segment ``journal.jsonl`` and rotated segments
``journal-<n>.jsonl``, where ``<n>`` is the zero-padded sequence number of the segment's
first record. A segment is therefore named by its first record whether it is still active
or already rotated, and a reader's :class:`Position` survives a rotation (a rename keeps
the bytes, so the byte offset stays valid).

Every record is one line ending in ``\\n``. A line without its ``\\n`` is being written (or
was torn by a crash) and is never consumed. A line that is not a JSON object is a torn
line from a crash that the journal terminated when it reopened; readers skip it and
count it (see ``Journal._recover``).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import orjson

ACTIVE = "journal.jsonl"
ANCHOR = "journal.anchor"
SEGMENT_RE = re.compile(r"^journal-(\d{12})\.jsonl$")
TAIL_CHUNK = 64 * 1024


def segment_name(first_seq: int) -> str:
    return f"journal-{first_seq:012d}.jsonl"


def parse_line(raw: bytes) -> dict[str, Any] | None:
    """A complete record, or None for a torn (unparseable) line."""
    try:
        record = orjson.loads(raw)
    except orjson.JSONDecodeError:
        # orjson is strict where json is lenient (NaN, lone surrogate escapes, integers past
        # 64 bits): such a line is still a record if json reads it.
        try:
            record = json.loads(raw)
        except ValueError:
            return None
    if not isinstance(record, dict) or not isinstance(record.get("seq"), int) or "event" not in record:
        return None
    return record


@dataclass(frozen=True)
class Segment:
    first_seq: int
    """Sequence number of the segment's first complete record (its name)."""
    path: Path
    active: bool


@dataclass(frozen=True)
class Position:
    """Where a reader stands: after record ``seq``, at ``offset`` bytes into segment ``segment``."""

    segment: int = 0
    offset: int = 0
    seq: int = 0


def first_record(path: Path) -> dict[str, Any] | None:
    """The first complete record of a file (skipping torn lines), or None."""
    try:
        with open(path, "rb") as fh:
            for raw in fh:
                if not raw.endswith(b"\n"):
                    return None
                record = parse_line(raw)
                if record is not None:
                    return record
    except FileNotFoundError:
        return None
    return None


def last_record(path: Path) -> dict[str, Any] | None:
    """The last complete record of a file, read backwards (cheap on large segments: each
    byte is read at most twice, however long the lines; a statement of 20 MB makes a
    record of 40 MB)."""
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        return None
    with fh:
        after: int | None = None  # the newline ending the line under consideration
        for newline in _newlines_backwards(fh, fh.seek(0, os.SEEK_END)):
            if after is not None:  # a complete line: (newline, after); the tail after the last newline is torn
                fh.seek(newline + 1)
                record = parse_line(fh.read(after - newline - 1))
                if record is not None:
                    return record
            after = newline
    return None


def _newlines_backwards(fh: BinaryIO, end: int) -> Iterator[int]:
    """Offsets of the newlines before ``end``, last first, then -1 (the file's start)."""
    pos = end
    while pos > 0:
        step = min(TAIL_CHUNK, pos)
        pos -= step
        fh.seek(pos)
        chunk = fh.read(step)
        i = len(chunk)
        while (i := chunk.rfind(b"\n", 0, i)) >= 0:
            yield pos + i
    yield -1


SIDE_PREFIX = "web-"
"""Journals of web processes of their own (``wsgi.py``) live in ``<journal_dir>/web-<pid>``:
two writers must never share one hash chain."""
WORKER_PREFIX = "worker-"
"""Worker ``I`` of ``bastion serve --workers N`` journals to ``<journal_dir>/worker-<I>``
(stable across its restarts: the next one closes the sessions a killed one left open)."""


def side_journals(directory: Path) -> list[Path]:
    """The side journals under ``directory`` (web processes', workers') that hold a record, by name."""
    try:
        names = sorted(os.listdir(directory))
    except FileNotFoundError:
        return []
    return [directory / name for name in names
            if name.startswith((SIDE_PREFIX, WORKER_PREFIX)) and (directory / name).is_dir()
            and list_segments(directory / name)]


def list_segments(directory: Path) -> list[Segment]:
    """Every segment in record order: rotated ones by name, then the active one if it holds a record."""
    rotated: list[Segment] = []
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    for name in names:
        m = SEGMENT_RE.match(name)
        if m:
            rotated.append(Segment(int(m.group(1)), directory / name, False))
    rotated.sort(key=lambda s: s.first_seq)
    active = directory / ACTIVE
    first = first_record(active)
    if first is not None:
        rotated.append(Segment(int(first["seq"]), active, True))
    return rotated


def read_anchor(directory: Path) -> tuple[int, str] | None:
    """``(seq, hash)`` of the last record deleted by retention, if any were deleted."""
    try:
        data = json.loads((directory / ANCHOR).read_text())
    except FileNotFoundError:
        return None
    return int(data["seq"]), str(data["hash"])


def _start(segments: list[Segment], pos: Position) -> tuple[int, int]:
    for i, seg in enumerate(segments):
        if seg.first_seq == pos.segment:
            return i, pos.offset
    # The segment is gone (pruned) or unknown: start from the segment holding seq + 1.
    index = 0
    for i, seg in enumerate(segments):
        if seg.first_seq <= pos.seq + 1:
            index = i
    return index, 0


def read_from(directory: Path, pos: Position, limit: int) -> tuple[list[dict[str, Any]], Position, int]:
    """Up to ``limit`` records after ``pos``: ``(records, new position, torn lines skipped)``.

    Records with ``seq <= pos.seq`` are skipped, so a stale offset never yields a record twice.
    """
    for _attempt in range(3):
        try:
            return _read(list_segments(directory), pos, limit)
        except FileNotFoundError:  # the active segment was rotated between listing and opening
            continue
    return [], pos, 0


def _read(segments: list[Segment], pos: Position, limit: int) -> tuple[list[dict[str, Any]], Position, int]:
    records: list[dict[str, Any]] = []
    torn = 0
    if not segments:
        return records, pos, torn
    index, offset = _start(segments, pos)
    seq = pos.seq
    while index < len(segments) and len(records) < limit:
        seg = segments[index]
        with open(seg.path, "rb") as fh:
            fh.seek(offset)
            for raw in fh:
                if not raw.endswith(b"\n"):
                    break  # being written right now
                offset += len(raw)
                record = parse_line(raw)
                if record is None:
                    torn += 1
                elif record["seq"] > seq:
                    records.append(record)
                    seq = record["seq"]
                if len(records) >= limit:
                    break
        pos = Position(seg.first_seq, offset, seq)
        if len(records) >= limit or seg.active or index + 1 >= len(segments):
            break
        index, offset = index + 1, 0
        pos = Position(segments[index].first_seq, 0, seq)
    return records, pos, torn


def iter_all(directory: Path, batch: int = 1000) -> Iterator[dict[str, Any]]:
    """Every complete record of every segment, in order."""
    pos = Position()
    while True:
        records, pos, _ = read_from(directory, pos, batch)
        if not records:
            return
        yield from records


def iter_all_segment(path: Path) -> Iterator[dict[str, Any]]:
    """Complete records of one segment file, in order (torn lines skipped)."""
    with open(path, "rb") as fh:
        for raw in fh:
            record = parse_line(raw)
            if record is not None:
                yield record
