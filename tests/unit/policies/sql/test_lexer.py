"""The MySQL-aware pre-lexer: quoting, comments, versioned comments, splitting, modes."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies.sql import lexer
from policies.sql.lexer import AIDENT, NUMBER, QIDENT, STRING, WORD, XLIT, lex, unquote


def texts(sql: str, **modes: bool) -> list[str]:
    result = lex(sql, **modes)
    assert result.error == "", result.error
    return [s.text() for s in result.statements]


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT 1", ["SELECT 1"]),
        ("  SELECT\n\t 1  ", ["SELECT 1"]),
        ("SELECT 1; SELECT 2;", ["SELECT 1", "SELECT 2"]),
        (";;  ; SELECT 1 ;;", ["SELECT 1"]),
        ("SELECT 1 -- comment; DROP\n, 2", ["SELECT 1 , 2"]),
        ("SELECT 1 # comment; DROP\n, 2", ["SELECT 1 , 2"]),
        ("SELECT 1--1", ["SELECT 1--1"]),  # `--` without whitespace is two minus signs
        ("SELECT 1 --", ["SELECT 1"]),  # `--` at the end of input is a comment
        ("SELECT 1 /* a; b */ + 2", ["SELECT 1 + 2"]),
        ("DROP/**/TABLE t", ["DROP TABLE t"]),
        ("DR/**/OP", ["DR OP"]),  # a comment separates tokens, as in MySQL
        ("SELECT /*+ BKA(t) */ 1", ["SELECT 1"]),
        ("/*!40101 SET NAMES utf8 */", ["SET NAMES utf8"]),
        ("/*!50000DROP TABLE t*/", ["DROP TABLE t"]),
        ("/*M!100100 DROP TABLE t */", ["DROP TABLE t"]),
        ("/*!*/", []),
        ("SELECT 1 /*!50000 ; DROP TABLE t */", ["SELECT 1", "DROP TABLE t"]),
        ("SELECT 2*/*x*/3", ["SELECT 2* 3"]),  # `*/` outside a versioned comment is just operators
        ("SELECT 'a;b', \"c;d\", `e;f`", ["SELECT 'a;b', \"c;d\", `e;f`"]),
        ("SELECT 'it''s'; SELECT 2", ["SELECT 'it''s'", "SELECT 2"]),
        ("SELECT 'a\\';b'", ["SELECT 'a\\';b'"]),
        ("SELECT `a\\`; SELECT 2", ["SELECT `a\\`", "SELECT 2"]),  # backticks never use backslash
        ("SELECT 'a  b'", ["SELECT 'a  b'"]),  # whitespace inside literals is kept
    ],
)
def test_split_and_normalize(sql: str, expected: list[str]) -> None:
    assert texts(sql) == expected


def test_no_backslash_escapes_changes_string_end() -> None:
    sql = "SELECT 'a\\' ; DROP TABLE t; -- '"
    assert texts(sql) == [sql]
    assert texts(sql, no_backslash_escapes=True) == ["SELECT 'a\\'", "DROP TABLE t"]


def test_ansi_quotes_makes_double_quotes_identifiers() -> None:
    default = lex('SELECT "a\\"b"').statements[0].significant()
    assert default[1][0] == STRING
    ansi = lex('SELECT "a""b"', ansi_quotes=True).statements[0].significant()
    assert ansi[1] == (AIDENT, '"a""b"')
    # Under ANSI_QUOTES a backslash does not escape inside "…".
    assert texts('SELECT "a\\" ; DROP TABLE t', ansi_quotes=True) == ['SELECT "a\\"', "DROP TABLE t"]


@pytest.mark.parametrize(
    ("sql", "error"),
    [
        ("SELECT 'abc", "unterminated quoted token"),
        ('SELECT "abc', "unterminated quoted token"),
        ("SELECT `abc", "unterminated quoted token"),
        ("SELECT 'abc''", "unterminated quoted token"),
        ("SELECT 1 /* abc", "unterminated comment"),
        ("/*!50000 DROP TABLE t", "unterminated versioned comment"),
        ("SELECT 1\x00", "NUL byte"),
    ],
)
def test_errors(sql: str, error: str) -> None:
    assert error in lex(sql).error


def test_token_kinds_and_digest() -> None:
    stmt = lex("select X'ab', b'01', N'x', 0x1F, 1e5, .5, \\N, 1abc, _utf8mb4'x', `q`").statements[0]
    kinds = [k for k, _ in stmt.significant() if k not in ("p",)]
    assert kinds == [WORD, XLIT, XLIT, XLIT, NUMBER, NUMBER, NUMBER, NUMBER, WORD, WORD, STRING, QIDENT]
    assert stmt.digest() == "select ?, ?, ?, ?, ?, ?, ?, 1abc, _utf8mb4?, `q`"


def test_shape_is_literal_free_and_mode_free() -> None:
    a = lex("SELECT 'x\\'y', 1 FROM t WHERE a = 5").statements[0].shape()
    b = lex("SELECT 'zz', 2.5e3 FROM t WHERE a = 7").statements[0].shape()
    assert a == b == "SELECT 's', 0 FROM t WHERE a = 0"
    ansi = lex('SELECT "c`d" FROM t', ansi_quotes=True).statements[0].shape()
    assert ansi == "SELECT `c``d` FROM t"


def test_versioned_marker() -> None:
    result = lex("SELECT 1; /*!40101 SET NAMES utf8 */; SELECT 2")
    assert [s.versioned for s in result.statements] == [False, True, False]
    assert result.versioned


@pytest.mark.parametrize(
    ("token", "nbe", "value"),
    [
        ("'it''s'", False, "it's"),
        ("'a\\'b'", False, "a'b"),
        ("'a\\nb'", False, "a\nb"),
        ("'a\\%b'", False, "a\\%b"),
        ("'a\\nb'", True, "a\\nb"),
        ('"say ""hi"""', True, 'say "hi"'),
        ("`a``b`", False, "a`b"),
        ("N'x'", False, "x"),
    ],
)
def test_unquote(token: str, nbe: bool, value: str) -> None:
    assert unquote(token, no_backslash_escapes=nbe) == value


