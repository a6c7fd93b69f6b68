"""The shared pre-filters: a closed gate means no recognizer behind it can match."""

from __future__ import annotations

import pytest

from policies.masking.anchored_scan import BIG_TEXT
from policies.masking.gates import DIGIT_GATE, TOKEN_GATE, Gate


@pytest.mark.parametrize(
    ("gate", "text", "is_open"),
    [
        (DIGIT_GATE, "card 4111111111111111", True),
        (DIGIT_GATE, "call (212) 555-0100", True),
        (DIGIT_GATE, "iban DE89 3704", True),
        (DIGIT_GATE, "just 42 and 7", False),
        (DIGIT_GATE, "no digits at all", False),
        (TOKEN_GATE, "key AKIAIOSFODNN7EXAMPLE", True),
        (TOKEN_GATE, "-----BEGIN RSA PRIVATE KEY-----", True),
        (TOKEN_GATE, "plain words " * 30 + "eyJhbGciOi", True),  # long value: substring tests
        (TOKEN_GATE, "plain words " * 30, False),
        (TOKEN_GATE, "x" * BIG_TEXT, True),  # big values always pass
    ],
)
def test_builtin_gates(gate, text, is_open):
    assert gate(text) is is_open


def test_needs_digit_rejects_before_the_regex():
    gate = Gate(r"[a-z]+", needs_digit=True)
    assert not gate("letters only") and gate("letters 1")
