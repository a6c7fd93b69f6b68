"""Value recognizers: find sensitive substrings (cards, IBANs, e-mails, tokens…) in a ``str``.

Contract:

* A :class:`Recognizer` has a ``name`` and ``find(text) -> list[Match]``. Matches are
  character offsets into ``text``, non-empty, sorted, and never overlap each other.
  ``find`` is pure, thread-safe and never raises on any ``str`` (including lone
  surrogates produced by ``surrogateescape`` decoding).
* :func:`find_all` merges several recognizers' matches into one non-overlapping,
  sorted list: the longest match wins an overlap; on equal length the recognizer listed
  first wins (so list ``card`` before ``phone``), then the leftmost.
* Built-ins (:data:`BUILTIN`) favour precision: each one pairs a tight regex with a
  checksum or structure validator (see :mod:`policies.masking.validators`) and a cheap
  pre-filter (a digit, ``@`` or literal-prefix check) so values that cannot match cost
  one C-level scan.
"""

from __future__ import annotations

import bisect
import re
import string
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from . import validators

__all__ = [
    "BUILTIN", "DIGIT_GATE", "FLAGS", "TOKEN_GATE", "Gate", "Match", "Recognizer", "RegexRecognizer",
    "find_all", "regex_recognizer",
]

# Flag letters accepted by regex_recognizer(); a small, explicit set so configs stay portable.
FLAGS: dict[str, re.RegexFlag] = {
    "i": re.IGNORECASE,
    "m": re.MULTILINE,
    "s": re.DOTALL,
    "x": re.VERBOSE,
    "a": re.ASCII,
}

# Values at least this long are scanned through _scan()'s anchor windows instead of a
# whole-value regex pass (a digit-led pattern costs ~10 ns per digit in the value).
BIG_TEXT = 1 << 11
_DIGIT = re.compile(r"[0-9]")
_SHAPE_TABLE = str.maketrans(
    {**dict.fromkeys(string.digits, "0"), **dict.fromkeys(string.ascii_uppercase, "A"),
     **dict.fromkeys(string.ascii_lowercase, "a")}
)


def _no_digit(text: str) -> bool:
    """True if ``text`` certainly has no ASCII digit. Only checked below BIG_TEXT: on big
    values a miss costs a full regex pass while the anchor search is already cheap."""
    return len(text) < BIG_TEXT and _DIGIT.search(text) is None


_SHAPE_CACHE_MAX = 1 << 20
_last_shape: tuple[str, str] = ("", "")


def _shape(text: str) -> str:
    """``text`` translated by _SHAPE_TABLE; the last result is memoised by identity so the four
    digit-family recognizers of one find_all() call translate a value once. The memo is a
    single tuple swapped atomically (thread-safe) and skips values over 1 MiB so it never
    pins a huge value in memory."""
    global _last_shape
    last = _last_shape
    if last[0] is text:
        return last[1]
    shape = text.translate(_SHAPE_TABLE)
    if len(text) <= _SHAPE_CACHE_MAX:
        _last_shape = (text, shape)
    return shape


def _scan(text: str, pattern: re.Pattern[str], anchors: tuple[str, ...], max_len: int) -> Iterator[re.Match[str]]:
    """``pattern.finditer(text)``, skipped when no anchor occurs and, on big texts,
    restricted to windows after anchor occurrences.

    Requirements on the caller: every match of ``pattern`` starts where one of
    ``anchors`` occurs in the value's *shape* (ASCII digits → ``0``, upper-case letters
    → ``A``, lower-case → ``a``, anything else unchanged), is at most ``max_len`` long and
    looks at most 2 characters ahead. ``translate`` and ``str.find`` on the shape are fast
    C loops: a clean 100-char value costs ~0.5 µs instead of a regex pass, and a 16 MB
    value full of short numbers one ``translate`` plus a few ``find`` calls.
    """
    if not anchors:
        yield from pattern.finditer(text)
        return
    n = len(text)
    shape = _shape(text)
    if n < BIG_TEXT:
        if any(lit in shape for lit in anchors):
            yield from pattern.finditer(text)
        return
    spans: list[tuple[int, int]] = []
    for lit in anchors:
        i = shape.find(lit)
        while i >= 0:
            end = min(n, i + 2 * max_len + 2)
            spans.append((i, end))
            # Matches starting before end - max_len - 2 end (with look-ahead) inside this
            # window: skip their anchors, which keeps long digit runs linear.
            i = shape.find(lit, max(i + 1, end - max_len - 2))
    spans.sort()
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for start, end in merged:
        for m in pattern.finditer(text, start, end):
            if end == n or m.end() <= end - 2:  # the look-ahead saw real text
                yield m


