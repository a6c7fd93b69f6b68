"""Primitive wire encodings: length-encoded integers and strings, NUL strings.

Readers take ``(buf, pos)`` and return ``(value, new_pos)``; they never read
past ``len(buf)`` and raise :class:`RemoteProtocolError` on truncation or on
an invalid lenenc prefix (``0xfb`` is NULL only inside text rows, ``0xff`` is
never valid). Writers return fresh ``bytes``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from .errors import LocalProtocolError, RemoteProtocolError

_P = ParamSpec("_P")
_T = TypeVar("_T")

__all__ = [
    "Buffer",
    "decode_str",
    "encode_str",
    "lenenc_bytes",
    "lenenc_int",
    "local_errors",
    "read_fixed",
    "read_int",
    "read_lenenc_bytes",
    "read_lenenc_int",
    "read_nul_str",
]

#: Anything the readers accept (indexing yields ``int``, slicing a copy or view).
Buffer = bytes | bytearray | memoryview

_LENENC_EXTRA = {0xFC: 2, 0xFD: 3, 0xFE: 8}


def read_lenenc_int(buf: Buffer, pos: int) -> tuple[int, int]:
    """Read a length-encoded integer at ``pos``; return ``(value, new_pos)``."""
    if pos >= len(buf):
        raise RemoteProtocolError("truncated length-encoded integer")
    first = buf[pos]
    if first < 0xFB:
        return first, pos + 1
    extra = _LENENC_EXTRA.get(first)
    if extra is None:
        raise RemoteProtocolError(f"invalid length-encoded integer prefix 0x{first:02x}")
    end = pos + 1 + extra
    if end > len(buf):
        raise RemoteProtocolError("truncated length-encoded integer")
    return int.from_bytes(buf[pos + 1 : end], "little"), end


def read_lenenc_bytes(buf: Buffer, pos: int) -> tuple[bytes, int]:
    """Read a length-encoded string at ``pos``; return ``(content, new_pos)``."""
    length, pos = read_lenenc_int(buf, pos)
    end = pos + length
    if end > len(buf):
        raise RemoteProtocolError("truncated length-encoded string")
    return bytes(buf[pos:end]), end


def read_nul_str(buf: Buffer, pos: int) -> tuple[bytes, int]:
    """Read a NUL-terminated string at ``pos``; return ``(content, pos_after_nul)``."""
    if isinstance(buf, memoryview):
        buf = bytes(buf)
    end = buf.find(0, pos)
    if end < 0:
        raise RemoteProtocolError("missing NUL terminator")
    return bytes(buf[pos:end]), end + 1


def read_int(buf: Buffer, pos: int, size: int) -> tuple[int, int]:
    """Read a little-endian unsigned ``size``-byte integer; return ``(value, new_pos)``."""
    end = pos + size
    if end > len(buf):
        raise RemoteProtocolError(f"truncated int<{size}>")
    return int.from_bytes(buf[pos:end], "little"), end


def read_fixed(buf: Buffer, pos: int, size: int) -> tuple[bytes, int]:
    """Read exactly ``size`` bytes; return ``(content, new_pos)``."""
    end = pos + size
    if end > len(buf):
        raise RemoteProtocolError(f"truncated field of {size} bytes")
    return bytes(buf[pos:end]), end


def lenenc_int(n: int) -> bytes:
    """Encode ``n`` (0 ≤ n < 2**64) as a length-encoded integer."""
    if n < 0xFB:
        if n < 0:
            raise LocalProtocolError("length-encoded integer must be >= 0")
        return bytes((n,))
    if n < 0x10000:
        return b"\xfc" + n.to_bytes(2, "little")
    if n < 0x1000000:
        return b"\xfd" + n.to_bytes(3, "little")
    if n < 1 << 64:
        return b"\xfe" + n.to_bytes(8, "little")
    raise LocalProtocolError("length-encoded integer must be < 2**64")


def lenenc_bytes(b: bytes) -> bytes:
    """Encode ``b`` as a length-encoded string (lenenc length + content)."""
    return lenenc_int(len(b)) + b


def decode_str(b: bytes) -> str:
    """Decode wire text losslessly (UTF-8, undecodable bytes kept as surrogates)."""
    return b.decode("utf-8", "surrogateescape")


def encode_str(s: str) -> bytes:
    """Inverse of :func:`decode_str`."""
    try:
        return s.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError as exc:
        raise LocalProtocolError(f"cannot encode {s!r}: {exc}") from None


def local_errors(fn: Callable[_P, _T]) -> Callable[_P, _T]:
    """Turn a builder's ``OverflowError``/``ValueError`` (a field out of range,
    e.g. a 70000 collation) into :class:`LocalProtocolError`: it is our misuse."""

    @functools.wraps(fn)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        try:
            return fn(*args, **kwargs)
        except (OverflowError, ValueError) as exc:
            raise LocalProtocolError(f"{fn.__qualname__}: {exc}") from exc

    return wrapper
