"""Payment recognizers: card numbers and IBANs, each confirmed by its checksum
(:func:`validators.card`, :func:`validators.iban`)."""

from __future__ import annotations

import re

from . import validators
from .anchored_scan import no_digit, scan
from .gates import DIGIT_GATE
from .prefilter import shape_regex
from .recognizers import Match

_CARD = re.compile(
    r"[0-9](?<![0-9A-Za-z][0-9])"
    r"(?:[0-9]{12,18}(?![0-9A-Za-z])"  # compact
    # grouped: 4 digits, then 2-4 groups with one repeated separator; never starts right
    # after "<digit><sep>" (we would be inside a longer grouped run, e.g. IBAN digits)
    r"|(?<![0-9][ -][0-9])[0-9]{3}(?P<sep>[ -])[0-9]{3,6}(?:(?P=sep)[0-9]{1,6}){1,3}(?![0-9A-Za-z]))"
)


_CARD_ANCHORS = ("0" * 13, "0000 000", "0000-000")


class CardRecognizer:
    """Payment card numbers (see :func:`validators.card`).

    A grouped candidate that fails validation is retried without its trailing groups, so
    ``4111 1111 1111 1111 12/27`` still yields the PAN; the compact form is never trimmed
    (a longer plain digit run is some other identifier).
    """

    name = "card"
    joinable = True
    gate = DIGIT_GATE
    min_len = 13
    candidates = tuple(shape_regex(anchor) for anchor in _CARD_ANCHORS)

    def find(self, text: str) -> list[Match]:
        if len(text) < 13 or no_digit(text):
            return []
        return self._find(text, seen=False)

    def find_prefiltered(self, text: str) -> list[Match]:
        """:meth:`find` once the combined pre-filter saw one of the anchors."""
        return self._find(text, seen=True) if len(text) >= 13 else []

    def _find(self, text: str, seen: bool) -> list[Match]:
        out: list[Match] = []
        for m in scan(text, _CARD, _CARD_ANCHORS, 40, seen):
            start, end = m.span()
            sep = m.group("sep")
            while True:
                # the candidate is ASCII digits and its one separator: its digits without a scan
                candidate = text[start:end]
                if validators.card_digits(candidate.replace(sep, "") if sep else candidate):
                    out.append(Match("card", start, end))
                    break
                cut = text.rfind(sep, start, end) if sep else -1
                if cut < 0 or len(validators.digits_of(text[start:cut])) < 13:
                    break
                end = cut
        return out


_IBAN = re.compile(
    r"[A-Z](?<![0-9A-Za-z][A-Z])[A-Z][0-9]{2}"
    r"(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,3})?)(?![0-9A-Za-z])"
)


class IbanRecognizer:
    """IBANs, compact or in space-separated groups of 4 (see :func:`validators.iban`).

    A grouped candidate longer than its country's IBAN length is cut at that length when
    the cut falls on a group boundary (an IBAN followed by an unrelated 4-char word).
    """

    name = "iban"
    joinable = True
    gate = DIGIT_GATE
    min_len = 15
    candidates = (shape_regex("AA00"),)

    def find(self, text: str) -> list[Match]:
        if len(text) < 15 or no_digit(text):
            return []
        return self._find(text, seen=False)

    def find_prefiltered(self, text: str) -> list[Match]:
        """:meth:`find` once the combined pre-filter saw the anchor."""
        return self._find(text, seen=True) if len(text) >= 15 else []

    def _find(self, text: str, seen: bool) -> list[Match]:
        out: list[Match] = []
        for m in scan(text, _IBAN, ("AA00",), 44, seen):
            start, end = m.span()
            want = validators.IBAN_LENGTHS.get(text[start : start + 2])
            if want is None:
                continue
            if end - start > want and text[start + 4] == " ":  # grouped: every 5th char is a space
                cut = start + want + (want - 1) // 4
                if cut < end and text[cut] != " ":
                    continue
                end = min(end, cut)
            if validators.iban(text[start:end]):
                out.append(Match("iban", start, end))
        return out
