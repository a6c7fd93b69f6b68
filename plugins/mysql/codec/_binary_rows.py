"""Result-set rows in the binary protocol (COM_STMT_EXECUTE / FETCH) and their masking rewrites.

Binary row: ``0x00``, a NULL bitmap of ``(ncols + 9) // 8`` bytes whose bit
``i + 2`` marks column ``i`` NULL, then the non-NULL values encoded by type
(fixed ints/floats, 1-byte-length temporals, lenenc everything else). The rewrite
rules are the text rows' (:mod:`._rows`): one packet per row, only the selected
values touched, the same payload object back when nothing changed.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from functools import lru_cache

from ._rows import _LENENC, _TEMPORAL, Masker, RowsMasker, _apply, _lenenc_span, per_value
from ._wire import lenenc_int, local_errors
from .constants.column_types import FIXED_SIZE_TYPES, STRING_TYPES, TEMPORAL_TYPES
from .errors import LocalProtocolError, RemoteProtocolError

__all__ = ["build_binary_row", "parse_binary_row", "rewrite_binary_row", "rewrite_binary_rows"]


@lru_cache(maxsize=256)
def _layout(types: tuple[int, ...]) -> tuple[int, ...]:
    """Per column: fixed byte size (≥ 0), _TEMPORAL or _LENENC."""
    return tuple(FIXED_SIZE_TYPES.get(t, _TEMPORAL if t in TEMPORAL_TYPES else _LENENC) for t in types)


def _bitmap(payload: bytes, ncols: int) -> tuple[int, int]:
    """(NULL bitmap shifted so bit i is column i, offset of the first value)."""
    pos = 1 + (ncols + 9) // 8
    if payload[:1] != b"\x00" or len(payload) < pos:
        raise RemoteProtocolError("malformed binary row header")
    return int.from_bytes(payload[1:pos], "little") >> 2, pos


def _layout_of(types: Sequence[int]) -> tuple[int, ...]:
    return _layout(types if isinstance(types, tuple) else tuple(types))


def _binary_spans(payload: bytes, layout: tuple[int, ...], stop: int) -> list[tuple[int, int, int] | None]:
    """``(prefix_start, start, end)`` of the first ``stop`` values (``None`` if NULL)."""
    bitmap, pos = _bitmap(payload, len(layout))
    spans: list[tuple[int, int, int] | None] = []
    append = spans.append
    try:
        for kind in layout[:stop]:
            if bitmap & 1:
                append(None)
            else:
                prefix = pos
                if kind >= 0:
                    start, pos = pos, pos + kind
                elif kind == _TEMPORAL:
                    start = pos + 1
                    pos = start + payload[prefix]
                else:
                    start, pos = _lenenc_span(payload, prefix)
                append((prefix, start, pos))
            bitmap >>= 1
    except IndexError:
        raise RemoteProtocolError("truncated binary row") from None
    if pos > len(payload):
        raise RemoteProtocolError("truncated binary row value")
    return spans


def parse_binary_row(payload: bytes, types: Sequence[int]) -> list[bytes | None]:
    """Decode a binary row into raw value bytes (``None`` for NULL).

    Lenenc and temporal values are returned without their length prefix;
    fixed-width values as their little-endian bytes. ``types`` are the
    ``ColumnDef.type`` of each column, in order (pass a tuple to skip a copy).
    """
    layout = _layout_of(types)
    bitmap, pos = _bitmap(payload, len(layout))
    out: list[bytes | None] = []
    append = out.append
    try:
        for kind in layout:
            if bitmap & 1:
                append(None)
            elif kind >= 0:
                end = pos + kind
                append(payload[pos:end])
                pos = end
            else:
                first = payload[pos]
                if kind == _TEMPORAL or first < 0xFB:
                    end = pos + 1 + first
                    append(payload[pos + 1 : end])
                    pos = end
                else:
                    start, pos = _lenenc_span(payload, pos)
                    append(payload[start:pos])
            bitmap >>= 1
    except IndexError:
        raise RemoteProtocolError("truncated binary row") from None
    if pos != len(payload):
        raise RemoteProtocolError("binary row length does not match its column types")
    return out


@local_errors
def build_binary_row(values: Sequence[bytes | None], types: Sequence[int]) -> bytes:
    """Encode a binary row from raw value bytes as :func:`parse_binary_row` returns them."""
    if len(values) != len(types):
        raise LocalProtocolError("values and types differ in length")
    bitmap = 0
    parts: list[bytes] = []
    for i, (v, kind) in enumerate(zip(values, _layout_of(types), strict=True)):
        if v is None:
            bitmap |= 1 << (i + 2)
        elif kind >= 0:
            if len(v) != kind:
                raise LocalProtocolError(f"column {i} needs exactly {kind} bytes")
            parts.append(v)
        elif kind == _TEMPORAL:
            if len(v) > 255:
                raise LocalProtocolError(f"temporal column {i} too long")
            parts += (bytes((len(v),)), v)
        else:
            parts += (lenenc_int(len(v)), v)
    head = b"\x00" + bitmap.to_bytes((len(types) + 9) // 8, "little")
    return head + b"".join(parts)


def rewrite_binary_row(payload: bytes, types: Sequence[int], maskers: Mapping[int, Masker]) -> bytes:
    """Apply ``maskers`` to non-NULL lenenc-string columns of a binary row.

    Raises :class:`LocalProtocolError` if a masker targets a column whose type
    is not in :data:`STRING_TYPES` (its encoding cannot change length) or an
    index beyond ``types``. Returns ``payload`` itself when nothing changed.
    As with text rows, columns after the last masked one are not walked.
    """
    if not maskers:
        return payload
    return rewrite_binary_rows([payload], types, frozenset(maskers), per_value(maskers))[0]


def rewrite_binary_rows(payloads: Sequence[bytes], types: Sequence[int], columns: Collection[int],
                        mask: RowsMasker) -> list[bytes]:
    """:func:`rewrite_text_rows` for binary rows of column ``types``; raises as
    :func:`rewrite_binary_row` does for a column that is not a lenenc string."""
    if not columns:
        return list(payloads)
    for i in columns:
        if not 0 <= i < len(types) or types[i] not in STRING_TYPES:
            raise LocalProtocolError(f"cannot mask binary column {i}: not a lenenc string type")
    # Walk only up to the last masked column; the rest is copied as one slice.
    layout, stop = _layout_of(types), max(columns) + 1
    spans = [_binary_spans(payload, layout, stop) for payload in payloads]
    return _apply(payloads, spans, sorted(columns), mask)