class Gate:
    """A cheap pre-filter shared by several recognizers (the "candidate" pass).

    Contract: ``gate(text)`` False ⇒ every recognizer carrying this gate finds nothing in
    ``text``. :func:`find_all` evaluates each distinct gate once per text and skips the
    recognizers behind a closed gate, so a clean value pays one combined regex search per
    family instead of one pass per recognizer. Big texts always pass (a combined search
    over megabytes costs more than the recognizers' own anchored scans).
    """

    __slots__ = ("pattern",)

    def __init__(self, pattern: str) -> None:
        self.pattern = re.compile(pattern)

    def __call__(self, text: str) -> bool:
        return len(text) >= BIG_TEXT or self.pattern.search(text) is not None


# Implied by every card, IBAN, phone and SSN match: 13 digits, "dddd-ddd", "ddd-dd-dddd",
# "ddd-ddd-dddd", "(ddd)", "+d", "AAdd".
DIGIT_GATE = Gate(
    r"[0-9](?:[0-9]{12}|[0-9]{3}[ -][0-9]{3}|[0-9]{2}[- ][0-9]{2}[- ][0-9]{4}|[0-9]{2}[-.][0-9]{3}[-.][0-9]{4})"
    r"|\([0-9]{3}\)|\+[1-9]|[A-Z][A-Z][0-9]{2}"
)
# Implied by every secret-token match: the literal prefixes and keywords.
TOKEN_GATE = Gate(
    r"AKIA|ASIA|ABIA|ACCA|secret|SECRET|Secret|gh[pousr]_|github_pat_|glpat-|xox|hooks\.slack\.com"
    r"|_live_|_test_|eyJ|-----BEGIN "
)


@dataclass(frozen=True, slots=True)
class Match:
    """A finding: ``text[start:end]`` was recognized by the recognizer called ``recognizer``."""

    recognizer: str
    start: int
    end: int


class Recognizer(Protocol):
    """Anything with a ``name`` and a ``find`` method (``name`` may be a plain attribute)."""

    @property
    def name(self) -> str: ...

    def find(self, text: str) -> list[Match]: ...


class RegexRecognizer:
    """Regex candidates confirmed by an optional validator.

    The match span is the group named ``value`` when the pattern has one (so context such
    as a keyword can be required without being masked), otherwise the whole match. Empty
    spans are ignored. ``triggers`` (any literal must occur) and ``needs_digit`` are
    pre-filters: they must be implied by the pattern, they only skip work. ``anchors`` and
    ``max_len`` enable the anchor fast path (see :func:`_scan` for the requirements);
    ``gate`` is a shared :class:`Gate` used by :func:`find_all`.
    """

    __slots__ = ("name", "pattern", "validator", "triggers", "needs_digit", "min_len", "anchors", "max_len",
                 "gate", "_group")

    def __init__(
        self,
        name: str,
        pattern: re.Pattern[str],
        validator: Callable[[str], bool] | None = None,
        *,
        triggers: tuple[str, ...] = (),
        needs_digit: bool = False,
        min_len: int = 1,
        anchors: tuple[str, ...] = (),
        max_len: int = 0,
        gate: Gate | None = None,
    ) -> None:
        self.name = name
        self.pattern = pattern
        self.validator = validator
        self.triggers = triggers
        self.needs_digit = needs_digit
        self.min_len = min_len
        self.anchors = anchors
        self.max_len = max_len
        self.gate = gate
        self._group: int | str = "value" if "value" in pattern.groupindex else 0

    def prefilter(self, text: str) -> bool:
        """False when ``text`` certainly holds no match (cheap C-level checks only)."""
        if len(text) < self.min_len:
            return False
        if self.triggers and not any(t in text for t in self.triggers):
            return False
        return not (self.needs_digit and _no_digit(text))

    def find(self, text: str) -> list[Match]:
        if not self.prefilter(text):
            return []
        out: list[Match] = []
        group, check = self._group, self.validator
        for m in _scan(text, self.pattern, self.anchors, self.max_len):
            start, end = m.span(group)
            if start < end and (check is None or check(text[start:end])):
                out.append(Match(self.name, start, end))
        return out

    def __repr__(self) -> str:
        return f"RegexRecognizer({self.name!r}, {self.pattern.pattern!r})"


