"""Result-set rows in the text protocol, in-place masking rewrites, and what the binary
rows (:mod:`._binary_rows`) share with them.

Text row: one lenenc string per column, ``0xfb`` for NULL.

Rewrites keep one packet per row (so sequence ids never change) and touch
only the selected values: every other byte is copied verbatim. When no masker
changes anything the *same* payload object is returned, so the relay can
forward it with an ``is`` check and zero copies. :func:`rewrite_text_rows` and
:func:`rewrite_binary_rows` rewrite a batch of rows with one call of a
:data:`RowsMasker` (a masker may scan the whole batch at once);
:func:`rewrite_text_row` / :func:`rewrite_binary_row` are the one-row,
one-function-per-column forms.

These loops are the relay's hot path: they index bytes directly and let a
truncated row surface as ``IndexError``, converted once per call into
:class:`RemoteProtocolError` (``try`` is free in CPython 3.11 until it fires).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence

from ._wire import lenenc_int
from .errors import LocalProtocolError, RemoteProtocolError

__all__ = [
    "Masker",
    "RowsMasker",
    "per_value",
    "rewrite_text_rows",
    "split_packets",
    "build_text_row",
    "is_row_terminator",
    "parse_text_row",
    "rewrite_text_row",
]

#: A masking function: original value bytes in, replacement bytes out.
Masker = Callable[[bytes], bytes]
#: A batch masking function: column index -> that column's values in a batch of rows (None
#: for NULL), rewritten in place (bastion.core.contracts.RowMasker.mask).
RowsMasker = Callable[[dict[int, list[bytes | None]]], None]
Span = tuple[int, int, int]
"""A value's (length prefix start, value start, value end) in its row."""

_NULL = 0xFB
_TEMPORAL = -1  # layout code: 1-byte length prefix
_LENENC = -2  # layout code: lenenc string


def is_row_terminator(payload: bytes, deprecate_eof: bool) -> bool:
    """True if a 0xfe-led packet in the row section ends it rather than being a row.

    A text row whose first value is ≥ 2**24 bytes also starts with 0xfe
    (8-byte lenenc), so length decides: an EOF is < 9 bytes; under
    DEPRECATE_EOF the terminating OK is < 0xFFFFFF bytes, while such a row is
    at least 2**24 + 9. (ERR, 0xff, is a separate check.)
    """
    if payload[:1] != b"\xfe":
        return False
    return len(payload) < (0xFFFFFF if deprecate_eof else 9)


def _lenenc_span(payload: bytes, pos: int) -> tuple[int, int]:
    """(start, end) of the lenenc string whose length prefix is at ``pos``."""
    first = payload[pos]
    if first < 0xFB:
        return pos + 1, pos + 1 + first
    if first == 0xFC:
        return pos + 3, pos + 3 + (payload[pos + 1] | payload[pos + 2] << 8)
    if first == 0xFD:
        return pos + 4, pos + 4 + (payload[pos + 1] | payload[pos + 2] << 8 | payload[pos + 3] << 16)
    if first == 0xFE:
        return pos + 9, pos + 9 + int.from_bytes(payload[pos + 1 : pos + 9], "little")
    raise RemoteProtocolError(f"invalid length prefix 0x{first:02x} in row")


def parse_text_row(payload: bytes, ncols: int | None = None) -> list[bytes | None]:
    """Decode a text row into values (``None`` for SQL NULL).

    With ``ncols`` the value count is checked too.
    """
    out: list[bytes | None] = []
    append = out.append
    pos, n = 0, len(payload)
    try:
        while pos < n:
            first = payload[pos]
            if first < 0xFB:  # inline fast path: short values dominate
                end = pos + 1 + first
                append(payload[pos + 1 : end])
            elif first == _NULL:
                append(None)
                end = pos + 1
            else:
                start, end = _lenenc_span(payload, pos)
                append(payload[start:end])
            pos = end
    except IndexError:
        raise RemoteProtocolError("truncated text row") from None
    if pos != n:
        raise RemoteProtocolError("truncated text row value")
    if ncols is not None and len(out) != ncols:
        raise RemoteProtocolError(f"text row has {len(out)} values, expected {ncols}")
    return out