_PIECES = [*"ab1 '\"`;#-/*!M\\\n(),.@=xX", "/*!", "*/", "-- ", "DROP", "SELECT"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=40).map("".join), st.booleans(), st.booleans())
def test_lexer_total_and_tokens_cover_no_semicolons(sql: str, nbe: bool, ansi: bool) -> None:
    result = lex(sql, no_backslash_escapes=nbe, ansi_quotes=ansi)
    for stmt in result.statements:
        assert stmt.tokens and stmt.tokens[0][0] != "_" and stmt.tokens[-1][0] != "_"
        assert all(t != ";" for _, t in stmt.tokens)


def _regex_only_lex(sql: str, nbe: bool, ansi: bool) -> object:
    """The lexer with the long-string fast path disabled (every string through the regex)."""
    fast, lexer.LONG_QUOTED = lexer.LONG_QUOTED, 10**8
    saved = lexer._PATTERNS
    try:
        lexer._PATTERNS = {(n, a, v): lexer._build(n, a, v) for n in (False, True) for a in (False, True)
                           for v in (False, True)}  # fmt: skip
        return lex(sql, no_backslash_escapes=nbe, ansi_quotes=ansi)
    finally:
        lexer.LONG_QUOTED, lexer._PATTERNS = fast, saved


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="a'\"\\;` -", max_size=30), st.sampled_from(["'", '"', "N'", "n'"]), st.booleans(),
       st.booleans())  # fmt: skip
def test_long_quoted_fast_path_matches_the_regex(tail: str, quote: str, nbe: bool, ansi: bool) -> None:
    """Strings over LONG_QUOTED are scanned with str.find; the result must equal the regex path's."""
    sql = f"SELECT {quote}{'x' * (lexer.LONG_QUOTED + 1)}{tail} ; SELECT 1"
    assert lex(sql, no_backslash_escapes=nbe, ansi_quotes=ansi) == _regex_only_lex(sql, nbe, ansi)


def test_forty_megabyte_literal_is_one_token() -> None:
    sql = "INSERT INTO t VALUES ('" + "ab\\'c''d" * (5 * 1024 * 1024) + "', 1)"
    (stmt,) = lex(sql).statements
    assert [k for k, _ in stmt.significant()][-5:] == ["p", "s", "p", "n", "p"]


@contextlib.contextmanager
def _no_rows_path() -> Iterator[None]:
    """The lexer without the ROWS fast path (every tuple token by token)."""
    rows, lexer.MIN_ROWS = lexer.MIN_ROWS, 10**6
    saved = lexer._PATTERNS
    try:
        lexer._PATTERNS = {(n, a, v): lexer._build(n, a, v) for n in (False, True) for a in (False, True)
                           for v in (False, True)}  # fmt: skip
        yield
    finally:
        lexer.MIN_ROWS, lexer._PATTERNS = rows, saved


_VALUE = st.one_of(st.integers(-10**6, 10**6).map(str), st.sampled_from(["NULL", "\\N", "1.5e3", "-.5", "0x1F",
                   "X'0A'", "b'01'", "''", "'a''b'", "'a\\'b'", "\"q\"", "'x\\\\'", "NULLX", "1abc", "f(1)", "@v",
                   "'", "/*c*/1", "1 -- x\n"]))  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_VALUE, min_size=1, max_size=3), min_size=1, max_size=12), st.booleans(), st.booleans())
def test_rows_fast_path_keeps_text_and_verdict(rows: list[list[str]], nbe: bool, ansi: bool) -> None:
    """A bulk VALUES run lexed as one ROWS token reads exactly like the token-by-token lexer."""
    from policies.sql import cache_clear, classify

    sql = "INSERT INTO t VALUES " + ",".join("(" + ", ".join(r) + ")" for r in rows) + "; SELECT 1"
    def verdict() -> tuple[object, ...]:
        cache_clear()
        c = classify(sql, no_backslash_escapes=nbe, ansi_quotes=ansi)
        return c.kind, c.flags, c.tables, [s.text for s in c.statements]

    fast, fast_verdict = lex(sql, no_backslash_escapes=nbe, ansi_quotes=ansi), verdict()
    with _no_rows_path():
        slow, slow_verdict = lex(sql, no_backslash_escapes=nbe, ansi_quotes=ansi), verdict()
    assert fast.error == slow.error
    assert [s.text() for s in fast.statements] == [s.text() for s in slow.statements]
    assert fast_verdict == slow_verdict
