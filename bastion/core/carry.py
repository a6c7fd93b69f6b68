"""Masking a stream whose sensitive values may be cut anywhere by the transport.

SSH delivers output in chunks that end wherever a packet or a read ended: a card number
printed by one ``write`` can reach the bastion in two pieces, and masking each piece on
its own finds neither. ``Carry`` holds back the end of what it was given when that end
could still be the start of a longer value, and masks what it releases as a whole.
``LiveStream`` does the same for bytes shown to a user, who must still see a prompt that
never ends in a newline: the pump releases what is held once the stream has been quiet
for ``HOLD_SECONDS``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

HOLD_MAX = 4096
"""Most characters held back: a longer unbroken token is released in part."""

HOLD_SECONDS = 0.02
"""How long live output may be held waiting for the rest of a value. The pieces of one
``write`` follow each other within a millisecond or two; a keystroke echoed into a token
(the user typing a word) is shown this much later, which is below what a typist notices."""

# A value that may still be growing at the end of the buffer: a run of digits with
# separators (a card typed or printed in groups) or any unbroken token (a secret).
_TAIL = re.compile(r"(?:[0-9][0-9 -]*|\S+)\Z")


class Carry:
    """Holds back the end of a stream until it cannot be part of a longer sensitive value,
    then redacts what is released as a whole (keystroke echo included)."""

    def __init__(self, redact: Callable[[str], str]) -> None:
        self.redact = redact
        self.buf = ""

    def push(self, text: str) -> str:
        """Add ``text``; returns what can be released now, redacted."""
        buf = self.buf + text
        # Only the last HOLD_MAX characters are searched: the hold stays bounded and a
        # megabyte of output costs one short regex search.
        match = _TAIL.search(buf, max(0, len(buf) - HOLD_MAX))
        cut = match.start() if match else len(buf)
        self.buf = buf[cut:]
        return self.redact(buf[:cut]) if cut else ""

    def drain(self) -> str:
        """Release everything held (the stream ended or went quiet), redacted."""
        buf, self.buf = self.buf, ""
        return self.redact(buf) if buf else ""


class LiveStream:
    """Live masking of one byte stream (a channel's stdout or its stderr).

    Bytes are decoded with ``surrogateescape`` so whatever is not UTF-8 (or a character
    cut in two by the transport) passes through unchanged."""

    def __init__(self, mask: Callable[[str], str]) -> None:
        self._carry = Carry(mask)

    @property
    def holding(self) -> bool:
        return bool(self._carry.buf)

    def push(self, data: bytes) -> bytes:
        return self._carry.push(data.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")

    def drain(self) -> bytes:
        return self._carry.drain().encode("utf-8", "surrogateescape")
