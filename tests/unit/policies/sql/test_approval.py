"""Approval keys bind the exact statement under its sql_mode (issue 14, reproduction 9)."""

from __future__ import annotations

import pytest

from policies.sql.approval import approval_key, modes_of


@pytest.mark.parametrize(
    ("a", "b", "mode_a", "mode_b", "same"),
    [
        ("DELETE FROM t WHERE c LIKE 'zzz'", "DELETE FROM t WHERE c LIKE '%'", "", "", False),
        ("DELETE FROM t WHERE c LIKE 'zzz'", "delete  FROM t /* x */ WHERE c LIKE 'zzz'", "", "", False),
        ("DELETE FROM t WHERE c LIKE 'zzz'", "DELETE  FROM t /* x */\nWHERE c LIKE 'zzz'", "", "", True),
        ('DELETE FROM t WHERE c = "c"', 'DELETE FROM t WHERE c = "c"', "", "ANSI_QUOTES", False),
        ("DELETE FROM t WHERE id = 1", "DELETE FROM t WHERE id = 1", "STRICT_TRANS_TABLES,ANSI_QUOTES",
         "ansi_quotes,strict_trans_tables", True),
        ("DELETE FROM t WHERE id = 1", "DELETE FROM t WHERE id = 2", "", "", False),
        ("DELETE FROM t WHERE id = 1", "/*!DELETE FROM t WHERE id = 1*/", "", "", True),
    ],
)  # fmt: skip
def test_approval_key(a: str, b: str, mode_a: str, mode_b: str, same: bool) -> None:
    assert (approval_key(a, mode_a) == approval_key(b, mode_b)) is same


def test_modes_of() -> None:
    assert modes_of("ANSI") == (False, True)
    assert modes_of("no_backslash_escapes,ANSI_QUOTES") == (True, True)
    assert modes_of("") == (False, False)
