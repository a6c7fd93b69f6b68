from __future__ import annotations

import pytest

from policies.masking import VALIDATORS
from policies.masking import validators as v


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("4111111111111111", True),
        ("4111 1111 1111 1111", True),
        ("79927398713", True),
        ("4111111111111112", False),
        ("0", False),
        ("", False),
        ("abc", False),
        ("١٢٣٤٥٦٧٨٩٠", False),  # Arabic-Indic digits are not ASCII digits
    ],
    ids=["visa", "grouped", "wiki-example", "off-by-one", "single-digit", "empty", "letters", "non-ascii"],
)
def test_luhn(text, ok):
    assert v.luhn(text) is ok


@pytest.mark.parametrize(
    ("pan", "ok"),
    [
        ("4222222222222", True),  # Visa 13
        ("4111111111111111110", True),  # Visa 19
        ("2720990000000007", True),  # Mastercard 2-series upper bound
        ("2721000000000004", False),  # just past the 2-series range
        ("378282246310005", True),  # Amex 15
        ("3782822463100000", False),  # Amex prefix, 16 digits
        ("5555555555554444", True),
        ("5555555555554", False),  # Mastercard prefix, 13 digits
        ("6011000990139424", True),
        ("9111111111111110", False),  # unknown prefix
        ("411111111111", False),  # 12 digits
        ("41111111111111111111", False),  # 20 digits
    ],
    ids=["visa13", "visa19", "mc-2720", "mc-2721", "amex", "amex-16", "mc", "mc-13", "discover", "prefix-9",
         "12-digits", "20-digits"],
)
def test_card(pan, ok):
    assert v.card(pan) is ok


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("DE89370400440532013000", True),
        ("DE89 3704 0044 0532 0130 00", True),
        ("GB82WEST12345698765432", True),
        ("GB82WEST12345698765433", False),
        ("gb82west12345698765432", False),
        ("DE8937040044053201300", False),
        ("ZZ89370400440532013000", False),
        ("DEXX370400440532013000", False),
        ("", False),
        ("DE89-3704-0044-0532-0130-00", False),
    ],
    ids=["de", "de-grouped", "gb", "gb-bad-check", "lowercase", "short", "unknown-country", "letters-in-check",
         "empty", "dashes"],
)
def test_iban(text, ok):
    assert v.iban(text) is ok


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("536-22-8451", True),
        ("536 22 8451", True),
        ("000-22-8451", False),
        ("666-22-8451", False),
        ("936-22-8451", False),
        ("536-00-8451", False),
        ("536-22-0000", False),
        ("078-05-1120", False),
        ("53-622-8451", True),  # the validator only counts digits; shape is the regex's job
        ("536-22-845", False),
    ],
    ids=["dashes", "spaces", "area-000", "area-666", "area-9xx", "group-00", "serial-0000", "published",
         "digits-only-rule", "8-digits"],
)
def test_ssn(text, ok):
    assert v.ssn(text) is ok


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("+14155552671", True),
        ("+1 415 555 2671", True),
        ("+1234567", False),  # 7 digits
        ("+1234567890123456", False),  # 16 digits
        ("+2024-01-15", False),
        ("+1234567.89", False),
        ("555-123-4567", True),
        ("1-800-555-0199", True),
        ("555-1234", False),
    ],
    ids=["e164", "e164-spaces", "too-short", "too-long", "date", "decimal", "nanp", "nanp-1", "local"],
)
def test_phone(text, ok):
    assert v.phone(text) is ok


def test_jwt_header_must_be_json_with_alg():
    assert v.jwt("eyJhbGciOiJIUzI1NiJ9.e30.sig")  # {"alg":"HS256"}
    assert not v.jwt("eyJmb28iOiJiYXIifQ.e30.sig")  # {"foo":"bar"}
    assert not v.jwt("eyJ!!!.e30.sig")
    assert not v.jwt("eyJhbGciOiJIUzI1NiJ9"[:-2] + ".x.y")  # truncated JSON


def test_mixed_case():
    assert v.mixed_case("aB")
    assert not v.mixed_case("da39a3ee5e6b4b0d3255bfef95601890afd80709")
    assert not v.mixed_case("DA39A3EE")


def test_registry_names():
    assert set(VALIDATORS) == {"luhn", "iban", "ssn", "card"}
    assert all(callable(f) for f in VALIDATORS.values())


def test_validators_never_raise_on_odd_input():
    for f in (*VALIDATORS.values(), v.phone, v.jwt, v.mixed_case):
        for text in ("", "\udc80\udcff", "🙂" * 20, "0" * 1000, " - . "):
            assert f(text) in (True, False)
