"""Checksum and structure validators that turn regex candidates into findings.

Contract: every validator takes the *matched text* exactly as it appears (separators
included) and returns ``True`` when it is a plausible real value. Validators never raise
on odd input (non-digits, empty text, Unicode digits); they return ``False``. They are
pure and cheap (no allocation beyond a few small strings).

:data:`VALIDATORS` maps the names usable from :func:`policies.masking.regex_recognizer`
(``"luhn"``, ``"iban"``, ``"ssn"``, ``"card"``) to these functions.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable

_ASCII_DIGITS = frozenset("0123456789")

# IBAN total lengths per country (ISO 13616 registry). Limited to countries whose IBANs
# are common in customer data: a long tail of 15-34 char lengths would let more random
# tokens through the 1-in-97 checksum without helping recall where it matters.
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20,
    "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18,
    "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IS": 26, "IT": 27, "JO": 30,
    "KW": 30, "KZ": 20, "LB": 28, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24,
    "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28,
    "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SE": 24, "SI": 19, "SK": 24,
    "SM": 27, "TN": 24, "TR": 26, "UA": 29, "VG": 24, "XK": 20,
}

# Card brands as (prefix range low, high, prefix length, allowed PAN lengths). A PAN is
# accepted only if some brand covers both its prefix and its length: 16-digit Luhn-valid
# order numbers starting with 1, 7, 8 or 9 are the main false-positive source otherwise.
_L16_19 = frozenset(range(16, 20))
_CARD_BRANDS: tuple[tuple[int, int, int, frozenset[int]], ...] = (
    (4, 4, 1, frozenset({13, 16, 19})),  # Visa
    (51, 55, 2, frozenset({16})),  # Mastercard
    (2221, 2720, 4, frozenset({16})),  # Mastercard 2-series
    (34, 34, 2, frozenset({15})),  # Amex
    (37, 37, 2, frozenset({15})),  # Amex
    (6011, 6011, 4, _L16_19),  # Discover
    (644, 649, 3, _L16_19),  # Discover
    (65, 65, 2, _L16_19),  # Discover
    (3528, 3589, 4, _L16_19),  # JCB
    (300, 305, 3, frozenset(range(14, 20))),  # Diners Club International
    (36, 36, 2, frozenset(range(14, 20))),  # Diners
    (38, 38, 2, frozenset(range(14, 20))),  # Diners
    (62, 62, 2, _L16_19),  # UnionPay
    (50, 50, 2, frozenset(range(13, 20))),  # Maestro
    (56, 69, 2, frozenset(range(13, 20))),  # Maestro (overlaps Discover/UnionPay: fine, any brand)
)


_NON_DIGITS = re.compile(r"[^0-9]+")
_DOUBLED = bytes.maketrans(b"0123456789", b"0246813579")
"""Luhn's doubled digit (2d, minus 9 past 9), as a bytes table."""


def digits_of(text: str) -> str:
    """ASCII digits of ``text`` in order (separators and everything else dropped)."""
    return _NON_DIGITS.sub("", text)


def luhn(text: str) -> bool:
    """Luhn (mod 10) check over the ASCII digits of ``text``; needs at least 2 digits."""
    digits = digits_of(text)
    return len(digits) >= 2 and _luhn_digits(digits)


def _luhn_digits(digits: str) -> bool:
    """Luhn over a string of ASCII digits only. From the right: digits in odd positions
    count as they are, the others doubled; bytes are summed in C (each digit is its byte
    minus 48) instead of an ``int()`` per digit."""
    raw = digits.encode("ascii")
    return (sum(raw[-1::-2]) + sum(raw[-2::-2].translate(_DOUBLED)) - 48 * len(raw)) % 10 == 0


def _brand_lengths() -> dict[str, frozenset[int]]:
    """Valid PAN lengths by 4-digit prefix (the brand table expanded once)."""
    table: dict[str, set[int]] = {}
    for low, high, plen, lengths in _CARD_BRANDS:
        scale = 10 ** (4 - plen)
        for prefix in range(low * scale, (high + 1) * scale):
            table.setdefault(f"{prefix:04d}", set()).update(lengths)
    return {prefix: frozenset(lengths) for prefix, lengths in table.items()}


_BRAND_LENGTHS = _brand_lengths()


def card_brand_ok(digits: str) -> bool:
    """True if the ASCII-digit PAN has a known brand prefix and a length valid for it."""
    n = len(digits)
    if not 13 <= n <= 19 or not digits.isascii() or not digits.isdigit():
        return False
    return n in _BRAND_LENGTHS.get(digits[:4], ())


def card(text: str) -> bool:
    """Payment card number: 13-19 digits, known brand prefix/length, Luhn-valid."""
    return card_digits(digits_of(text))


def card_digits(digits: str) -> bool:
    """:func:`card` for a string of ASCII digits only."""
    return card_brand_ok(digits) and _luhn_digits(digits)


def iban(text: str) -> bool:
    """IBAN: known country, exact registry length, mod-97 == 1. Spaces are ignored.

    Only upper-case letters are accepted (the printed and electronic forms are upper
    case; lower-case tokens are far more often identifiers than IBANs).
    """
    compact = text.replace(" ", "")
    if len(compact) < 15 or not compact.isascii() or not compact.isalnum():
        return False
    if IBAN_LENGTHS.get(compact[:2]) != len(compact) or not compact[2:4].isdigit():
        return False
    if not compact.isupper():
        return False
    rearranged = compact[4:] + compact[:4]
    # int(c, 36) maps 0-9 to themselves and A-Z to 10-35, exactly the ISO 7064 encoding.
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


# Specific numbers that were published (and so appear in fixtures, docs and fake data)
# and were never issued as real SSNs; masking them only adds noise to test data.
_SSN_PUBLISHED = frozenset({"078051120", "219099999"})


def ssn(text: str) -> bool:
    """US SSN ``AAA-GG-SSSS``: area not 000/666/9xx, group not 00, serial not 0000."""
    digits = digits_of(text)
    if len(digits) != 9 or digits in _SSN_PUBLISHED:
        return False
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


_DATE_SHAPE = re.compile(r"\+?[0-9]{4}-[0-9]{2}-[0-9]{2}")


def phone(text: str) -> bool:
    """Phone number shape: ``+`` forms carry 8-15 digits (E.164), others 10-11 (NANP).

    Rejects ISO dates behind a ``+`` (``+2024-01-15``) and signed decimals
    (``+1234567.89``: one ``.`` as the only separator).
    """
    n = sum(1 for c in text if c in _ASCII_DIGITS)
    if text.startswith("+"):
        if not 8 <= n <= 15 or _DATE_SHAPE.fullmatch(text):
            return False
    elif n not in (10, 11):
        return False
    seps = {c for c in text if c in " .-"}
    return not (seps == {"."} and text.count(".") == 1)


def _b64url_decode(segment: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        return None


def jwt(text: str) -> bool:
    """JWS/JWE compact token: the header decodes to a JSON object with an ``alg`` member."""
    header = _b64url_decode(text.split(".", 1)[0])
    if header is None:
        return False
    try:
        obj = json.loads(header)
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(obj, dict) and isinstance(obj.get("alg"), str)


def mixed_case(text: str) -> bool:
    """At least one upper- and one lower-case ASCII letter (rules out hex digests)."""
    return any("a" <= c <= "z" for c in text) and any("A" <= c <= "Z" for c in text)


VALIDATORS: dict[str, Callable[[str], bool]] = {
    "luhn": luhn,
    "iban": iban,
    "ssn": ssn,
    "card": card,
}
