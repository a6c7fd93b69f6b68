"""Shared pre-filters ("gates") of the built-in recognizer families.

:func:`~policies.masking.recognizers.find_all_reference` evaluates each distinct gate
once per text and skips the recognizers behind a closed one.
"""

from __future__ import annotations

import re

from . import anchored_scan
from .anchored_scan import BIG_TEXT

# Bound by assignment, not by import: a method call on an imported name compiles as an
# attribute load plus a call (CPython 3.11 expects a module), a bound method per value.
_DIGIT = anchored_scan.DIGIT


class Gate:
    """A cheap pre-filter shared by several recognizers (the "candidate" pass).

    Contract: ``gate(text)`` False ⇒ every recognizer carrying this gate finds nothing in
    ``text``. :func:`find_all` evaluates each distinct gate once per text and skips the
    recognizers behind a closed gate, so a clean value pays one combined regex search per
    family instead of one pass per recognizer. Big texts always pass (a combined search
    over megabytes costs more than the recognizers' own anchored scans).
    """

    __slots__ = ("literals", "needs_digit", "pattern")

    def __init__(self, pattern: str, *, literals: tuple[str, ...] = (), needs_digit: bool = False) -> None:
        self.pattern = re.compile(pattern)
        self.literals = literals
        """When set, ``pattern`` is exactly "one of these literals": plain substring tests
        (C speed) replace the regex, which has no literal prefix to skip ahead with."""
        self.needs_digit = needs_digit
        """Every match holds a digit: a value without one is rejected by one cheap scan."""

    def __call__(self, text: str) -> bool:
        if len(text) >= BIG_TEXT:
            return True
        if self.needs_digit and _DIGIT.search(text) is None:
            return False
        if self.literals and len(text) > 256:  # short values: one regex pass is cheaper
            return any(literal in text for literal in self.literals)
        return self.pattern.search(text) is not None


# Implied by every card, IBAN, phone and SSN match: 13 digits, "dddd-ddd", "ddd-dd-dddd",
# "ddd-ddd-dddd", "(ddd)", "+d", "AAdd".
DIGIT_GATE = Gate(
    r"[0-9](?:[0-9]{12}|[0-9]{3}[ -][0-9]{3}|[0-9]{2}[- ][0-9]{2}[- ][0-9]{4}|[0-9]{2}[-.][0-9]{3}[-.][0-9]{4})"
    r"|\([0-9]{3}\)|\+[1-9]|[A-Z][A-Z][0-9]{2}",
    needs_digit=True,
)
# Implied by every secret-token match: the literal prefixes and keywords.
_TOKEN_LITERALS = ("AKIA", "ASIA", "ABIA", "ACCA", "secret", "SECRET", "Secret", "ghp_", "gho_", "ghu_", "ghs_",
                   "ghr_", "github_pat_", "glpat-", "xox", "hooks.slack.com", "_live_", "_test_", "eyJ",
                   "-----BEGIN ")
TOKEN_GATE = Gate("|".join(re.escape(literal) for literal in _TOKEN_LITERALS), literals=_TOKEN_LITERALS)
