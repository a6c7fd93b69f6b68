"""Every built-in recognizer against the precision corpora (corpus.py): recall, precision,
behaviour with all of them active, big values, odd text and pathological runs."""

from __future__ import annotations

import time

import pytest

from policies.masking import BUILTIN, Match, find_all
from policies.masking.anchored_scan import BIG_TEXT

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
