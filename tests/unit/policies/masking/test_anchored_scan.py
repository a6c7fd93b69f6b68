"""Anchored scanning finds what a whole-value regex pass finds, on small and big values."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies.masking import payment, personal
from policies.masking.anchored_scan import BIG_TEXT, no_digit, scan

SSN_LIKE = re.compile(r"[0-9]{3}-[0-9]{2}-[0-9]{4}(?![0-9])")
ANCHORS = ("000-00-0000",)
PAD = "lorem 12 ipsum-3 dolor.45 (6) "


@pytest.mark.parametrize(
    "text",
    [
        "id 123-45-6789 and 987-65-4321.",
        "no number here",
        PAD * (BIG_TEXT // len(PAD) + 1) + "123-45-6789" + PAD * 3 + "555-12-3456",
        "123-45-6789" + PAD * (BIG_TEXT // len(PAD) + 1),
    ],
    ids=["small", "small-clean", "big", "big-at-start"],
)
def test_scan_equals_finditer(text):
    expected = [m.span() for m in SSN_LIKE.finditer(text)]
    assert [m.span() for m in scan(text, SSN_LIKE, ANCHORS, 11)] == expected


def test_scan_without_anchor_skips_the_regex():
    # The pattern would match, but the caller's contract says every match starts on an anchor.
    assert list(scan("abc 12-345", re.compile(r"abc"), ANCHORS, 11)) == []
    assert [m.group() for m in scan("abc 123-45-6789", re.compile(r"abc"), ANCHORS, 11)] == ["abc"]
    assert [m.group() for m in scan("abc", re.compile(r"abc"), (), 0)] == ["abc"]  # no anchors: plain pass


@pytest.mark.parametrize(
    ("text", "expected"),
    [("no digits", True), ("a1", False), ("٣ arabic-indic", True), ("x" * BIG_TEXT, False)],
)
def test_no_digit(text, expected):
    """True only when certainly digit-free; never claimed for big values."""
    assert no_digit(text) is expected


# Every anchored built-in pattern: scan() on big texts (sparse anchors: the pattern tried at
# each anchor; dense anchors: windows) finds exactly what one finditer pass finds.
ANCHORED = [
    (payment._CARD, payment._CARD_ANCHORS, 40),
    (payment._IBAN, ("AA00",), 44),
    (personal._PHONE_NANP, personal._NANP_ANCHORS, 16),
    (personal.SSN, ("000-00-0000", "000 00 0000"), 11),
]
BITS = ["4111 1111 1111 1111", "4111-1111-1111-1111", "4111111111111111", "DE89 3704 0044 0532 0130 00",
        "DE89370400440532013000", "(212) 555-0100", "1-212-555-0100", "212.555.0100", "078-05-1120",
        "123 45 6789", "0" * 30, "1234 567", " ", "-", "\n", "x", "é", "12"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(BITS), max_size=40).map("".join), st.sampled_from(ANCHORED),
       st.sampled_from(["", "9" * (BIG_TEXT + 10)]))
def test_big_scan_equals_finditer_for_builtin_patterns(middle, anchored, digits):
    pattern, anchors, max_len = anchored
    text = PAD * (BIG_TEXT // len(PAD) + 1) + middle + digits + " " + middle
    assert [m.span() for m in scan(text, pattern, anchors, max_len)] == [m.span() for m in pattern.finditer(text)]
