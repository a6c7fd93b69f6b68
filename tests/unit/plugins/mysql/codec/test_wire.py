from __future__ import annotations

import pytest

from plugins.mysql.codec import (
    LocalProtocolError,
    RemoteProtocolError,
    lenenc_bytes,
    lenenc_int,
    read_lenenc_bytes,
    read_lenenc_int,
    read_nul_str,
)


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (0, "00"),
        (250, "fa"),
        (251, "fcfb00"),
        (0xFFFF, "fcffff"),
        (0x10000, "fd000001"),
        (0xFFFFFF, "fdffffff"),
        (0x1000000, "fe0000000100000000"),
        (2**64 - 1, "feffffffffffffffff"),
    ],
)
def test_lenenc_int_boundaries(value, encoded):
    raw = bytes.fromhex(encoded)
    assert lenenc_int(value) == raw
    assert read_lenenc_int(raw, 0) == (value, len(raw))
    # also at an offset, from a bytearray and a memoryview
    assert read_lenenc_int(bytearray(b"xx" + raw), 2) == (value, 2 + len(raw))
    assert read_lenenc_int(memoryview(b"x" + raw), 1) == (value, 1 + len(raw))


@pytest.mark.parametrize("value", [-1, 2**64])
def test_lenenc_int_out_of_range_is_local_error(value):
    with pytest.raises(LocalProtocolError):
        lenenc_int(value)


@pytest.mark.parametrize(
    "raw",
    ["", "fb", "ff", "fc", "fcff", "fd0000", "fe00000000000000"],
    ids=["empty", "null-prefix", "ff-prefix", "fc-trunc0", "fc-trunc1", "fd-trunc", "fe-trunc"],
)
def test_read_lenenc_int_malformed(raw):
    with pytest.raises(RemoteProtocolError):
        read_lenenc_int(bytes.fromhex(raw), 0)


@pytest.mark.parametrize("content", [b"", b"abc", b"x" * 250, b"y" * 251, b"z" * 70000])
def test_lenenc_bytes_round_trip(content):
    raw = lenenc_bytes(content)
    assert read_lenenc_bytes(raw + b"tail", 0) == (content, len(raw))


def test_read_lenenc_bytes_truncated():
    with pytest.raises(RemoteProtocolError):
        read_lenenc_bytes(b"\x05abcd", 0)


def test_read_nul_str():
    assert read_nul_str(b"abc\x00def\x00", 0) == (b"abc", 4)
    assert read_nul_str(b"abc\x00def\x00", 4) == (b"def", 8)
    assert read_nul_str(memoryview(b"\x00"), 0) == (b"", 1)
    with pytest.raises(RemoteProtocolError):
        read_nul_str(b"abc", 0)
