"""Carry and LiveStream: a sensitive value cut anywhere by the transport is masked whole."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.core.carry import HOLD_MAX, Carry, LiveStream
from policies.masking import BUILTIN, full, mask_text, partial

ALL = list(BUILTIN.values())
CARD, GROUPED = "4111111111111111", "4111 1111 1111 1111"


def redact(text: str) -> str:
    return mask_text(text, ALL, lambda name: partial() if name == "card" else full())[0]


def run(stream: Carry | LiveStream, chunks: list) -> str | bytes:
    out = [stream.push(c) for c in chunks] + [stream.drain()]
    return out[0][:0].join(out)


@pytest.mark.parametrize(
    "chunks",
    [
        ["card 4111111111111111\n"],
        ["card 41111111", "11111111\n"],
        [*"card 4111111111111111", "\r\n"],                 # typed and echoed key by key
        ["card 4111 1111 ", "1111 1111\n"],                 # grouped, split inside the groups
        ["$ ", "echo ", "4111", " 1111 1111 1111", "\r\n"],
        ["x" * 100_000 + " card 4111 11", "11 1111 1111 ok\n"],  # a big chunk, cut near its end
    ],
    ids=["whole", "split", "keystrokes", "grouped-split", "prompt-then-typed", "big-chunk"],
)
def test_carry_never_releases_a_clear_value(chunks):
    out = run(Carry(redact), chunks)
    assert CARD not in out and GROUPED not in out
    assert "1111" in out


@given(st.integers(min_value=0, max_value=40), st.sampled_from([CARD, GROUPED, "4111-1111-1111-1111"]))
@settings(max_examples=200, deadline=None)
def test_a_value_cut_at_any_byte_is_masked(cut, card):
    data = f"paid with {card} thanks\n".encode()
    out = run(LiveStream(redact), [data[:cut], data[cut:]])
    assert card.encode() not in out and b"1111 thanks\n" in out


def test_prompt_is_released_at_once():
    assert Carry(redact).push("user@host:~$ ") == "user@host:~$ "


def test_a_growing_token_is_held_until_drained():
    live = LiveStream(redact)
    assert live.push(b"$ l") == b"$ " and live.holding
    assert live.push(b"s") == b"" and live.drain() == b"ls" and not live.holding


def test_bytes_that_are_not_utf8_pass_unchanged():
    data = "naïve café ".encode() + bytes(range(256))
    for cut in range(len(data)):  # a multibyte character cut in two included
        assert run(LiveStream(redact), [data[:cut], data[cut:]]) == data


def test_the_hold_stays_bounded():
    carry = Carry(redact)
    released = carry.push("y" * (1 << 20))  # one unbroken megabyte
    assert len(carry.buf) == HOLD_MAX and len(released) == (1 << 20) - HOLD_MAX
