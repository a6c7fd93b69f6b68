from __future__ import annotations

import re
import time

import pytest

from policies.masking import BUILTIN, Match, Recognizer, RegexRecognizer, find_all, regex_recognizer
from policies.masking.recognizers import BIG_TEXT

from .corpus import FALSE_POSITIVES, TRUE_POSITIVES

NAMES = ["card", "iban", "email", "phone", "ssn", "aws_access_key", "aws_secret_key", "github_token",
         "gitlab_token", "slack_token", "stripe_key", "jwt", "pem_private_key", "password_hash"]

TP = [pytest.param(name, text, expected, id=f"{name}-{cid}")
      for name, cases in TRUE_POSITIVES.items() for cid, text, expected in cases]
FP = [pytest.param(name, text, id=f"{name}-{cid}") for name, cases in FALSE_POSITIVES.items() for cid, text in cases]


def spans(text: str, matches: list[Match]) -> list[str]:
    return [text[m.start : m.end] for m in matches]


def test_builtin_names_and_corpus_coverage():
    assert list(BUILTIN) == NAMES
    for name in NAMES:
        assert BUILTIN[name].name == name
        assert len(TRUE_POSITIVES[name]) >= 8, name
        assert len(FALSE_POSITIVES[name]) >= 8, name


@pytest.mark.parametrize(("name", "text", "expected"), TP)
def test_true_positive(name, text, expected):
    """Recall: the recognizer finds exactly the expected span."""
    assert spans(text, BUILTIN[name].find(text)) == [expected]


@pytest.mark.parametrize(("name", "text"), FP)
def test_false_positive(name, text):
    """Precision: nothing is found in the tricky look-alikes."""
    assert BUILTIN[name].find(text) == []


@pytest.mark.parametrize(("name", "text", "expected"), TP)
def test_true_positive_survives_find_all(name, text, expected):
    """With every built-in active the expected span is still covered, by this recognizer
    unless a longer match swallows it (a token used as URL userinfo is part of an
    e-mail-shaped ``ghp_…@github.com``: still masked, counted as ``email``)."""
    start = text.index(expected)
    end = start + len(expected)
    got = find_all(text, list(BUILTIN.values()))
    cover = [m for m in got if m.start <= start and end <= m.end]
    assert len(cover) == 1
    if (cover[0].start, cover[0].end) == (start, end):
        assert cover[0].recognizer == name


