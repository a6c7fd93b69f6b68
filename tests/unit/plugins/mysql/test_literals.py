"""Statement parameters rendered as SQL literals for the audit trail, their values masked."""

from __future__ import annotations

import re
import struct

import pytest

from plugins.mysql import literals
from plugins.mysql.codec import (
    MYSQL_TYPE_BLOB,
    MYSQL_TYPE_DATE,
    MYSQL_TYPE_DATETIME,
    MYSQL_TYPE_DOUBLE,
    MYSQL_TYPE_FLOAT,
    MYSQL_TYPE_INT24,
    MYSQL_TYPE_LONG,
    MYSQL_TYPE_LONGLONG,
    MYSQL_TYPE_NEWDECIMAL,
    MYSQL_TYPE_SHORT,
    MYSQL_TYPE_STRING,
    MYSQL_TYPE_TIME,
    MYSQL_TYPE_TIMESTAMP,
    MYSQL_TYPE_TINY,
    MYSQL_TYPE_VAR_STRING,
    MYSQL_TYPE_YEAR,
    Param,
)
from plugins.mysql.literals import render

CARD = "4111111111111111"


def card_mask(text: str) -> str:
    """A stand-in recognizer: a 16-digit run is a card."""
    return re.sub(r"\d{16}", lambda m: "*" * 12 + m.group()[-4:], text)


def keep(text: str) -> str:
    return text


CASES = [
    (Param(MYSQL_TYPE_TINY, False, b"\xfe"), "-2"),
    (Param(MYSQL_TYPE_TINY, True, b"\xfe"), "254"),
    (Param(MYSQL_TYPE_SHORT, False, struct.pack("<h", -300)), "-300"),
    (Param(MYSQL_TYPE_YEAR, True, struct.pack("<H", 2026)), "2026"),
    (Param(MYSQL_TYPE_LONG, False, struct.pack("<i", -70000)), "-70000"),
    (Param(MYSQL_TYPE_INT24, True, struct.pack("<I", 70000)), "70000"),
    (Param(MYSQL_TYPE_LONGLONG, True, struct.pack("<Q", 2**64 - 1)), "18446744073709551615"),
    (Param(MYSQL_TYPE_LONGLONG, False, struct.pack("<q", -(2**63))), "-9223372036854775808"),
    (Param(MYSQL_TYPE_FLOAT, False, struct.pack("<f", 1.1)), "1.10000002"),
    (Param(MYSQL_TYPE_DOUBLE, False, struct.pack("<d", -2.25)), "-2.25"),
    (Param(MYSQL_TYPE_NEWDECIMAL, False, b"-12.3400"), "-12.3400"),
    (Param(MYSQL_TYPE_VAR_STRING, False, "naïve ☃".encode()), "'naïve ☃'"),
    (Param(MYSQL_TYPE_STRING, False, b"it's a \\ path\n\x00\x1a"), "'it\\'s a \\\\ path\\n\\0\\Z'"),
    (Param(MYSQL_TYPE_VAR_STRING, False, b""), "''"),
    (Param(MYSQL_TYPE_BLOB, False, b"plain bytes"), "_binary'plain bytes'"),
    (Param(MYSQL_TYPE_BLOB, False, b"\x00\xff\xfe"), "X'00FFFE'"),
    (Param(MYSQL_TYPE_STRING, False, b"caf\xe9"), "X'636166E9'"),  # latin1 bytes: not UTF-8
    (Param(MYSQL_TYPE_DATE, False, struct.pack("<HBB", 2026, 12, 4)), "DATE'2026-12-04'"),
    (Param(MYSQL_TYPE_DATE, False, b""), "DATE'0000-00-00'"),
    (Param(MYSQL_TYPE_DATETIME, False, struct.pack("<HBB", 2026, 12, 4)), "TIMESTAMP'2026-12-04 00:00:00'"),
    (Param(MYSQL_TYPE_TIMESTAMP, False, struct.pack("<HBBBBB", 2026, 12, 4, 19, 5, 7)),
     "TIMESTAMP'2026-12-04 19:05:07'"),
    (Param(MYSQL_TYPE_DATETIME, False, struct.pack("<HBBBBBI", 2026, 1, 2, 3, 4, 5, 60)),
     "TIMESTAMP'2026-01-02 03:04:05.000060'"),
    (Param(MYSQL_TYPE_TIME, False, struct.pack("<BIBBB", 1, 2, 3, 4, 5)), "TIME'-51:04:05'"),
    (Param(MYSQL_TYPE_TIME, False, struct.pack("<BIBBBI", 0, 0, 3, 4, 5, 999999)), "TIME'03:04:05.999999'"),
    (Param(MYSQL_TYPE_TIME, False, b""), "TIME'00:00:00'"),
    (Param(MYSQL_TYPE_DATE, False, b"\x01\x02"), "'\x01\x02'"),  # no temporal length: its bytes
    (Param(MYSQL_TYPE_LONG, False, None), "NULL"),
    (Param(MYSQL_TYPE_BLOB, False, b"sent apart", long_data=True), "_binary'sent apart'"),
    (Param(MYSQL_TYPE_LONG, False, b"12", long_data=True), "'12'"),  # long data is a string to the server
]


@pytest.mark.parametrize(("param", "literal"), CASES, ids=[c[1][:30] for c in CASES])
def test_each_type_renders_as_the_literal_one_would_type(param: Param, literal: str) -> None:
    assert render(param, keep) == literal


SENSITIVE = [
    Param(MYSQL_TYPE_VAR_STRING, False, CARD.encode()),
    Param(MYSQL_TYPE_STRING, False, f"card {CARD} it's".encode()),
    Param(MYSQL_TYPE_LONGLONG, False, struct.pack("<q", int(CARD))),  # a card bound as a number
    Param(MYSQL_TYPE_NEWDECIMAL, False, CARD.encode()),
    Param(MYSQL_TYPE_BLOB, False, CARD.encode()),
    Param(MYSQL_TYPE_BLOB, False, b"\xff\x00" + CARD.encode()),  # not UTF-8: hex would hide it from masking
    Param(MYSQL_TYPE_BLOB, False, CARD.encode(), long_data=True),
    Param(MYSQL_TYPE_STRING, False, ("x" * 3000 + CARD).encode()),  # masked whole, then cut
    Param(MYSQL_TYPE_STRING, False, (CARD + "x" * 3000).encode()),
]


@pytest.mark.parametrize("param", SENSITIVE, ids=range(len(SENSITIVE)))
def test_a_card_never_reaches_the_record_whatever_its_type(param: Param) -> None:
    shown = render(param, card_mask)
    assert CARD not in shown and CARD.encode().hex().upper() not in shown and CARD[:12] not in shown
    assert len(shown) <= literals.SHOWN + 20


def test_masked_values_are_escaped_after_masking() -> None:
    assert render(Param(MYSQL_TYPE_STRING, False, f"o'{CARD}".encode()), card_mask) == "'o\\'************1111'"


def test_values_too_long_to_mask_are_recorded_by_size_only() -> None:
    big = (CARD + " ") * (literals.SCANNED // 17 + 1)
    assert render(Param(MYSQL_TYPE_STRING, False, big.encode()), card_mask) == f"/* {len(big)} bytes, not recorded */"
    kept = Param(MYSQL_TYPE_BLOB, False, CARD.encode(), long_data=True)  # only the first bytes were kept
    assert render(kept, card_mask, size=5 << 20) == f"/* {5 << 20} bytes, not recorded */"
