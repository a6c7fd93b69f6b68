"""Mask styles: turn a clear value into its masked form.

Contract for every style returned here:

* It is a callable ``style(value: str) -> str`` with a ``name``; it is **deterministic**
  (same value, same configuration ⇒ same output, across processes), pure and thread-safe.
* ``full``, ``partial``, ``email`` and ``hash`` keep the value's length **in characters**
  (``hash`` only when no ``prefix``/``length`` pushes it past; see :func:`keyed_hash`) and
  only emit ASCII, so the masked value never has more UTF-8 bytes than the clear one and
  a MySQL ``column_length`` stays valid. ``redact`` may be longer (free text, recordings).
* The empty string maps to the empty string for every style (nothing to hide, and an
  empty column must stay empty rather than gain a label).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["MaskStyle", "STYLES", "email_partial", "full", "keyed_hash", "nonempty", "partial", "redact"]


class MaskStyle(Protocol):
    """A named, deterministic ``str -> str`` masking function."""

    @property
    def name(self) -> str: ...

    def __call__(self, value: str) -> str: ...


@dataclass(frozen=True, slots=True)
class _Style:
    name: str
    fn: Callable[[str], str] = field(repr=False)

    def __call__(self, value: str) -> str:
        return self.fn(value) if value else value


def nonempty(style: MaskStyle) -> Callable[[str], str]:
    """``style`` for non-empty values only (a recognizer's matches), without the wrapper
    that maps ``""`` to ``""``: one Python call less per masked value."""
    return style.fn if isinstance(style, _Style) else style


def _check_char(char: str) -> None:
    # One ASCII character keeps "same character length" and "never more bytes" true.
    if len(char) != 1 or not char.isascii():
        raise ValueError(f"mask char must be a single ASCII character, got {char!r}")


def full(char: str = "*") -> MaskStyle:
    """Every character (separators included) becomes ``char``: ``"4111-1111"`` → ``"*********"``."""
    _check_char(char)
    return _Style("full", lambda value: char * len(value))


_ASCII_ALNUM = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _partial_fn(keep_first: int, keep_last: int, char: str) -> Callable[[str], str]:
    hide = bytes.maketrans(_ASCII_ALNUM, char.encode("ascii") * len(_ASCII_ALNUM))

    def mask_ascii(value: str) -> str:
        """``mask`` for ASCII values, with C-level translate/delete instead of a loop per character."""
        raw = value.encode("ascii")
        total = len(raw) - len(raw.translate(None, _ASCII_ALNUM))
        reveal = total - min(6, (total + 1) // 2)
        last = min(keep_last, reveal)
        first = min(keep_first, reveal - last)
        start, seen = 0, 0
        while seen < first:  # past the first ``first`` alphanumerics
            seen += value[start].isalnum()
            start += 1
        end, seen = len(value), 0
        while seen < last:  # before the last ``last`` alphanumerics
            end -= 1
            seen += value[end].isalnum()
        return value[:start] + raw[start:end].translate(hide).decode("ascii") + value[end:]

    def mask(value: str) -> str:
        if value.isascii():
            return mask_ascii(value)
        total = sum(1 for c in value if c.isalnum())
        # Keep at least min(6, half) alphanumerics masked: a 4-char value with keep_last=4
        # would otherwise come out in clear, while a 16-digit PAN can still show BIN + last 4
        # (PCI DSS). The trailing characters are the more useful ones: keep_first yields first.
        reveal = total - min(6, (total + 1) // 2)
        last = min(keep_last, reveal)
        first = min(keep_first, reveal - last)
        out: list[str] = []
        seen = 0
        for c in value:
            if c.isalnum():
                seen += 1
                out.append(c if seen <= first or seen > total - last else char)
            else:
                out.append(c)
        return "".join(out)

    return mask


def partial(keep_last: int = 4, keep_first: int = 0, char: str = "*") -> MaskStyle:
    """Mask alphanumerics except the first ``keep_first`` and last ``keep_last`` of them.

    Every other character (``-``, space, ``.``, ``@``…) is kept in place, so
    ``"4111 1111 1111 1111"`` → ``"**** **** **** 1111"``. At least ``min(6, ceil(n/2))``
    of the value's ``n`` alphanumerics stay masked whatever the configuration (``keep_first``
    is reduced first, then ``keep_last``), so short values are never shown in clear.
    """
    _check_char(char)
    if keep_last < 0 or keep_first < 0:
        raise ValueError("keep_last and keep_first must be >= 0")
    return _Style("partial", _partial_fn(keep_first, keep_last, char))


def _email_mask(value: str, char: str) -> str:
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain:
        return char * len(value)  # not an e-mail after all: hide everything
    head = local[0] if len(local) > 1 else ""
    return head + char * (len(local) - len(head)) + "@" + domain


def email_partial(char: str = "*") -> MaskStyle:
    """Keep the first character of the local part and the domain: ``"a****@example.org"``.

    A one-character local part is masked entirely; a value without ``@`` (or with an
    empty side) is masked like :func:`full`.
    """
    _check_char(char)
    return _Style("email", functools.partial(_email_mask, char=char))


def _digest_text(key: bytes, value: str, size: int) -> str:
    """``size`` lowercase base32 characters of HMAC-SHA256(key, counter || value)."""
    data = value.encode("utf-8", "surrogateescape")
    chunks: list[str] = []
    have, counter = 0, 0
    while have < size:  # one HMAC gives 52 chars; longer values chain a block counter
        mac = hmac.new(key, counter.to_bytes(4, "big") + data, hashlib.sha256).digest()
        chunk = base64.b32encode(mac).decode("ascii").rstrip("=").lower()
        chunks.append(chunk)
        have += len(chunk)
        counter += 1
    return "".join(chunks)[:size]


def keyed_hash(key: bytes, length: int | None = None, prefix: str = "") -> MaskStyle:
    """Pseudonymise with HMAC-SHA256 under ``key``: stable for joins and ``GROUP BY``.

    Output is ``prefix`` + a lowercase base32 digest body (``a-z2-7``). The body has
    ``length`` characters when given; otherwise the clear value's length minus the prefix
    length, but never fewer than ``min(8, len(value))`` (so a long prefix on a short value
    makes the output longer than the clear value). Different keys give unrelated outputs;
    without the key, outputs cannot be linked back to values by brute force over a small
    domain (card numbers, phone numbers), which a plain hash would allow.
    """
    if not key:
        raise ValueError("keyed_hash needs a non-empty key (an unkeyed hash of a card is reversible)")
    if length is not None and length < 1:
        raise ValueError("keyed_hash length must be >= 1")
    if not prefix.isascii():
        raise ValueError("keyed_hash prefix must be ASCII")

    def mask(value: str) -> str:
        size = length if length is not None else max(len(value) - len(prefix), min(8, len(value)))
        return prefix + _digest_text(key, value, size)

    return _Style("hash", mask)


def redact(label: str) -> MaskStyle:
    """Replace the whole value by ``[REDACTED:<label>]`` (length not preserved)."""
    text = f"[REDACTED:{label}]"
    return _Style("redact", lambda value: text)


STYLES: dict[str, Callable[..., MaskStyle]] = {
    "full": full,
    "partial": partial,
    "email": email_partial,
    "hash": keyed_hash,
    "redact": redact,
}
