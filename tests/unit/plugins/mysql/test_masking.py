from __future__ import annotations

import pytest

from bastion.core.contracts import RowBatch
from plugins.mysql.masking import _recoded
from policies.masking import BUILTIN, email_partial, full, mask_bytes, partial


def style_for(name: str):
    return {"card": partial(), "email": email_partial()}.get(name, full())


def scan_utf8(batch: RowBatch) -> None:
    """A row mask reading UTF-8, as the rule masker's plans do: every column scanned."""
    for values in batch.values():
        for row, value in enumerate(values):
            if value is not None:
                values[row] = mask_bytes(value, list(BUILTIN.values()), style_for)[0]


@pytest.mark.parametrize("wide", ["utf-16-be", "utf-16-le", "utf-32-be"])
def test_wide_columns_are_masked_in_their_own_encoding(wide):
    clean = "nothing to hide, Zoë".encode(wide)
    card = "paid 4111 1111 1111 1111 🙂".encode(wide)
    odd = b"\x004111111111111111"  # 17 bytes, not valid in the codec: masked as the bytes it is
    ascii_column = b"mail ann@example.org"
    batch: RowBatch = {0: [clean, card, None, odd], 1: [ascii_column, None, None, None]}
    _recoded(scan_utf8, {0: wide})(batch)
    assert batch[0][0] is clean  # unchanged: its own bytes, not a re-encoding
    assert batch[0][1] == "paid **** **** **** 1111 🙂".encode(wide) and len(batch[0][1]) == len(card)
    assert batch[0][2] is None
    assert batch[1] == [b"mail a**@example.org", None, None, None]  # other columns as they are: UTF-8
    assert batch[0][3] == b"\x00************1111"
