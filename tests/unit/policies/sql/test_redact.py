"""Display/journal redaction touches literal values only."""

from __future__ import annotations

import re

import pytest

from policies.sql.redact import redact_literals


def stars(text: str) -> str:
    return "*" * len(text)


def greedy_pem(text: str) -> str:
    """A recognizer that would swallow everything between BEGIN and END markers (the old failure)."""
    return re.sub(r"-----BEGIN[\s\S]*END[^-]*-----", "[PEM]", text)


@pytest.mark.parametrize(
    ("sql", "mask", "expected", "nbe", "ansi"),
    [
        ("DELETE FROM t WHERE c = '-----BEGIN RSA PRIVATE KEY-----' OR id > 0 OR c = '-----END RSA PRIVATE KEY-----'",
         greedy_pem, "DELETE FROM t WHERE c = '-----BEGIN RSA PRIVATE KEY-----' OR id > 0 OR "
                     "c = '-----END RSA PRIVATE KEY-----'", False, False),
        ("SELECT * FROM t WHERE a = 'x' AND b = 42", stars, "SELECT * FROM t WHERE a = '*' AND b = **", False, False),
        ("SELECT 'it''s', \"q\"", stars, "SELECT '*****', \"*\"", False, False),  # the raw body is masked
        ("SELECT \"col\" FROM t WHERE a = 'v'", stars, "SELECT \"col\" FROM t WHERE a = '*'", False, True),
        ("SELECT 'a\\' OR 1 -- '", stars, "SELECT '**' OR * -- '", True, False),
        ("SELECT 'a\\' OR 1 -- '", stars, "SELECT '************'", False, False),
        ("SELECT X'DEAD', b'01', N'nat', 0x1F, 1.5e3", stars,
         "SELECT X'****', b'**', N'***', ****, *****", False, False),
        ("SELECT /* 'not a literal' */ `a'b` FROM t # 'x'\n", stars,
         "SELECT /* 'not a literal' */ `a'b` FROM t # 'x'\n", False, False),
        ("SELECT 1 /*!50000 , 'hidden' */", stars, "SELECT * /*!50000 , '******' */", False, False),
        ("SELECT 'unterminated", stars, "*" * 20, False, False),
    ],
)  # fmt: skip
def test_redact_literals(sql: str, mask, expected: str, nbe: bool, ansi: bool) -> None:  # type: ignore[no-untyped-def]
    assert redact_literals(sql, mask, no_backslash_escapes=nbe, ansi_quotes=ansi) == expected


def test_redaction_of_reproduction_7_keeps_the_structure_visible() -> None:
    sql = "DELETE FROM t WHERE c = '-----BEGIN RSA PRIVATE KEY-----' OR id > 0 OR c = '-----END RSA PRIVATE KEY-----'"
    shown = redact_literals(sql, lambda v: "****" if "PRIVATE KEY" in v else v)
    assert shown == "DELETE FROM t WHERE c = '****' OR id > 0 OR c = '****'"


def test_bulk_values_run_is_redacted_literal_by_literal() -> None:
    rows = ",".join(f"({i}, 'sec\\'{i}', NULL, X'0{i}')" for i in range(10))
    shown = redact_literals(f"INSERT INTO t VALUES {rows}", stars)
    assert shown.startswith("INSERT INTO t VALUES (*, '******', NULL, X'**'),(*, '******', NULL, X'**')")
    assert "sec" not in shown
