"""Collation ids (as MariaDB 10.11 reports them), Python codecs and refused client charsets."""

from __future__ import annotations

import codecs

import pytest

from policies.sql import charsets
from policies.sql.charsets import ESCAPE_UNSAFE, NOT_ASCII_COMPATIBLE


@pytest.mark.parametrize(
    ("collation_id", "charset"),
    [(1, "big5"), (8, "latin1"), (13, "sjis"), (28, "gbk"), (33, "utf8mb3"), (45, "utf8mb4"), (46, "utf8mb4"),
     (54, "utf16"), (63, "binary"), (95, "cp932"), (224, "utf8mb4"), (255, None), (1, "big5"),
     (1111, "gbk"), (2047, None), (0, None)],
)  # fmt: skip
def test_charset_of(collation_id: int, charset: str | None) -> None:
    assert charsets.charset_of(collation_id) == charset


def test_every_codec_exists() -> None:
    for name, codec in charsets._CODECS.items():
        if codec is not None:
            assert codecs.lookup(codec), name


@pytest.mark.parametrize(
    ("name", "codec"),
    [("UTF8MB4", "utf-8"), ("utf8", "utf-8"), ("utf8mb4_general_ci", "utf-8"), ("'latin1'", "cp1252"),
     ("binary", "latin-1"), ("utf16", "utf_16_be"), ("gbk_chinese_ci", "gbk"), ("utf16le_bin", "utf_16_le"),
     ("nonsense", None), ("dec8", None)],
)  # fmt: skip
def test_codec(name: str, codec: str | None) -> None:
    assert charsets.codec(name) == codec


def _can_hide_special_byte(codec: str) -> bool:
    """Does some two-byte character of ``codec`` end in a quote, backslash or backquote byte?"""
    for lead in range(0x80, 0x100):
        for trail in b"\\'\"`":
            try:
                if len(bytes([lead, trail]).decode(codec)) == 1:
                    return True
            except UnicodeDecodeError:
                continue
    return False


def test_escape_unsafe_set_is_exactly_the_ascii_compatible_charsets_that_can_hide_a_special_byte() -> None:
    found = {cs for cs, codec in charsets._CODECS.items()
             if codec and cs not in NOT_ASCII_COMPATIBLE and cs != "binary" and _can_hide_special_byte(codec)}
    assert found == ESCAPE_UNSAFE


@pytest.mark.parametrize(
    ("name", "refused"),
    [("gbk", True), ("SJIS", True), ("big5_chinese_ci", True), ("cp932", True), ("utf16", True),
     ("armscii8", True), ("what", True), ("utf8mb4", False), ("latin1", False), ("utf8", False),
     ("euckr", False), ("binary", False)],
)  # fmt: skip
def test_client_charset_problem(name: str, refused: bool) -> None:
    assert (charsets.client_charset_problem(name) is not None) is refused
