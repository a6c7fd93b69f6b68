"""Sensitive-value masking: pure recognizers, validators and mask styles.

No I/O here: the MySQL row hook and the SSH/recording paths call into this package with
``str`` or ``bytes`` values. Public API:

* :class:`Match`, :class:`Recognizer`, :data:`BUILTIN` (all built-in recognizers by name),
  :func:`regex_recognizer` (user-defined), :func:`find_all` (merged, non-overlapping);
  :func:`scanner_for` compiles a recognizer list's combined pre-filter once (a :class:`Scanner`).
* :class:`MaskStyle` and the style factories :func:`full`, :func:`partial`,
  :func:`email_partial`, :func:`keyed_hash`, :func:`redact`; :data:`STYLES` by name.
* :func:`mask_text` / :func:`mask_bytes` for free text and raw column values;
  :func:`mask_many` for a batch of column values scanned together.
* :data:`VALIDATORS` (``luhn``, ``iban``, ``ssn``, ``card``) usable by custom recognizers.

Masking is a guard-rail, not access control: a user who may query a column can always
derive its value by other means (docs/masking.md says which).
"""

from __future__ import annotations

from .builtins import BUILTIN
from .prefilter import Scanner, scanner_for
from .recognizers import FLAGS, Match, Recognizer, RegexRecognizer, find_all, regex_recognizer
from .styles import STYLES, MaskStyle, email_partial, full, keyed_hash, partial, redact
from .text import mask_bytes, mask_many, mask_text
from .validators import VALIDATORS

__all__ = [
    "BUILTIN",
    "FLAGS",
    "STYLES",
    "VALIDATORS",
    "Match",
    "MaskStyle",
    "Recognizer",
    "RegexRecognizer",
    "Scanner",
    "email_partial",
    "find_all",
    "full",
    "keyed_hash",
    "mask_bytes",
    "mask_many",
    "mask_text",
    "partial",
    "redact",
    "regex_recognizer",
    "scanner_for",
]
