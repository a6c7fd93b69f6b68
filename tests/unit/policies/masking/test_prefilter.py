from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies.masking import BUILTIN, find_all, regex_recognizer
from policies.masking import prefilter as pf
from policies.masking.anchored_scan import BIG_TEXT
from policies.masking.prefilter import Scanner, shape_regex
from policies.masking.recognizers import find_all_reference

from .corpus import FALSE_POSITIVES, TRUE_POSITIVES

FRAGMENTS = sorted({text for cases in TRUE_POSITIVES.values() for _, text, _ in cases}
                   | {text for cases in FALSE_POSITIVES.values() for _, text in cases})
ALPHABET = "0123456789 -.+()@$*/=_:\n\\ABCDEFabcdefxyzKEYIN éü🙂\udcff"
ALL = list(BUILTIN.values())
CUSTOM = regex_recognizer("employee_id", r"EMP-\d{6}")

pieces = st.one_of(st.sampled_from(FRAGMENTS), st.text(alphabet=ALPHABET, max_size=40))
texts = st.lists(pieces, max_size=8).map("".join)


@settings(max_examples=400, deadline=None)
@given(texts)
def test_fast_path_equals_reference_with_every_builtin(text):
    assert find_all(text, ALL) == find_all_reference(text, ALL)


@settings(max_examples=200, deadline=None)
@given(texts, st.permutations([*ALL, CUSTOM]).flatmap(lambda recs: st.integers(1, len(recs)).map(
    lambda n: recs[:n])))
def test_fast_path_equals_reference_for_any_subset_and_order(text, recognizers):
    assert find_all(text, recognizers) == find_all_reference(text, recognizers)


@settings(max_examples=30, deadline=None)
@given(st.lists(pieces, min_size=1, max_size=6).map(" ".join))
def test_fast_path_equals_reference_inside_big_values(text):
    pad = "lorem 12 ipsum-3 dolor.45 (6) 2024-01-15 " * (BIG_TEXT // 40 + 1)
    big = pad + text + pad
    assert find_all(big, ALL) == find_all_reference(big, ALL)


@pytest.mark.parametrize(("anchor", "regex"), [("0000-000", "[0-9][0-9][0-9][0-9]\\-[0-9][0-9][0-9]"),
                                               ("AA00", "[A-Z][A-Z][0-9][0-9]"), ("(000)", "\\([0-9][0-9][0-9]\\)")])
def test_shape_regex(anchor, regex):
    assert shape_regex(anchor) == regex


def test_recognizers_without_candidates_always_run():
    scanner = Scanner([CUSTOM, BUILTIN["card"]])
    assert scanner.always == frozenset({0})
    assert scanner.hits("nothing") == {0}
    assert scanner.hits("4111 1111 1111 1111") == {0, 1}


@pytest.mark.parametrize("text", ["4111 1111 1111 1111 and bob@example.org", "EMP-123456 +44 20 7946 0958",
                                  "AKIAIOSFODNN7EXAMPLE \udcff é"])
def test_python_regex_fallback_gives_the_same_result(monkeypatch, text):
    monkeypatch.setattr(pf, "hyperscan", None)
    recs = [*ALL, CUSTOM]
    assert Scanner(recs).find(text) == find_all_reference(text, recs)


def test_concurrent_scans_from_threads_agree():
    import threading

    scanner = Scanner(ALL)
    texts = [f"row {i}: 4111 1111 1111 1111, ada{i}@example.org, +44 20 7946 0958" for i in range(200)]
    expected = [find_all_reference(t, ALL) for t in texts]
    results: list[bool] = []

    def work() -> None:
        results.append(all(scanner.find(t) == e for t, e in zip(texts, expected, strict=True)))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [True] * 8
