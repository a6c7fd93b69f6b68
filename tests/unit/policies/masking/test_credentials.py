"""Credential recognizers: secrets that need more than a regex (values, PEM blocks)."""

from __future__ import annotations

from policies.masking import BUILTIN, Match


def spans(text: str, matches: list[Match]) -> list[str]:
    return [text[m.start : m.end] for m in matches]


def test_aws_secret_matches_only_the_value():
    text = "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    (m,) = BUILTIN["aws_secret_key"].find(text)
    assert text[m.start :] == "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def test_pem_two_blocks():
    block = "-----BEGIN EC PRIVATE KEY-----\nMHc=\n-----END EC PRIVATE KEY-----"
    text = f"{block}\nmiddle\n{block}"
    assert spans(text, BUILTIN["pem_private_key"].find(text)) == [block, block]