def regex_recognizer(name: str, pattern: str, validator: str | None = None, flags: str = "") -> Recognizer:
    """Build a user-defined recognizer from config.

    ``validator`` is a key of :data:`validators.VALIDATORS` (``"luhn"``, ``"iban"``,
    ``"ssn"``, ``"card"``) or ``None``; ``flags`` is a string of letters from
    :data:`FLAGS` (e.g. ``"i"``). A group named ``value`` narrows the masked span.
    Raises ``ValueError`` naming the recognizer on an empty name, a bad regex, a pattern
    that matches the empty string, an unknown flag or an unknown validator.
    """
    if not name:
        raise ValueError("recognizer name must not be empty")
    check = None
    if validator is not None:
        check = validators.VALIDATORS.get(validator)
        if check is None:
            known = ", ".join(sorted(validators.VALIDATORS))
            raise ValueError(f"recognizer {name!r}: unknown validator {validator!r} (known: {known})")
    re_flags = re.RegexFlag(0)
    for letter in flags:
        if letter not in FLAGS:
            raise ValueError(f"recognizer {name!r}: unknown regex flag {letter!r} (known: {''.join(FLAGS)})")
        re_flags |= FLAGS[letter]
    try:
        compiled = re.compile(pattern, re_flags)
    except re.error as exc:
        raise ValueError(f"recognizer {name!r}: invalid regex {pattern!r}: {exc}") from None
    if compiled.fullmatch(""):
        # An always-matching pattern would "mask" nothing while looking configured.
        raise ValueError(f"recognizer {name!r}: regex {pattern!r} matches the empty string")
    return RegexRecognizer(name, compiled, check)


def find_all(text: str, recognizers: Sequence[Recognizer]) -> list[Match]:
    """All matches of ``recognizers`` in ``text``: sorted by start, non-overlapping.

    Overlaps are resolved greedily by priority: longer match first, then the recognizer
    earlier in ``recognizers``, then the leftmost match. Recognizers may carry a ``gate``
    attribute (a :class:`Gate`); each distinct gate is evaluated once per call.
    """
    found: list[tuple[int, int, int, Match]] = []
    hit_lists = 0
    gates: dict[int, bool] = {}
    for rank, rec in enumerate(recognizers):
        gate: Gate | None = getattr(rec, "gate", None)
        if gate is not None:
            is_open = gates.get(id(gate))
            if is_open is None:
                is_open = gates[id(gate)] = gate(text)
            if not is_open:
                continue
        hits = rec.find(text)
        if hits:
            hit_lists += 1
            found.extend((hit.start - hit.end, rank, hit.start, hit) for hit in hits)
    if hit_lists <= 1:
        # A single recognizer's own matches never overlap: skip the merge.
        return [item[3] for item in found]
    found.sort(key=lambda item: item[:3])
    starts: list[int] = []  # accepted spans, kept sorted by start (they never overlap)
    ends: list[int] = []
    accepted: list[Match] = []
    for _, _, start, hit in found:
        i = bisect.bisect_right(starts, start)
        if i and ends[i - 1] > start:
            continue  # overlaps the accepted span starting at or before us
        if i < len(starts) and starts[i] < hit.end:
            continue  # overlaps the accepted span starting after us
        starts.insert(i, start)
        ends.insert(i, hit.end)
        accepted.insert(i, hit)
    return accepted


