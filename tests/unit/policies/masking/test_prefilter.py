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


# find_many: a batch of values scanned together gives each value exactly what find gives it.
EDGES = ["", "\n", "1", "@", "4111", " 1111 1111 1111", "-", "1-", "+4", "ab@", "@example.org", "eyJhbGciOiIifQ.x.",
         "EMP-", "123456", "DE89 3704", " 0044 0532 0130 00", "\udcff", "é", "-----BEGIN RSA PRIVATE KEY-----\n"]
"""Pieces that mean something only next to their neighbour: a batch puts them on either
side of a separator (a card, an IBAN or a token cut in two must not be found whole)."""
values = st.lists(st.one_of(pieces, st.sampled_from(EDGES)), max_size=4).map("".join)
batches = st.lists(values, max_size=12)


@settings(max_examples=400, deadline=None)
@given(batches)
def test_find_many_equals_find_per_value(batch):
    scanner = Scanner(ALL)
    assert scanner.find_many(batch) == [scanner.find(value) for value in batch]


@settings(max_examples=200, deadline=None)
@given(batches, st.permutations([*ALL, CUSTOM]).flatmap(lambda recs: st.integers(1, len(recs)).map(
    lambda n: recs[:n])))
def test_find_many_equals_reference_for_any_subset_and_order(batch, recognizers):
    assert Scanner(recognizers).find_many(batch) == [find_all_reference(v, recognizers) for v in batch]


@settings(max_examples=20, deadline=None)
@given(st.lists(values, min_size=1, max_size=4))
def test_find_many_equals_find_when_the_batch_is_big(batch):
    """Past BIG_TEXT the joined text takes the recognizers' windowed scans."""
    pad = "lorem 12 ipsum-3 dolor.45 (6) 2024-01-15 4111 1111 1111 1111 ann@example.org"
    batch = [*batch, *(f"{pad} {i}" for i in range(BIG_TEXT // len(pad) + 2))]
    scanner = Scanner(ALL)
    assert scanner.find_many(batch) == [scanner.find(value) for value in batch]


@pytest.mark.parametrize(("batch", "expected"), [
    # a card cut by the separator is no card; the halves are not either
    (["4111 1111", "1111 1111"], [[], []]),
    (["paid 4111 1111 1111 1111", "x"], [[("card", 5, 24)], []]),
    # an e-mail's local part does not reach back over the separator
    (["abc", "@example.org", "ann@example.org"], [[], [], [("email", 0, 15)]]),
    # a JWT shorter than the token recognizers' min_len is found in neither form
    (["eyJhbGciOiIifQ.x.", "eyJhbGciOiIifQ.x. and some more text"], [[], [("jwt", 0, 17)]]),
])
def test_find_many_table(batch, expected):
    found = Scanner(ALL).find_many(batch)
    assert [[(m.recognizer, m.start, m.end) for m in matches] for matches in found] == expected


def test_find_many_runs_a_recognizer_value_by_value_when_it_breaks_its_promise():
    """A joinable recognizer whose match crosses a separator: each value is scanned alone."""
    greedy = regex_recognizer("greedy", r"A[^B]*B")
    greedy.joinable = True  # type: ignore[attr-defined] # wrongly: "[^B]" crosses "\n"
    scanner = Scanner([greedy])
    assert scanner.find_many(["xA", "yB", "AB"]) == [[], [], greedy.find("AB")]


@pytest.mark.parametrize("batch", [["4111 1111 1111 1111", "bob@example.org"], ["EMP-123456", "\udcff é", ""]])
def test_find_many_python_regex_fallback(monkeypatch, batch):
    monkeypatch.setattr(pf, "hyperscan", None)
    recs = [*ALL, CUSTOM]
    assert Scanner(recs).find_many(batch) == [find_all_reference(v, recs) for v in batch]
