"""Payment recognizers: card numbers and IBANs."""

from __future__ import annotations

import pytest

from policies.masking import BUILTIN, Match
from policies.masking.payment import CardRecognizer, IbanRecognizer


def spans(text: str, matches: list[Match]) -> list[str]:
    return [text[m.start : m.end] for m in matches]


def test_several_matches_in_one_text():
    text = "a 4111111111111111, b 5555-5555-5555-4444 and c 378282246310005."
    assert spans(text, BUILTIN["card"].find(text)) == ["4111111111111111", "5555-5555-5555-4444", "378282246310005"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pay 4111 1111 1111 1111 12/27 ok", ["4111 1111 1111 1111"]),  # trailing group trimmed
        ("4111-1111-1111-1111", ["4111-1111-1111-1111"]),
        ("x 41111111111111112 y", []),  # a compact run is never trimmed
        ("4111 1111 1111 1112", []),  # Luhn fails
    ],
)
def test_card_trimming(text, expected):
    assert spans(text, CardRecognizer().find(text)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("DE89 3704 0044 0532 0130 00 ABCD", ["DE89 3704 0044 0532 0130 00"]),  # cut at the country length
        ("DE89370400440532013000", ["DE89370400440532013000"]),
        ("DE89 3704 0044 0532 0130 01", []),  # checksum fails
    ],
)
def test_iban_country_length(text, expected):
    assert spans(text, IbanRecognizer().find(text)) == expected
