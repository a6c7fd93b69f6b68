"""Personal-data recognizers: e-mail addresses, phone numbers (E.164 and NANP) and US
Social Security numbers."""

from __future__ import annotations

import bisect
import re

from . import validators
from .anchored_scan import no_digit, scan
from .gates import DIGIT_GATE
from .prefilter import shape_regex
from .recognizers import Match

# E-mail, anchored on "@" (rare in most data) rather than on the local part (any letter):
# the domain is matched forward from the "@", the local part backward over a bounded window.
_EMAIL_DOMAIN = re.compile(
    # Labels and TLD may be internationalised (IDN in Unicode form): \w is Unicode-aware.
    r"@(?:[^\W_](?:(?:[^\W_]|-){0,61}[^\W_])?\.)+"
    # TLD: letters only; common file extensions are not TLDs ("icon@2x.png")
    r"(?!(?:png|jpe?g|gif|svg|webp|bmp|ico|css|js|json|txt|log|html?|xml|ya?ml|t?gz|bz2|tar|lock)"
    r"(?![\w-]))[^\W\d_]{2,63}(?![\w-]|@)"
)
# Local part: dot-atoms of word characters (Unicode, RFC 6531) and "%+-"; no quotes: in SQL
# dumps and logs a quote is a delimiter far more often than part of an address. At most 64
# chars (RFC 5321).
_EMAIL_LOCAL = re.compile(r"(?<![\w.%+-])[\w%+-]+(?:\.[\w%+-]+)*\Z")
_LOCAL_MAX = 64
_LOCAL_RUN = re.compile(r"[\w.%+-]*")
_LOCAL_CHAR = re.compile(r"[\w.%+-]")
_LOCAL_ATOMS = re.compile(r"[\w%+-]+(?:\.[\w%+-]+)*")


def local_start(text: str, lo: int, at: int) -> int:
    """Start of ``_EMAIL_LOCAL.search(text, lo, at)``, or -1: the same answer without
    trying every start position. A match must begin where the run of local-part characters
    ending at ``at`` begins (the look-behind rejects any later start), and that run must be
    dot-atoms."""
    run = _LOCAL_RUN.match(text[lo:at][::-1])
    start = at - run.end() if run else at
    if start == at or (start == lo and lo > 0 and _LOCAL_CHAR.match(text, lo - 1)):
        return -1
    return start if _LOCAL_ATOMS.fullmatch(text, start, at) else -1


class EmailRecognizer:
    """E-mail addresses ``local@domain.tld`` (pragmatic subset of RFC 5322, no quoted locals)."""

    name = "email"
    joinable = True
    min_len = 6
    candidates = ("@",)

    def find(self, text: str) -> list[Match]:
        if len(text) < 6 or "@" not in text:
            return []
        out: list[Match] = []
        for m in _EMAIL_DOMAIN.finditer(text):
            at = m.start()
            # One char more than the limit so an over-long local part is seen, and rejected.
            lo = max(0, at - _LOCAL_MAX - 1)
            start = local_start(text, lo, at)
            if start < 0 or at - start > _LOCAL_MAX:
                continue  # no local part, or one longer than 64 chars
            out.append(Match(self.name, start, m.end()))
        return out


# Phone numbers: two patterns merged by PhoneRecognizer, each led by a literal or a small
# character set so the regex engine can skip ahead on long values.
_PHONE_E164 = re.compile(
    # "+" country code, then digit groups with at most one separator between them and
    # "(0)"-style parenthesised groups. Possessive: a long digit run must not backtrack.
    r"\+(?<![0-9A-Za-z_+]\+)[1-9](?:[ .-]?(?:\([0-9]{1,4}\)|[0-9]++))++(?![0-9A-Za-z_]|[.-][0-9])"
)
_PHONE_NANP = re.compile(
    # (AAA) EEE-NNNN, AAA-EEE-NNNN, AAA.EEE.NNNN (one repeated separator). Space-only
    # "AAA EEE NNNN" is left out: too close to columns of numbers. The leading boundary
    # and an optional "1-" trunk prefix are checked in Python (PhoneRecognizer._start).
    r"[2-9(](?:(?<=\()[2-9][0-9]{2}\) ?[0-9]{3}[ .-]|(?<=[2-9])[0-9]{2}(?P<s>[-.])[0-9]{3}(?P=s))"
    r"[0-9]{4}(?![0-9A-Za-z_]|[.-][0-9])"
)
_NANP_ANCHORS = ("(000) 000", "(000)000", "000-000-0000", "000.000.0000")
_NANP_BEFORE = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_+.(-")


class PhoneRecognizer:
    """Phone numbers: E.164 ``+CC …`` (8-15 digits) and NANP national formats.

    Unseparated national numbers (``5551234567``) are not matched: indistinguishable from
    ids, counters and epoch seconds.
    """

    name = "phone"
    joinable = True
    gate = DIGIT_GATE
    min_len = 10
    candidates = (r"\+[1-9]", *(shape_regex(anchor) for anchor in _NANP_ANCHORS))

    @staticmethod
    def _start(text: str, start: int) -> int:
        """Real start of a NANP candidate (with a "1-" prefix), or -1 if glued to a token."""
        if start == 0 or text[start - 1] not in _NANP_BEFORE:
            return start
        if start >= 2 and text[start - 1] in "-." and text[start - 2] == "1":
            if start == 2 or text[start - 3] not in _NANP_BEFORE:
                return start - 2
        return -1

    def find(self, text: str) -> list[Match]:
        if len(text) < 10 or no_digit(text):
            return []
        spans: list[tuple[int, int]] = []
        if "+" in text:
            spans = [m.span() for m in _PHONE_E164.finditer(text) if validators.phone(m.group())]
        # NANP hits inside an E.164 number ("+1 (212) 555-0100") are dropped. E.164 spans
        # are sorted and disjoint: the one that could overlap is the last starting before end.
        e164_starts = [s for s, _ in spans]
        e164 = spans[:]
        for m in scan(text, _PHONE_NANP, _NANP_ANCHORS, 16):
            start = self._start(text, m.start())
            i = bisect.bisect_left(e164_starts, m.end()) - 1
            if start < 0 or (i >= 0 and e164[i][1] > start):
                continue
            spans.append((start, m.end()))
        spans.sort()
        return [Match(self.name, s, e) for s, e in spans]


SSN = re.compile(
    # Dashes, or spaces with stricter edges: "1 123 45 6789 0" is a row of numbers, not an SSN.
    r"[0-9](?<![0-9A-Za-z_-][0-9])[0-9]{2}"
    r"(?:-[0-9]{2}-[0-9]{4}(?![0-9A-Za-z_]|[-.][0-9])"
    r"|(?<![0-9] [0-9]{3}) [0-9]{2} [0-9]{4}(?![0-9A-Za-z_]|[ .-][0-9]))"
)