# --- built-ins -------------------------------------------------------------------------
# Boundaries are written as "consume the first char, then look behind two chars" instead of
# a leading look-behind: a pattern that starts with a character class or literal lets the
# regex engine skip ahead quickly, which matters on multi-megabyte values.

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
    gate = DIGIT_GATE

    def find(self, text: str) -> list[Match]:
        if len(text) < 13 or _no_digit(text):
            return []
        out: list[Match] = []
        for m in _scan(text, _CARD, _CARD_ANCHORS, 40):
            start, end = m.span()
            sep = m.group("sep")
            while True:
                if validators.card(text[start:end]):
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
    gate = DIGIT_GATE

    def find(self, text: str) -> list[Match]:
        if len(text) < 15 or _no_digit(text):
            return []
        out: list[Match] = []
        for m in _scan(text, _IBAN, ("AA00",), 44):
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


_PEM_BEGIN = re.compile(r"-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?)-----")
# What an unterminated block may contain: base64 lines (also with JSON-escaped newlines)
# and RFC 1421 / OpenPGP armor headers.
_PEM_BODY = re.compile(r"(?:[A-Za-z0-9+/=\r\n]++|\\[rn]|(?:Proc-Type|DEK-Info|Comment|Version):[^\r\n]*+)*+")


class PemRecognizer:
    """PEM/PGP private key blocks from the BEGIN line through the matching END line.

    An unterminated block (output cut mid-key) is matched through the base64 body that
    follows the BEGIN line: better to over-mask a truncated value than leak half a key.
    """

    name = "pem_private_key"
    gate = TOKEN_GATE

    def find(self, text: str) -> list[Match]:
        if "-----BEGIN " not in text:
            return []
        out: list[Match] = []
        pos = 0
        while (m := _PEM_BEGIN.search(text, pos)) is not None:
            end_line = f"-----END {m.group(1)}-----"
            stop = text.find(end_line, m.end())
            if stop >= 0:
                end = stop + len(end_line)
            else:
                body = _PEM_BODY.match(text, m.end())
                end = body.end() if body else m.end()
            out.append(Match(self.name, m.start(), end))
            pos = end
        return out


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


class EmailRecognizer:
    """E-mail addresses ``local@domain.tld`` (pragmatic subset of RFC 5322, no quoted locals)."""

    name = "email"

    def find(self, text: str) -> list[Match]:
        if len(text) < 6 or "@" not in text:
            return []
        out: list[Match] = []
        for m in _EMAIL_DOMAIN.finditer(text):
            at = m.start()
            # One char more than the limit so an over-long local part is seen, and rejected.
            lo = max(0, at - _LOCAL_MAX - 1)
            local = _EMAIL_LOCAL.search(text, lo, at)
            if local is None or at - local.start() > _LOCAL_MAX:
                continue  # no local part, or one longer than 64 chars
            out.append(Match(self.name, local.start(), m.end()))
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
    gate = DIGIT_GATE

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
        if len(text) < 10 or _no_digit(text):
            return []
        spans: list[tuple[int, int]] = []
        if "+" in text:
            spans = [m.span() for m in _PHONE_E164.finditer(text) if validators.phone(m.group())]
        # NANP hits inside an E.164 number ("+1 (212) 555-0100") are dropped. E.164 spans
        # are sorted and disjoint: the one that could overlap is the last starting before end.
        e164_starts = [s for s, _ in spans]
        e164 = spans[:]
        for m in _scan(text, _PHONE_NANP, _NANP_ANCHORS, 16):
            start = self._start(text, m.start())
            i = bisect.bisect_left(e164_starts, m.end()) - 1
            if start < 0 or (i >= 0 and e164[i][1] > start):
                continue
            spans.append((start, m.end()))
        spans.sort()
        return [Match(self.name, s, e) for s, e in spans]


