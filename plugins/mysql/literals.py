"""Statement parameters as SQL literals for the audit trail, masked.

Contract of :func:`render` (pure): one decoded parameter (:class:`~plugins.mysql.codec.Param`)
becomes the literal a person would have typed for it — ``NULL``, ``42``, ``-1.5``,
``'text'`` (``\\``, ``'`` and control characters escaped as MariaDB reads them without
NO_BACKSLASH_ESCAPES), ``_binary'…'`` for BLOB/GEOMETRY/BIT parameters, ``DATE'…'``,
``TIMESTAMP'…'``, ``TIME'…'``, ``X'…'`` for bytes that are not UTF-8 — and ``mask`` (the
session's storage masking) is applied to the *value* of every literal before it is
quoted, numbers included (a card number bound as a BIGINT is masked like one in a string).

Bytes that are not UTF-8 are shown in hex only when masking their Latin-1 reading changes
nothing (hex would hide a card from the recognizers, not from a reader); otherwise as that
reading, masked. A value longer than :data:`SHOWN` characters is masked whole, then cut;
one longer than :data:`SCANNED` bytes (or long data of which the bastion kept only the
first :data:`SCANNED` bytes) is not recorded at all, only its size: masking needs the
whole value (a key's BEGIN and END lines), and the journal is no place for megabytes.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from plugins.mysql.codec import (
    MYSQL_TYPE_BIT,
    MYSQL_TYPE_BLOB,
    MYSQL_TYPE_DATE,
    MYSQL_TYPE_DATETIME,
    MYSQL_TYPE_DATETIME2,
    MYSQL_TYPE_DECIMAL,
    MYSQL_TYPE_DOUBLE,
    MYSQL_TYPE_FLOAT,
    MYSQL_TYPE_GEOMETRY,
    MYSQL_TYPE_INT24,
    MYSQL_TYPE_LONG,
    MYSQL_TYPE_LONG_BLOB,
    MYSQL_TYPE_LONGLONG,
    MYSQL_TYPE_MEDIUM_BLOB,
    MYSQL_TYPE_NEWDATE,
    MYSQL_TYPE_NEWDECIMAL,
    MYSQL_TYPE_SHORT,
    MYSQL_TYPE_TIME,
    MYSQL_TYPE_TIME2,
    MYSQL_TYPE_TIMESTAMP,
    MYSQL_TYPE_TIMESTAMP2,
    MYSQL_TYPE_TINY,
    MYSQL_TYPE_TINY_BLOB,
    MYSQL_TYPE_YEAR,
    Param,
)

Mask = Callable[[str], str]

SHOWN = 1024
"""Characters of one parameter kept in the record (after masking)."""
SCANNED = 1 << 20
"""Bytes of one parameter the bastion masks and records; longer ones are recorded by size only."""

INTEGER_TYPES = frozenset({MYSQL_TYPE_TINY, MYSQL_TYPE_SHORT, MYSQL_TYPE_YEAR, MYSQL_TYPE_LONG, MYSQL_TYPE_INT24,
                           MYSQL_TYPE_LONGLONG})
BINARY_TYPES = frozenset({MYSQL_TYPE_TINY_BLOB, MYSQL_TYPE_MEDIUM_BLOB, MYSQL_TYPE_LONG_BLOB, MYSQL_TYPE_BLOB,
                          MYSQL_TYPE_GEOMETRY, MYSQL_TYPE_BIT})
DATE_TYPES = frozenset({MYSQL_TYPE_DATE, MYSQL_TYPE_NEWDATE})
DATETIME_TYPES = frozenset({MYSQL_TYPE_DATETIME, MYSQL_TYPE_TIMESTAMP, MYSQL_TYPE_DATETIME2, MYSQL_TYPE_TIMESTAMP2})
TIME_TYPES = frozenset({MYSQL_TYPE_TIME, MYSQL_TYPE_TIME2})

_ESCAPES = {"\\": "\\\\", "'": "\\'", "\x00": "\\0", "\n": "\\n", "\r": "\\r", "\x1a": "\\Z"}
_NEEDS_ESCAPE = frozenset(_ESCAPES)


def quote(text: str) -> str:
    """``text`` as a single-quoted MariaDB string literal (default sql_mode)."""
    if _NEEDS_ESCAPE.isdisjoint(text):
        return f"'{text}'"
    return "'" + "".join(_ESCAPES.get(c, c) for c in text) + "'"


def hex_string(text: str) -> str:
    """``text`` as a utf8mb4 string written in hex: no quoting or escaping mode of the
    session (NO_BACKSLASH_ESCAPES, ANSI_QUOTES, its character set) can change its meaning."""
    return f"CONVERT(X'{text.encode('utf-8').hex()}' USING utf8mb4)"


def _cut(text: str) -> str:
    return text if len(text) <= SHOWN else text[:SHOWN] + "…"


def _number(param: Param, value: bytes) -> str:
    t = param.type
    if t in INTEGER_TYPES:
        return str(int.from_bytes(value, "little", signed=not param.unsigned))
    if t == MYSQL_TYPE_FLOAT:
        return f"{struct.unpack('<f', value)[0]:.9g}"
    if t == MYSQL_TYPE_DOUBLE:
        return repr(struct.unpack("<d", value)[0])
    return value.decode("ascii", "backslashreplace")  # DECIMAL: its text


def _date(value: bytes) -> str:
    if not value:
        return "0000-00-00"
    return f"{int.from_bytes(value[0:2], 'little'):04d}-{value[2]:02d}-{value[3]:02d}"


def _clock(hours: int, fields: bytes) -> str:
    text = f"{hours:02d}:{fields[0]:02d}:{fields[1]:02d}"
    micro = int.from_bytes(fields[2:6], "little") if len(fields) > 2 else 0
    return f"{text}.{micro:06d}" if micro else text


def _temporal(param: Param, value: bytes) -> tuple[str, str] | None:
    """``(keyword, text)`` of a temporal value, or None when its length is none of the protocol's."""
    t, n = param.type, len(value)
    if t in TIME_TYPES:
        if n not in (0, 8, 12):
            return None
        if not n:
            return "TIME", "00:00:00"
        sign = "-" if value[0] else ""
        hours = int.from_bytes(value[1:5], "little") * 24 + value[5]
        return "TIME", sign + _clock(hours, value[6:])
    if n not in (0, 4, 7, 11):
        return None
    if t in DATE_TYPES and n <= 4:
        return "DATE", _date(value)
    clock = _clock(value[4], value[5:]) if n > 4 else "00:00:00"
    return "TIMESTAMP", f"{_date(value)} {clock}"


