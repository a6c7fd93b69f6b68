"""asciicast v2 recordings of terminal channels (https://docs.asciinema.org/manual/asciicast/v2).

One file per shell channel: a JSON header line, then ``[seconds, code, data]`` lines —
``o`` output (UTF-8, decoded incrementally so characters split across packets
survive), ``r`` resize (``"COLSxROWS"``) and, only when enabled, ``i`` input. Input the
terminal did not echo back (passwords typed at a prompt) is masked: an input chunk is
written in clear only when the next output starts with it. Writes are buffered and
flushed at least every second, so a live session can be followed from the file.

Output and input are passed through ``redact`` (the storage maskers) before they are
written: a recording never holds a clear card number or secret. The end of the stream
that could still be part of a longer value (a digit run, an unbroken token) waits for
the next chunk (``Carry``), so a value split across SSH packets — or typed and echoed one
key at a time — is redacted as a whole.
"""

from __future__ import annotations

import codecs
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bastion.core.carry import Carry

FLUSH_SECONDS = 1.0


def mask(text: str) -> str:
    """Hide what was typed while keeping control keys (Enter, Ctrl-C) visible."""
    return "".join("*" if ch.isprintable() else ch for ch in text)


class CastWriter:
    """Writes one asciicast v2 file; every method is cheap and never raises on bad UTF-8."""

    def __init__(self, path: Path, width: int, height: int, *, term: str = "", title: str = "",
                 record_input: bool = False, command: str = "",
                 redact: Callable[[str], str] | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.started = time.time()
        self._t0 = time.monotonic()
        self._fh = open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed in close()
        os.chmod(path, 0o600)
        self._out = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._in = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.record_input = record_input
        redact = redact or (lambda text: text)
        self._carry_out = Carry(redact)
        self._carry_in = Carry(redact)
        self._pending: tuple[float, str] | None = None
        self._last_flush = self._t0
        self.events = 0
        self.output_bytes = 0
        header: dict[str, Any] = {"version": 2, "width": max(1, width), "height": max(1, height),
                                  "timestamp": int(self.started), "title": title}
        if term:
            header["env"] = {"TERM": term}
        if command:
            header["command"] = command
        self._fh.write(json.dumps(header) + "\n")

    def _now(self) -> float:
        return round(time.monotonic() - self._t0, 6)

    def _write(self, at: float, code: str, data: str) -> None:
        self._fh.write(json.dumps([at, code, data], ensure_ascii=False) + "\n")
        self.events += 1
        if at - (self._last_flush - self._t0) >= FLUSH_SECONDS:
            self._fh.flush()
            self._last_flush = time.monotonic()

    def output(self, data: bytes) -> None:
        self.output_bytes += len(data)
        text = self._out.decode(data)
        if not text:
            return
        if self._pending is not None:
            at, typed = self._pending
            self._pending = None
            self._input(at, typed if text.startswith(typed) else mask(typed))
        released = self._carry_out.push(text)
        if released:
            self._write(self._now(), "o", released)

    def _input(self, at: float, text: str) -> None:
        released = self._carry_in.push(text)
        if released:
            self._write(at, "i", released)

    def input(self, data: bytes) -> None:
        if not self.record_input:
            return
        text = self._in.decode(data)
        if not text:
            return
        if self._pending is not None:  # the previous chunk was never echoed
            at, typed = self._pending
            self._input(at, mask(typed))
        self._pending = (self._now(), text)

    def resize(self, width: int, height: int) -> None:
        self._write(self._now(), "r", f"{width}x{height}")

    def close(self) -> float:
        """Finish the file; returns the recording's duration in seconds."""
        if self._fh.closed:
            return self._now()
        if self._pending is not None:
            self._input(self._pending[0], mask(self._pending[1]))
            self._pending = None
        rest_in = self._carry_in.drain()
        if rest_in:
            self._write(self._now(), "i", rest_in)
        tail = self._carry_out.push(self._out.decode(b"", final=True)) + self._carry_out.drain()
        if tail:
            self._write(self._now(), "o", tail)
        self._fh.close()
        return self._now()
