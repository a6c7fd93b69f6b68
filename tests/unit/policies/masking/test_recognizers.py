from __future__ import annotations

import re

import pytest

from policies.masking import BUILTIN, Match, Recognizer, RegexRecognizer, find_all, regex_recognizer


def spans(text: str, matches: list[Match]) -> list[str]:
    return [text[m.start : m.end] for m in matches]


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