def _string(param: Param, value: bytes, mask: Mask) -> str:
    prefix = "_binary" if param.type in BINARY_TYPES else ""
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        reading = value.decode("latin-1")
        masked = mask(reading)
        if masked == reading:
            return _cut("X'" + value.hex().upper()) + "'"
        return "_binary" + quote(_cut(masked))
    return prefix + quote(_cut(mask(text)))


def render(param: Param, mask: Mask, size: int | None = None) -> str:
    """The literal of ``param`` for the record, its value masked (see the module contract).
    ``size`` is the value's full length when only part of it was kept (long data)."""
    value = param.value
    if value is None:
        return "NULL"
    size = len(value) if size is None else size
    if size > SCANNED or size > len(value):
        return f"/* {size} bytes, not recorded */"
    t = param.type
    if param.long_data:  # the server takes long data as a string, whatever the type says
        return _string(param, value, mask)
    if t in INTEGER_TYPES or t in (MYSQL_TYPE_FLOAT, MYSQL_TYPE_DOUBLE, MYSQL_TYPE_DECIMAL, MYSQL_TYPE_NEWDECIMAL):
        expected = {MYSQL_TYPE_FLOAT: 4, MYSQL_TYPE_DOUBLE: 8}.get(t)
        if expected is None or len(value) == expected:
            return _cut(mask(_number(param, value)))
    elif t in TIME_TYPES or t in DATE_TYPES or t in DATETIME_TYPES:
        literal = _temporal(param, value)
        if literal is not None:
            return literal[0] + quote(mask(literal[1]))
    return _string(param, value, mask)


def raw(*columns: str) -> str:
    """``columns`` for a lookup's select list, each cast to binary: the server sends a binary
    value as stored, untouched by the session's ``character_set_results`` (utf16, latin1…),
    so a lookup reads the same bytes whatever the user set."""
    return ", ".join(f"CAST({c} AS BINARY)" for c in columns)
