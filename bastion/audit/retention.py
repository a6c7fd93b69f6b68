"""Journal retention: delete whole rotated segments past ``audit.retention_days``."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

from bastion.audit import segments as seg
from bastion.audit.fsutil import fsync_dir

log = logging.getLogger("bastion.audit.journal")

DAY = 86400


def prune(directory: Path, retention_days: int, indexed_seq: int | None, now: float | None = None) -> list[Path]:
    """Delete rotated segments whose last record is older than ``retention_days``.

    Never deletes the active segment, nor a segment holding a record the indexer has not
    indexed yet (``indexed_seq``; None when no indexer runs). Writes ``journal.anchor``
    before deleting, so :func:`verify` continues from the last deleted record.
    """
    if retention_days <= 0:
        return []
    cutoff = (now or time.time()) - retention_days * DAY
    deleted: list[Path] = []
    for segment in seg.list_segments(directory):
        last = seg.last_record(segment.path)
        if segment.active or last is None or float(last["event"].get("at", 0)) >= cutoff:
            break
        if indexed_seq is not None and last["seq"] > indexed_seq:
            break
        tmp = directory / (seg.ANCHOR + ".tmp")
        tmp.write_text(json.dumps({"seq": last["seq"], "hash": last["hash"], "at": last["event"].get("at")}))
        os.replace(tmp, directory / seg.ANCHOR)
        segment.path.unlink()
        deleted.append(segment.path)
    if deleted:
        fsync_dir(directory)
        log.info("journal retention deleted %d segment(s)", len(deleted))
    return deleted
