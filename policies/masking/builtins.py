"""The built-in recognizers: cards, IBANs, e-mails, phones, SSNs, cloud and SaaS secrets,
JWTs, PEM private keys and password hashes (precision corpora in tests/unit/policies/masking/corpus.py)."""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable

from . import validators
from .prefilter import shape_regex
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
    min_len = 13
    candidates = tuple(shape_regex(anchor) for anchor in _CARD_ANCHORS)

    def find(self, text: str) -> list[Match]:
        if len(text) < 13 or _no_digit(text):
            return []
        return self._find(text, seen=False)

    def find_prefiltered(self, text: str) -> list[Match]:
        """:meth:`find` once the combined pre-filter saw one of the anchors."""
        return self._find(text, seen=True) if len(text) >= 13 else []

    def _find(self, text: str, seen: bool) -> list[Match]:
        out: list[Match] = []
        for m in _scan(text, _CARD, _CARD_ANCHORS, 40, seen):
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
    gate = DIGIT_GATE
    min_len = 15
    candidates = (shape_regex("AA00"),)

    def find(self, text: str) -> list[Match]:
        if len(text) < 15 or _no_digit(text):
            return []
        return self._find(text, seen=False)

    def find_prefiltered(self, text: str) -> list[Match]:
        """:meth:`find` once the combined pre-filter saw the anchor."""
        return self._find(text, seen=True) if len(text) >= 15 else []

    def _find(self, text: str, seen: bool) -> list[Match]:
        out: list[Match] = []
        for m in _scan(text, _IBAN, ("AA00",), 44, seen):
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
# A line break as it appears in raw output or inside a JSON / escaped string.
_NL = r"(?:\r?\n|\\r\\n|\\n)"
# After the BEGIN line: optional RFC 1421 / OpenPGP armor headers and the blank line that ends
# them, then lines of base64 (a JSON "\/" counts as "/"), each on a line of its own.
_PEM_HEADERS = re.compile(
    _NL + r"(?:(?:Proc-Type|DEK-Info|Comment|Version|Hash|Charset): ?[^\r\n\\]*+" + _NL + r")*+(?:[ \t]*+"
    + _NL + r")?"
)
_NEWLINES = re.compile(_NL + "*")
_PEM_LINE = re.compile(r"[ \t]*+((?:[A-Za-z0-9+/=]|\\/)++)[ \t]*+(" + _NL + r")?")


def _pem_body(text: str, pos: int) -> tuple[int, int, list[str], bool]:
    """Base64 lines from ``pos``: (end of the last one with its line break, end of its
    base64, the lines, whether the last ended with a line break)."""
    lines: list[str] = []
    ended = True
    b64_end = pos
    while ended and (m := _PEM_LINE.match(text, pos)) is not None:
        lines.append(m.group(1).replace("\\/", "/"))
        ended = m.group(2) is not None
        b64_end, pos = m.end(1), m.end()
    return pos, b64_end, lines, ended


def _pem_shape_ok(lines: list[str]) -> bool:
    """Lines an encoder wrote: every line but the last has one width and the last is no
    longer, "=" only pads the very end, and the base64 mixes upper- and lower-case letters.
    Shell words between two marker lines (``reboot``, ``/sbin/halt``) fail this."""
    if not lines:
        return False
    width = len(lines[0])
    if any(len(line) != width for line in lines[:-1]) or len(lines[-1]) > width:
        return False
    body = "".join(lines)
    if "=" in body.rstrip("="):
        return False
    return any(c.isupper() for c in body) and any(c.islower() for c in body)


class PemRecognizer:
    """PEM/PGP private key blocks: the BEGIN line, base64 lines, the matching END line.

    Only a whole block is matched: the BEGIN marker followed by a line break, optional
    armor headers, lines of base64 of one width, then the END marker at the start of a
    line. Text that merely contains the two markers (``echo -----BEGIN … KEY-----; cmd;
    echo -----END … KEY-----``) is not a key and is left alone: masking must never hide a
    command. An unterminated block (output cut mid-key) is matched through its base64
    lines: better to over-mask a truncated key than leak half of it.
    """

    name = "pem_private_key"
    gate = TOKEN_GATE
    min_len = 40
    candidates = ("-----BEGIN ",)

    def find(self, text: str) -> list[Match]:
        if "-----BEGIN " not in text:
            return []
        out: list[Match] = []
        pos = 0
        while (m := _PEM_BEGIN.search(text, pos)) is not None:
            pos = m.end()
            headers = _PEM_HEADERS.match(text, m.end())
            if headers is None:
                continue  # the marker is not a line of its own
            body_end, b64_end, lines, ended = _pem_body(text, headers.end())
            end_line = f"-----END {m.group(1)}-----"
            if ended and text.startswith(end_line, body_end):
                if _pem_shape_ok(lines):
                    pos = body_end + len(end_line)
                    out.append(Match(self.name, m.start(), pos))
            elif _pem_shape_ok(lines):
                pos = _NEWLINES.match(text, b64_end).end()  # type: ignore[union-attr] # matches empty
                out.append(Match(self.name, m.start(), pos))
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