def build_text_row(values: Sequence[bytes | None]) -> bytes:
    """Encode a text row (``None`` → 0xfb)."""
    return b"".join(b"\xfb" if v is None else lenenc_int(len(v)) + v for v in values)


def per_value(maskers: Mapping[int, Masker]) -> RowsMasker:
    """A :data:`RowsMasker` applying ``maskers[i]`` to each non-NULL value of column ``i``."""
    def mask(batch: dict[int, list[bytes | None]]) -> None:
        for index, fn in maskers.items():
            values = batch[index]
            for row, value in enumerate(values):
                if value is not None:
                    values[row] = fn(value)
    return mask


def rewrite_text_row(payload: bytes, maskers: Mapping[int, Masker]) -> bytes:
    """Apply ``maskers[i]`` to each non-NULL value of column ``i``.

    Returns ``payload`` itself when nothing changed. Columns after the last
    masked one are not even walked (they are copied as one slice).
    """
    if not maskers:
        return payload
    return rewrite_text_rows([payload], frozenset(maskers), per_value(maskers))[0]


def rewrite_text_rows(payloads: Sequence[bytes], columns: Collection[int], mask: RowsMasker) -> list[bytes]:
    """Mask ``columns`` of a batch of text rows with one ``mask`` call.

    ``mask`` gets every column of ``columns`` (a row without that column gives ``None``,
    like a NULL); it may replace non-NULL values only. Each row comes back as its
    ``payload`` object when none of its values changed. Columns after the last masked
    one are not walked.
    """
    if not columns:
        return list(payloads)
    last = max(columns)
    spans = [_text_spans(payload, last) for payload in payloads]
    return _apply(payloads, spans, sorted(columns), mask)


def _text_spans(payload: bytes, last: int) -> list[Span | None]:
    """Spans of the values of columns ``0..last`` (``None`` for NULL; fewer if the row is shorter)."""
    spans: list[Span | None] = []
    append = spans.append
    pos = col = 0
    n = len(payload)
    try:
        while col <= last and pos < n:
            first = payload[pos]
            if first == _NULL:
                append(None)
                pos += 1
            else:
                start, end = (pos + 1, pos + 1 + first) if first < 0xFB else _lenenc_span(payload, pos)
                append((pos, start, end))
                pos = end
            col += 1
    except IndexError:
        raise RemoteProtocolError("truncated text row") from None
    if pos > n:
        raise RemoteProtocolError("truncated text row value")
    return spans


def _apply(payloads: Sequence[bytes], spans: list[list[Span | None]], wanted: list[int],
           mask: RowsMasker) -> list[bytes]:
    """Gather the ``wanted`` values (ascending columns) of each row, mask them as one
    batch and splice what changed back into each row."""
    batch: dict[int, list[bytes | None]] = {}
    for index in wanted:
        batch[index] = [payload[span[1] : span[2]] if index < len(row) and (span := row[index]) is not None else None
                        for payload, row in zip(payloads, spans, strict=True)]
    before = {index: values[:] for index, values in batch.items()}
    mask(batch)
    out: list[bytes] = []
    for r, (payload, row) in enumerate(zip(payloads, spans, strict=True)):
        parts: list[bytes] = []
        copied = 0
        for index in wanted:
            if index >= len(row) or (span := row[index]) is None:
                continue
            new, old = batch[index][r], before[index][r]
            if new is old or new == old:
                continue
            if new is None:
                raise TypeError(f"a masker turned column {index} into NULL")
            prefix, _, end = span
            parts += (payload[copied:prefix], lenenc_int(len(new)), new)
            copied = end
        if parts:
            parts.append(payload[copied:])
            out.append(b"".join(parts))
        else:
            out.append(payload)
    return out


def split_packets(wire: bytes) -> list[tuple[int, bytes]]:
    """``(seq, payload)`` of each packet of ``wire``: whole packets under 16 MiB, as
    :meth:`PacketReader.take_rows` returns them."""
    out: list[tuple[int, bytes]] = []
    pos, n = 0, len(wire)
    while pos < n:
        end = pos + 4 + (wire[pos] | wire[pos + 1] << 8 | wire[pos + 2] << 16)
        if end > n:
            raise LocalProtocolError("split_packets: truncated packet")
        out.append((wire[pos + 3], wire[pos + 4 : end]))
        pos = end
    return out
