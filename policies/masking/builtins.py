"""The built-in recognizers: cards, IBANs, e-mails, phones, SSNs, cloud and SaaS secrets,
JWTs and PEM private keys (precision corpora in tests/unit/policies/masking/corpus.py)."""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable

from . import validators
from .recognizers import (
    DIGIT_GATE,
    TOKEN_GATE,
    Match,
    Recognizer,
    RegexRecognizer,
    _no_digit,
    _scan,
)

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
