"""Credential recognizers: PEM/PGP private key blocks, stored password hashes, and the
patterns of cloud and SaaS secrets and JWTs (registered as token recognizers by
:mod:`.builtins`)."""

from __future__ import annotations

import re

from . import validators
from .gates import TOKEN_GATE
from .recognizers import Match, RegexRecognizer

AWS_ACCESS = re.compile(r"A(?<![A-Za-z0-9]A)(?:KIA|SIA|BIA|CCA)[A-Z0-9]{16}(?![A-Za-z0-9])")
AWS_SECRET = re.compile(
    r"(?i:aws[_-]?secret(?:[_-]?access)?(?:[_-]?key)?|secret(?:[_-]?access)?(?:[_-]?key)?)"
    r"[\"']?(?:[ \t]*(?:=>|[:=])[ \t]*|[ \t]+)[\"']?"
    r"(?P<value>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"
)
GITHUB = re.compile(
    r"g(?<![A-Za-z0-9_]g)(?:h[pousr]_[A-Za-z0-9]{36,251}|ithub_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})"
    r"(?![A-Za-z0-9_])"
)
GITLAB = re.compile(r"glpat-(?<![A-Za-z0-9_-]glpat-)[A-Za-z0-9_-]{20,}(?![A-Za-z0-9_-])")
SLACK = re.compile(
    r"xox(?<![A-Za-z0-9_-]xox)[abprs]-[0-9]+-[A-Za-z0-9-]{8,}(?![A-Za-z0-9_-])"
    r"|https://hooks\.slack\.com/services/T[A-Z0-9]{6,}/B[A-Z0-9]{6,}/[A-Za-z0-9]{16,}(?![A-Za-z0-9])"
)
STRIPE = re.compile(r"[rs](?<![A-Za-z0-9_][rs])k_(?:live|test)_[A-Za-z0-9]{16,}(?![A-Za-z0-9_])")
JWT = re.compile(
    r"eyJ(?<![A-Za-z0-9_-]eyJ)[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*"
    r"(?:\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)?(?![A-Za-z0-9_-])"  # JWE has five segments
)


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
        # "[^\r\n]" in the caching_sha2 salt: a "\n" ends a hash like the end of the text
        super().__init__("password_hash", _PASSWORD_HASH, min_len=13, joinable=True)


def jwt_ok(text: str) -> bool:
    # Dotted identifiers fail the header check; "header.." (no payload, no signature)
    # is a fragment, not a token.
    return any(text.split(".")[1:]) and validators.jwt(text)