_PASSWORD_HASH = re.compile(
    # MySQL native (mysql_native_password): "*" and 40 upper-case hex digits.
    r"\*(?<![0-9A-Za-z]\*)[0-9A-F]{40}(?![0-9A-Za-z])"
    # MySQL caching_sha2_password: "$A$<rounds/1000>$", 20 salt bytes (any), 43 of crypt's base64.
    r"|\$(?<![0-9A-Za-z$]\$)A\$[0-9]{3}\$[^\r\n]{20}[./0-9A-Za-z]{43}(?![./0-9A-Za-z])"
    # bcrypt: $2$, $2a$, $2b$, $2x$, $2y$, two-digit cost, 53 chars of salt and hash.
    r"|\$(?<![0-9A-Za-z$]\$)2[abxy]?\$[0-9]{2}\$[./A-Za-z0-9]{53}(?![./A-Za-z0-9])"
    # crypt(3) MD5 / SHA-256 / SHA-512: $1$, $5$, $6$, optional rounds, salt, hash.
    r"|\$(?<![0-9A-Za-z$]\$)[156]\$(?:rounds=[0-9]{1,9}\$)?[./A-Za-z0-9]{1,16}\$[./A-Za-z0-9]{22,86}"
    r"(?![./A-Za-z0-9$])"
    # yescrypt (Debian, Fedora /etc/shadow): $y$params$salt$hash.
    r"|\$(?<![0-9A-Za-z$]\$)y\$[./A-Za-z0-9]{1,32}\$[./A-Za-z0-9]{1,86}\$[./A-Za-z0-9]{43}(?![./A-Za-z0-9$])"
    # Argon2 (PHC string): $argon2id$v=19$m=…,t=…,p=…$salt$hash.
    r"|\$(?<![0-9A-Za-z$]\$)argon2(?:id|i|d)\$(?:v=[0-9]{1,3}\$)?m=[0-9]{1,10},t=[0-9]{1,10},p=[0-9]{1,3}"
    r"\$[A-Za-z0-9+/]{8,}\$[A-Za-z0-9+/]{16,}(?![A-Za-z0-9+/$])"
    # PBKDF2, passlib ($pbkdf2-sha256$…) and Django (pbkdf2_sha256$…) spellings.
    r"|\$(?<![0-9A-Za-z$]\$)pbkdf2(?:-sha(?:1|256|512))?\$[0-9]{1,9}\$[./A-Za-z0-9+]{4,}\$[./A-Za-z0-9+]{16,}"
    r"(?![./A-Za-z0-9+$])"
    r"|p(?<![0-9A-Za-z_]p)bkdf2_sha(?:1|256)\$[0-9]{1,9}\$[A-Za-z0-9]{4,}\$[A-Za-z0-9+/]{20,}={0,2}(?![A-Za-z0-9+/=$])"
)
_PASSWORD_HASH_CANDIDATES = (r"\*[0-9A-F]{40}", r"\$(?:A|2[abxy]?|[156]|y|argon2|pbkdf2)\$",
                             r"\$argon2", r"\$pbkdf2", "pbkdf2_sha")


class PasswordHashRecognizer(RegexRecognizer):
    """Stored password hashes (credential material: crackable offline): MySQL native and
    caching_sha2, bcrypt, crypt(3) MD5/SHA-256/SHA-512, yescrypt, Argon2, PBKDF2.

    Not recognized: MariaDB ``ed25519`` authentication strings (43 characters of bare
    base64, indistinguishable from any other token without the ``mysql.user`` context;
    mask that column by name instead).
    """

    candidates = _PASSWORD_HASH_CANDIDATES

    def __init__(self) -> None:
        super().__init__("password_hash", _PASSWORD_HASH, min_len=13)


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
        PasswordHashRecognizer(),
    ]
    return {rec.name: rec for rec in recs}


BUILTIN: dict[str, Recognizer] = _builtins()
