"""Free-text masking: replace every recognized span of a value by its masked form.

Contract:

* :func:`mask_text` runs :func:`find_all` (non-overlapping, longest match wins) and
  replaces each match by ``style_for(recognizer_name)(matched_text)``; everything else
  is copied unchanged. It returns the new text and ``{recognizer name: matches masked}``
  (empty when nothing matched, in which case the *same* ``str`` object is returned).
* :func:`mask_bytes` is the wire-side helper: it decodes with ``surrogateescape`` so
  bytes that are not valid in ``encoding`` survive unchanged outside the matches, and
  returns the *same* ``bytes`` object when nothing matched (callers use ``is`` to skip
  re-encoding a row). Only ASCII-compatible encodings (utf-8, latin-1, cp1252, ascii…)
  are accepted: in UTF-16/32 the digits a recognizer looks for are not ASCII bytes and
  ``surrogateescape`` cannot round-trip.
* :func:`mask_many` is :func:`mask_bytes` over a batch of values (a result set's rows),
  scanned together (:mod:`policies.masking.batch`: one pre-filter pass for the batch
  instead of one per value); it returns only the values that change.
* ``style_for`` is called at most once per recognizer name per call.
* NULL handling is the caller's business; the empty string comes back unchanged.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Sequence
from functools import lru_cache

from .batch import scan_batch
from .prefilter import Scanner
from .recognizers import Match, Recognizer, find_all
from .styles import MaskStyle, nonempty

__all__ = ["mask_bytes", "mask_many", "mask_text"]


def mask_text(
    text: str, recognizers: Sequence[Recognizer] | Scanner, style_for: Callable[[str], MaskStyle]
) -> tuple[str, dict[str, int]]:
    """Mask every match of ``recognizers`` (or of a precompiled :class:`Scanner`) in
    ``text``; see the module contract."""
    if not text:
        return text, {}
    matches = recognizers.find(text) if isinstance(recognizers, Scanner) else find_all(text, recognizers)
    if not matches:
        return text, {}
    return _splice(text, matches, {}, style_for, 0, len(text))


def _splice(text: str, matches: list[Match], styles: dict[str, Callable[[str], str]],
            style_for: Callable[[str], MaskStyle], pos: int, end: int) -> tuple[str, dict[str, int]]:
    """``text[pos:end]`` with each match (offsets into ``text``, inside that span) replaced
    by its style's output; ``styles`` caches ``style_for`` (matches are never empty)."""
    if len(matches) == 1:  # the common case, without the lists
        m = matches[0]
        style = styles.get(m.recognizer)
        if style is None:
            style = styles[m.recognizer] = nonempty(style_for(m.recognizer))
        return text[pos : m.start] + style(text[m.start : m.end]) + text[m.end : end], {m.recognizer: 1}
    counts: dict[str, int] = {}
    parts: list[str] = []
    for m in matches:
        style = styles.get(m.recognizer)
        if style is None:
            style = styles[m.recognizer] = nonempty(style_for(m.recognizer))
        parts.append(text[pos : m.start])
        parts.append(style(text[m.start : m.end]))
        counts[m.recognizer] = counts.get(m.recognizer, 0) + 1
        pos = m.end
    parts.append(text[pos:end])
    return "".join(parts), counts


@lru_cache(maxsize=64)
def _ascii_compatible(encoding: str) -> str:
    """Canonical codec name, or ValueError if the codec is unknown or not ASCII-based."""
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        raise ValueError(f"unknown encoding {encoding!r}") from None
    if "0123456789@+-.:/ azAZ".encode(info.name) != b"0123456789@+-.:/ azAZ":
        raise ValueError(f"encoding {encoding!r} is not ASCII-compatible; masking needs one")
    return info.name


def mask_bytes(
    value: bytes,
    recognizers: Sequence[Recognizer] | Scanner,
    style_for: Callable[[str], MaskStyle],
    encoding: str = "utf-8",
) -> tuple[bytes, dict[str, int]]:
    """Mask a column value or output chunk given as bytes in ``encoding``.

    Raises ``ValueError`` for an unknown or non-ASCII-compatible encoding. A masked
    character that the encoding cannot represent (only possible with a custom mask
    character or label) raises ``UnicodeEncodeError`` rather than being silently altered.
    """
    name = _ascii_compatible(encoding)
    if not value:
        return value, {}
    text = value.decode(name, "surrogateescape")
    masked, counts = mask_text(text, recognizers, style_for)
    if not counts:
        return value, counts
    return masked.encode(name, "surrogateescape"), counts


def mask_many(
    values: Sequence[bytes | None], scanner: Scanner, style_for: Callable[[str], MaskStyle], encoding: str = "utf-8"
) -> dict[int, tuple[bytes, dict[str, int]]]:
    """:func:`mask_bytes` of each value, the batch scanned in one go: position -> (masked
    value, counts) for each value that changes. ``None`` (a NULL) and values with nothing
    to mask are left out. Raises as :func:`mask_bytes` does.
    """
    name = _ascii_compatible(encoding)
    texts = [value.decode(name, "surrogateescape") if value else "" for value in values]
    batch = scan_batch(scanner, texts)
    styles: dict[str, Callable[[str], str]] = {}
    joined = batch.joined
    out: dict[int, tuple[bytes, dict[str, int]]] = {}
    for i, (base, matches) in batch.found.items():
        masked, counts = _splice(joined, matches, styles, style_for, base, base + len(texts[i]))
        out[i] = (masked.encode(name, "surrogateescape"), counts)
    return out