_SSN = re.compile(
    # Dashes, or spaces with stricter edges: "1 123 45 6789 0" is a row of numbers, not an SSN.
    r"[0-9](?<![0-9A-Za-z_-][0-9])[0-9]{2}"
    r"(?:-[0-9]{2}-[0-9]{4}(?![0-9A-Za-z_]|[-.][0-9])"
    r"|(?<![0-9] [0-9]{3}) [0-9]{2} [0-9]{4}(?![0-9A-Za-z_]|[ .-][0-9]))"
)
_AWS_ACCESS = re.compile(r"A(?<![A-Za-z0-9]A)(?:KIA|SIA|BIA|CCA)[A-Z0-9]{16}(?![A-Za-z0-9])")
_AWS_SECRET = re.compile(
    r"(?i:aws[_-]?secret(?:[_-]?access)?(?:[_-]?key)?|secret(?:[_-]?access)?(?:[_-]?key)?)"
    r"[\"']?(?:[ \t]*(?:=>|[:=])[ \t]*|[ \t]+)[\"']?"
    r"(?P<value>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"
)
_GITHUB = re.compile(
    r"g(?<![A-Za-z0-9_]g)(?:h[pousr]_[A-Za-z0-9]{36,251}|ithub_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})"
    r"(?![A-Za-z0-9_])"
)
_GITLAB = re.compile(r"glpat-(?<![A-Za-z0-9_-]glpat-)[A-Za-z0-9_-]{20,}(?![A-Za-z0-9_-])")
_SLACK = re.compile(
    r"xox(?<![A-Za-z0-9_-]xox)[abprs]-[0-9]+-[A-Za-z0-9-]{8,}(?![A-Za-z0-9_-])"
    r"|https://hooks\.slack\.com/services/T[A-Z0-9]{6,}/B[A-Z0-9]{6,}/[A-Za-z0-9]{16,}(?![A-Za-z0-9])"
)
_STRIPE = re.compile(r"[rs](?<![A-Za-z0-9_][rs])k_(?:live|test)_[A-Za-z0-9]{16,}(?![A-Za-z0-9_])")
_JWT = re.compile(
    r"eyJ(?<![A-Za-z0-9_-]eyJ)[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*"
    r"(?:\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)?(?![A-Za-z0-9_-])"  # JWE has five segments
)


def _jwt_ok(text: str) -> bool:
    # Dotted identifiers fail the header check; "header.." (no payload, no signature)
    # is a fragment, not a token.
    return any(text.split(".")[1:]) and validators.jwt(text)


def _builtins() -> dict[str, Recognizer]:
    def token(name: str, pattern: re.Pattern[str], triggers: tuple[str, ...], min_len: int,
              validator: Callable[[str], bool] | None = None) -> RegexRecognizer:
        return RegexRecognizer(name, pattern, validator, triggers=triggers, min_len=min_len, gate=TOKEN_GATE)

    recs: list[Recognizer] = [
        # Order matters only for equal-length overlaps (find_all): card before phone.
        CardRecognizer(),
        IbanRecognizer(),
        EmailRecognizer(),
        PhoneRecognizer(),
        RegexRecognizer("ssn", _SSN, validators.ssn, needs_digit=True, min_len=11,
                        anchors=("000-00-0000", "000 00 0000"), max_len=11, gate=DIGIT_GATE),
        token("aws_access_key", _AWS_ACCESS, ("AKIA", "ASIA", "ABIA", "ACCA"), 20),
        token("aws_secret_key", _AWS_SECRET, ("secret", "SECRET", "Secret"), 46, validators.mixed_case),
        token("github_token", _GITHUB, ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"), 40),
        token("gitlab_token", _GITLAB, ("glpat-",), 26),
        token("slack_token", _SLACK, ("xox", "hooks.slack.com"), 15),
        token("stripe_key", _STRIPE, ("_live_", "_test_"), 24),
        token("jwt", _JWT, ("eyJ",), 20, _jwt_ok),
        PemRecognizer(),
    ]
    return {rec.name: rec for rec in recs}


BUILTIN: dict[str, Recognizer] = _builtins()
