"""SSH shell recordings on the audit dashboard: which casts a session has, and where they are.

A recording is found only through the session's ``recording`` audit events (never from a
path in the request): the URL names the session and the channel number, the index says
which file the SSH plugin wrote for that channel, and the file must sit in
``state_dir/recordings``. Files are served as stored (the SSH plugin masks them as it
writes them).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from bastion.audit.query import Hit, Search
from bastion.audit.search import AuditSearch

PLAYER_JS = "vendor/asciinema-player.min.js"
PLAYER_CSS = "vendor/asciinema-player.css"
PLAYER_CSP = ("default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; frame-ancestors 'none'; "
              "base-uri 'none'; object-src 'none'")
"""CSP of pages that embed the player: its terminal emulator is WebAssembly (compiled from
bytes in the player's own script), which Chromium allows only with ``'wasm-unsafe-eval'``.
Still no inline or ``eval``-ed JavaScript."""


@dataclass(frozen=True)
class Recording:
    channel: int
    path: str
    duration_s: float
    time: float


def from_hits(hits: Iterable[Hit]) -> list[Recording]:
    """The recordings referenced by a session's ``recording`` events, in order."""
    out: list[Recording] = []
    for hit in hits:
        if hit.doc.get("type") != "recording":
            continue
        data = hit.doc.get("data") or {}
        try:
            channel = int(data.get("channel", ""))
        except (TypeError, ValueError):
            continue
        path = str(data.get("path") or "")
        if path:
            out.append(Recording(channel, path, float(data.get("duration_s") or 0), hit.time))
    return out


def find(search: AuditSearch, session_id: str, channel: int, recordings_dir: Path) -> Path | None:
    """The cast file of ``channel`` in ``session_id``, if its event exists and the file is
    a regular file inside ``recordings_dir`` (symlinks and other paths are refused)."""
    hits = search.scan(Search(session=(session_id,), type=("recording",), order="oldest", highlight=False))
    root = recordings_dir.resolve()
    for rec in from_hits(hits):
        if rec.channel != channel:
            continue
        path = Path(rec.path)
        if path.is_symlink():
            continue
        resolved = path.resolve()
        if resolved.parent == root and resolved.suffix == ".cast" and resolved.is_file():
            return resolved
    return None


def player_installed() -> bool:
    """Whether ``scripts/install.sh`` copied the asciinema-player files into ``static/vendor``."""
    static = Path(current_app.static_folder or "")
    return (static / PLAYER_JS).is_file() and (static / PLAYER_CSS).is_file()
