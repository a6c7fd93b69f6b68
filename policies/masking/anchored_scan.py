"""Anchored scanning: skip a regex pass when a value's *shape* holds none of a pattern's
anchors, and on big values run the regex only in windows after the anchors.

A value's shape maps ASCII digits to ``0``, upper-case letters to ``A``, lower-case
letters to ``a``, other ASCII characters to themselves and anything else to ``?``:
``translate`` and ``str.find`` on it are C loops, so a clean value costs a fraction of a
regex pass and a 16 MB value stays linear.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator

# Values at least this long are scanned through scan()'s anchor windows instead of a
# whole-value regex pass (a digit-led pattern costs ~10 ns per digit in the value).
BIG_TEXT = 1 << 11
DIGIT = re.compile(r"[0-9]")


def no_digit(text: str) -> bool:
    """True if ``text`` certainly has no ASCII digit. Only checked below BIG_TEXT: on big
    values a miss costs a full regex pass while the anchor search is already cheap."""
    return len(text) < BIG_TEXT and DIGIT.search(text) is None


_SHAPE_BYTES = bytes.maketrans(
    (string.digits + string.ascii_uppercase + string.ascii_lowercase).encode(), b"0" * 10 + b"A" * 26 + b"a" * 26
)
"""The shape of ASCII text as a bytes table (``bytes.translate`` is a tight C loop)."""
_SHAPE_CACHE_MAX = 1 << 20
_last_shape: tuple[str, str] = ("", "")


def _shape(text: str) -> str:
    """The shape of ``text`` (see :func:`scan`): ASCII letters and digits by class, any other
    ASCII character itself and every other character ``?`` (one code point, one character:
    ``encode("ascii", "replace")``, a C loop, where a ``str.translate`` table costs a dict
    lookup per character). The last result is memoised by identity so the four
    digit-family recognizers of one find_all() call translate a value once. The memo is a
    single tuple swapped atomically (thread-safe) and skips values over 1 MiB so it never
    pins a huge value in memory."""
    global _last_shape
    last = _last_shape
    if last[0] is text:
        return last[1]
    shape = text.encode("ascii", "replace").translate(_SHAPE_BYTES).decode("ascii")
    if len(text) <= _SHAPE_CACHE_MAX:
        _last_shape = (text, shape)
    return shape


def scan(text: str, pattern: re.Pattern[str], anchors: tuple[str, ...], max_len: int,
          seen: bool = False) -> Iterator[re.Match[str]]:
    """``pattern.finditer(text)``, skipped when no anchor occurs and, on big texts,
    restricted to windows after anchor occurrences.

    Requirements on the caller: every match of ``pattern`` starts where one of
    ``anchors`` (ASCII, without ``?``) occurs in the value's *shape* (ASCII digits → ``0``,
    upper-case letters → ``A``, lower-case → ``a``, other ASCII unchanged, anything else
    ``?``), is at most ``max_len`` long and
    looks at most 2 characters ahead. ``translate`` and ``str.find`` on the shape are fast
    C loops: a clean 100-char value costs ~0.5 µs instead of a regex pass, and a 16 MB
    value full of short numbers one ``translate`` plus a few ``find`` calls. ``seen``: the
    caller already knows an anchor occurs (the combined pre-filter saw one).
    """
    n = len(text)
    if not anchors or (seen and n < BIG_TEXT):
        yield from pattern.finditer(text)
        return
    shape = _shape(text)
    if n < BIG_TEXT:
        if any(lit in shape for lit in anchors):
            yield from pattern.finditer(text)
        return
    positions = _sparse_anchors(shape, anchors, n // 64 + 64)
    if positions is not None:
        # Every match starts at an anchor: try the pattern there only, left to right and
        # past the last match, which is what finditer does (it fails everywhere else).
        last = 0
        for i in positions:
            if i >= last and (m := pattern.match(text, i)) is not None:
                last = m.end()
                yield m
        return
    # Dense anchors (long digit runs): windows after them, skipping anchors inside a window.
    spans: list[tuple[int, int]] = []
    for lit in anchors:
        i = shape.find(lit)
        while i >= 0:
            end = min(n, i + 2 * max_len + 2)
            spans.append((i, end))
            # Matches starting before end - max_len - 2 end (with look-ahead) inside this
            # window: skip their anchors, which keeps long digit runs linear.
            i = shape.find(lit, max(i + 1, end - max_len - 2))
    spans.sort()
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for start, end in merged:
        for m in pattern.finditer(text, start, end):
            if end == n or m.end() <= end - 2:  # the look-ahead saw real text
                yield m


def _sparse_anchors(shape: str, anchors: tuple[str, ...], limit: int) -> list[int] | None:
    """Every position where an anchor occurs in ``shape``, sorted; None past ``limit`` of them."""
    found: set[int] = set()
    for lit in anchors:
        i = shape.find(lit)
        while i >= 0:
            found.add(i)
            if len(found) > limit:
                return None
            i = shape.find(lit, i + 1)
    return sorted(found)
