"""Terminal output of asciicast v2 recordings, as searchable ``output`` documents.

A ``recording`` journal event names a cast file. Its ``o`` (output) events are joined,
stripped of terminal control sequences, passed through the storage maskers (the
recording file itself is the SSH plugin's business; the index must never hold a clear
value the maskers would hide), and cut into chunks of about :data:`CHUNK_CHARS`
characters at line ends. Chunk ``k`` of the recording record ``seq`` gets the id
``<node>:<seq>:o<k>``, so re-indexing a recording never duplicates it.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from bastion.audit.schema import SessionInfo, doc_id

log = logging.getLogger("bastion.audit.index")

CHUNK_CHARS = 4000
_ANSI = re.compile(r"""
    \x1b\][^\x07\x1b]*(?:\x07|\x1b\\)      # OSC ... BEL / ST (window titles)
  | \x1b[P^_][^\x1b]*\x1b\\                # DCS / PM / APC strings
  | \x1b\[[0-?]*[ -/]*[@-~]                # CSI sequences (colours, cursor moves)
  | \x1b[ -/]*[0-~]                        # other escapes (charset selection, keypad modes)
  | [\x00-\x08\x0b\x0c\x0e-\x1f\x7f]       # remaining C0 controls except \t \n \r
""", re.VERBOSE)


def clean(text: str) -> str:
    """Printable text of terminal output: escapes removed, CR-LF and lone CR as newlines."""
    text = _ANSI.sub("", text)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_output(path: Path, limit: int) -> Iterator[tuple[float, str]]:
    """``(seconds from start, text)`` of the output events, up to ``limit`` characters in total."""
    seen = 0
    with open(path, encoding="utf-8", errors="replace") as fh:
        fh.readline()  # header
        for line in fh:
            try:
                at, code, data = json.loads(line)
            except (ValueError, TypeError):
                continue  # a line cut by a crash of the writer
            if code != "o" or not isinstance(data, str):
                continue
            yield float(at), data
            seen += len(data)
            if seen >= limit:
                return


def chunks(events: Iterator[tuple[float, str]], size: int = CHUNK_CHARS) -> Iterator[tuple[float, str]]:
    """Group cleaned output into ``(start offset, text)`` chunks cut at line ends."""
    buf: list[str] = []
    length, start = 0, None
    for at, data in events:
        text = clean(data)
        if not text:
            continue
        if start is None:
            start = at
        buf.append(text)
        length += len(text)
        if length >= size:
            joined = "".join(buf)
            cut = joined.rfind("\n", 0, size * 2)
            cut = cut + 1 if cut > 0 else len(joined)
            yield start, joined[:cut]
            rest = joined[cut:]
            buf, length, start = ([rest], len(rest), at) if rest else ([], 0, None)
    if buf and "".join(buf).strip():
        yield start or 0.0, "".join(buf)


def output_documents(base: Mapping[str, Any], record: Mapping[str, Any], node: str, session: SessionInfo | None,
                     redact: Callable[[str], str], limit: int) -> list[dict[str, Any]]:
    """The ``output`` documents of one ``recording`` record (``base`` is its own document)."""
    data = record["event"].get("data") or {}
    path = Path(str(data.get("path") or ""))
    if not data.get("path") or not path.is_file():
        log.warning("recording %s is missing; its output is not indexed", path)
        return []
    docs: list[dict[str, Any]] = []
    seq = int(record["seq"])
    started = float(record["event"]["at"]) - float(data.get("duration_s") or 0)
    try:
        parts = list(chunks(read_output(path, limit)))
    except OSError as exc:
        log.warning("recording %s is unreadable (%s); its output is not indexed", path, exc)
        return []
    for k, (offset, text) in enumerate(parts):
        doc = {**base, "id": doc_id(node, seq, f"o{k:04d}"), "type": "output", "output": redact(text),
               "time": int(round((started + offset) * 1000)), "statement": "", "command": "", "path": "",
               "message": "", "data": {"recording": str(path), "channel": data.get("channel"), "chunk": k,
                                       "offset_s": round(offset, 3)}}
        for f in ("user", "target", "protocol", "account", "client_addr"):
            doc[f] = doc.get(f) or getattr(session or SessionInfo(), f)
        docs.append(doc)
    return docs