@pytest.mark.parametrize(("name", "text", "expected"), TP)
def test_true_positive_inside_big_value(name, text, expected):
    """The big-value anchor path finds the same spans as the small-value path."""
    pad = "lorem 12 ipsum-3 dolor.45 (6) " * (BIG_TEXT // 30 + 1)
    big = pad + " " + text + " " + pad
    found = spans(big, BUILTIN[name].find(big))
    assert found == [expected]


def test_several_matches_in_one_text():
    text = "a 4111111111111111, b 5555-5555-5555-4444 and c 378282246310005."
    assert spans(text, BUILTIN["card"].find(text)) == ["4111111111111111", "5555-5555-5555-4444", "378282246310005"]


def test_multibyte_offsets_are_character_offsets():
    text = "Überweisung an Zoë: 4111 1111 1111 1111 – danke 🙂 bob@example.org"
    got = find_all(text, [BUILTIN["card"], BUILTIN["email"]])
    assert spans(text, got) == ["4111 1111 1111 1111", "bob@example.org"]


def test_find_all_longest_wins_then_order():
    short = regex_recognizer("short", r"\d{4}")
    long_ = regex_recognizer("long", r"\d{4}-\d{4}")
    text = "x 1234-5678 y"
    assert find_all(text, [short, long_]) == [Match("long", 2, 11)]
    first = regex_recognizer("first", r"\d{4}-\d{4}")
    assert find_all(text, [first, long_]) == [Match("first", 2, 11)]


def test_find_all_sorted_non_overlapping():
    recs = [regex_recognizer("a", r"ab"), regex_recognizer("b", r"bc"), regex_recognizer("c", r"cde")]
    text = "abcde abcde"
    got = find_all(text, recs)
    assert got == sorted(got, key=lambda m: m.start)
    assert all(x.end <= y.start for x, y in zip(got, got[1:], strict=False))
    assert [m.recognizer for m in got] == ["a", "c", "a", "c"]


def test_find_all_card_beats_phone_on_same_span():
    text = "+4111111111111111"  # 16 digits after "+": too long for E.164 anyway
    got = find_all(text, [BUILTIN["card"], BUILTIN["phone"]])
    assert [m.recognizer for m in got] == ["card"]


def test_find_all_empty():
    assert find_all("", list(BUILTIN.values())) == []
    assert find_all("no secrets here", []) == []


def test_aws_secret_matches_only_the_value():
    text = "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    (m,) = BUILTIN["aws_secret_key"].find(text)
    assert text[m.start :] == "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def test_pem_two_blocks():
    block = "-----BEGIN EC PRIVATE KEY-----\nMHc=\n-----END EC PRIVATE KEY-----"
    text = f"{block}\nmiddle\n{block}"
    assert spans(text, BUILTIN["pem_private_key"].find(text)) == [block, block]


class TestRegexRecognizer:
    def test_custom_with_validator(self):
        rec = regex_recognizer("acct", r"ACCT-(?P<value>\d{13,19})", validator="luhn")
        assert rec.name == "acct"
        text = "ACCT-4111111111111111 ACCT-4111111111111112"
        assert spans(text, rec.find(text)) == ["4111111111111111"]

    def test_flags(self):
        rec = regex_recognizer("emp", r"emp-\d{6}", flags="i")
        assert spans("EMP-123456", rec.find("EMP-123456")) == ["EMP-123456"]

    def test_satisfies_protocol(self):
        rec: Recognizer = regex_recognizer("x", r"x+")
        assert isinstance(rec, RegexRecognizer)

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"name": "bad", "pattern": "(unclosed"}, "invalid regex"),
            ({"name": "bad", "pattern": r"\d+", "validator": "nope"}, "unknown validator 'nope'"),
            ({"name": "bad", "pattern": r"\d+", "flags": "q"}, "unknown regex flag 'q'"),
            ({"name": "bad", "pattern": r"\d*"}, "matches the empty string"),
            ({"name": "", "pattern": r"\d+"}, "name must not be empty"),
        ],
        ids=["bad-regex", "unknown-validator", "unknown-flag", "empty-match", "empty-name"],
    )
    def test_errors(self, kwargs, message):
        with pytest.raises(ValueError, match=re.escape(message)):
            regex_recognizer(**kwargs)

    def test_error_names_recognizer(self):
        with pytest.raises(ValueError, match="'emp'"):
            regex_recognizer("emp", "[")


def test_never_raises_on_odd_text():
    odd = ["", "\udc80\udcff" * 10, "🙂" * 100, "\x00" * 50, "+" * 100, "@" * 100, "-----BEGIN " * 5,
           "0" * 5000, "eyJ" * 100, "secret: " + "A" * 40]
    for text in odd:
        for rec in BUILTIN.values():
            rec.find(text)


def test_16mb_value_with_one_card():
    words = "lorem ipsum 42 dolor-7 sit 2024-01-15 amet 3.14 (x) +5 user at host ".split(" ")
    chunk = " ".join(words) * 40
    filler = (chunk * (16 * 1024 * 1024 // len(chunk) + 1))[: 16 * 1024 * 1024]
    half = len(filler) // 2
    text = filler[:half] + " 4111 1111 1111 1111 " + filler[half:]
    got = find_all(text, list(BUILTIN.values()))
    assert [(m.recognizer, text[m.start : m.end]) for m in got] == [("card", "4111 1111 1111 1111")]


@pytest.mark.parametrize("name", NAMES)
def test_pathological_runs_are_linear(name):
    rec = BUILTIN[name]
    for text in ("1" * 200_000, "1-" * 100_000, "+1 " * 70_000, "aB3" * 70_000):
        start = time.perf_counter()
        rec.find(text)
        # not a speed check: a backtracking pattern takes hours on these, a linear one
        # milliseconds; 10 s separates them on any machine, however loaded
        assert time.perf_counter() - start < 10.0, (name, text[:10])
