from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies.masking import (
    BUILTIN,
    email_partial,
    find_all,
    full,
    mask_bytes,
    mask_many,
    mask_text,
    partial,
    redact,
    scanner_for,
)

ALL = list(BUILTIN.values())


def style_for(name: str):
    return {"card": partial(), "email": email_partial()}.get(name, full())


def test_mask_text_replaces_and_counts():
    text = "pay 4111 1111 1111 1111 or 5555555555554444, mail alice@example.org"
    out, counts = mask_text(text, ALL, style_for)
    assert out == "pay **** **** **** 1111 or ************4444, mail a****@example.org"
    assert counts == {"card": 2, "email": 1}


def test_mask_text_nothing_found_returns_same_object():
    text = "nothing sensitive here, order 4111111111111112"
    out, counts = mask_text(text, ALL, style_for)
    assert out is text and counts == {}


def test_empty_string_unchanged():
    assert mask_text("", ALL, style_for) == ("", {})
    value = b""
    out, counts = mask_bytes(value, ALL, style_for)
    assert out is value and counts == {}


def test_style_for_called_once_per_name():
    calls: list[str] = []

    def spy(name: str):
        calls.append(name)
        return full()

    mask_text("4111111111111111 4111111111111111 a@example.org b@example.org", ALL, spy)
    assert sorted(calls) == ["card", "email"]


def test_redact_in_free_text():
    out, _ = mask_text("key AKIAIOSFODNN7EXAMPLE end", ALL, lambda name: redact(name))
    assert out == "key [REDACTED:aws_access_key] end"


def test_multibyte_text_around_card_preserved():
    text = "Überweisung für Zoë 🙂: 4111 1111 1111 1111 — 谢谢"
    out, counts = mask_text(text, ALL, style_for)
    assert out == "Überweisung für Zoë 🙂: **** **** **** 1111 — 谢谢"
    raw = text.encode()
    masked, counts_b = mask_bytes(raw, ALL, style_for)
    assert masked == out.encode() and counts_b == counts == {"card": 1}


def test_mask_bytes_same_object_when_clean():
    value = b"plain text, 42 rows"
    out, counts = mask_bytes(value, ALL, style_for)
    assert out is value and counts == {}


def test_mask_bytes_non_utf8_round_trips_unchanged():
    value = b"\xff\xfe\x00bin\x80\xc3(\xed\xa0\x80 4111 1111 1111 1112 \xfa"  # invalid UTF-8, no real card
    out, counts = mask_bytes(value, ALL, style_for)
    assert out is value and counts == {}


def test_mask_bytes_non_utf8_around_a_match():
    value = b"\xff\xfe card=4111111111111111 \x80\xed\xa0\x80 tail"
    out, counts = mask_bytes(value, ALL, style_for)
    assert out == b"\xff\xfe card=************1111 \x80\xed\xa0\x80 tail"
    assert counts == {"card": 1}


def test_mask_bytes_latin1():
    value = "Müller 4111111111111111".encode("latin-1")
    out, _ = mask_bytes(value, ALL, style_for, encoding="latin1")
    assert out == "Müller ************1111".encode("latin-1")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32-le", "no-such-codec"])
def test_mask_bytes_rejects_unusable_encodings(encoding):
    with pytest.raises(ValueError):
        mask_bytes(b"abc", ALL, style_for, encoding=encoding)


def test_masked_bytes_never_longer_with_same_length_styles():
    value = "Zoë <zoë@example.org> 4111 1111 1111 1111 +44 20 7946 0958".encode()
    out, counts = mask_bytes(value, ALL, style_for)
    assert counts == {"email": 1, "card": 1, "phone": 1}
    assert len(out) <= len(value)


def test_16mb_value_one_card():
    filler = ("log line 17: GET /api/v2/items?id=3&page=12 took 5.4ms from 10.0.0.7 at 2024-01-15 ") * 200_000
    filler = filler[: 8 * 1024 * 1024]
    value = (filler + "card 4111-1111-1111-1111 " + filler).encode()
    assert len(value) > 16 * 1024 * 1024
    out, counts = mask_bytes(value, ALL, style_for)
    assert counts == {"card": 1}
    assert len(out) == len(value)
    assert out.count(b"****-****-****-1111") == 1 and b"4111-1111-1111-1111" not in out


_TOKENS = st.sampled_from(["4111 1111 1111 1111", "a@example.org", "+44 20 7946 0958", "536-22-8451", " ", "-",
                           "x", "7", "\u00e9", "\U0001f642"])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_mask_bytes_arbitrary_bytes_round_trip(value):
    out, counts = mask_bytes(value, ALL, lambda name: full())
    if not counts:
        assert out is value
    else:
        assert len(out) <= len(value)  # full() is one ASCII byte per masked character


@settings(max_examples=300, deadline=None)
@given(st.lists(_TOKENS, max_size=30).map("".join))
def test_mask_text_only_touches_matches(text):
    out, counts = mask_text(text, ALL, lambda name: full())
    assert len(out) == len(text)
    masked = [i for i, (a, b) in enumerate(zip(text, out, strict=True)) if a != b]
    spans = find_all(text, ALL)
    inside = {i for m in spans for i in range(m.start, m.end)}
    assert set(masked) <= inside
    assert sum(counts.values()) == len(spans)


# mask_many: a batch of column values masks each value exactly as mask_bytes does.
CELLS = ["4111 1111 1111 1111", "ann@example.org", "DE89 3704 0044 0532 0130 00", "AKIAIOSFODNN7EXAMPLE",
         "+44 20 7946 0958", "078-05-1121", "Zoë Müller", "4111 1111", " 1111 1111", "@example.org", "ann", "1-",
         "212-555-0100", "eyJhbGciOiIifQ.x.", "-----BEGIN RSA PRIVATE KEY-----\n", "\n", " ", "2024-01-15"]
cell_text = st.lists(st.one_of(st.sampled_from(CELLS), st.text(max_size=12)), max_size=4).map("".join)
cells = st.one_of(st.none(), cell_text.map(lambda t: t.encode("utf-8", "surrogatepass")),
                  st.binary(max_size=24), cell_text.map(lambda t: t.encode("latin-1", "replace")))


def per_value(values, encoding: str = "utf-8"):
    """What mask_many must give: mask_bytes of each value, only those that change."""
    out = {}
    for i, value in enumerate(values):
        if value is not None:
            masked, counts = mask_bytes(value, ALL, style_for, encoding)
            if counts:
                out[i] = (masked, counts)
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(cells, max_size=12), st.sampled_from(["utf-8", "latin-1"]))
def test_mask_many_equals_mask_bytes_per_value(values, encoding):
    assert mask_many(values, scanner_for(ALL), style_for, encoding) == per_value(values, encoding)


@pytest.mark.parametrize("values", [
    [b"card 4111 1111", b"1111 1111 done", None, b""],  # a card cut by a row boundary is no card
    [b"reply to ann", b"@example.org", "Zoë <zoë@exämple.org>".encode()],
    [b"\xff\xfe 4111111111111111 \xc3", b"x" * 5000 + b" 5555555555554444", b"4111111111111111"],
])
def test_mask_many_table(values):
    assert mask_many(values, scanner_for(ALL), style_for) == per_value(values)


def test_mask_many_leaves_out_nulls_and_clean_values():
    found = mask_many([None, b"clean", b"pay 4111111111111111", b""], scanner_for(ALL), style_for)
    assert found == {2: (b"pay ************1111", {"card": 1})}
