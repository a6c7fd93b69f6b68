"""The differential oracle in CI: generated statements and disguises, classifier vs MariaDB.

Talks to MariaDB directly (fixture ``mariadb``), not through the bastion. Zero
disagreements are allowed; every disagreement ever found is kept in ``FINDINGS``.
``ORACLE_EXAMPLES`` sets the number of generated cases (default 1500);
``bench/classify.py --oracle N`` runs long campaigns.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings

from policies.sql import classify
from policies.sql.charsets import ESCAPE_UNSAFE, charset_of
from tests.integration.mysql.oracle import Case, Oracle, cases, disagreement, explained

# Past findings and the reproductions: (sql, no_backslash_escapes, ansi_quotes).
FINDINGS = [
    ("SET STATEMENT max_statement_time=0 FOR DROP TABLE t", False, False),
    ("SET STATEMENT max_statement_time=0 FOR TRUNCATE t", False, False),
    ("ANALYZE DELETE FROM t", False, False),
    ("EXECUTE IMMEDIATE 'DROP TABLE t'", False, False),
    ("CREATE OR REPLACE TABLE t (a INT)", False, False),
    ("ALTER TABLE t DROP COLUMN b", False, False),
    ("RENAME TABLE t TO t9", False, False),
    ("CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END", False, False),
    ("execute/**/IMMEDIATE 'CASE/**/when 1 ThEn /*!DROP */ TABLE t/**/; END CaSe'", False, False),
    ("BEGIN NOT ATOMIC DELETE FROM t; END", False, False),
    ("/*M!100000 DROP TABLE t */", False, False),
    ("/*!50000 DROP*/ TABLE t", False, False),
    ("DR/**/OP TABLE t", False, False),
    ("SELECT 'a\\' ; DROP TABLE t; -- '", False, False),
    ("SELECT 'a\\' ; DROP TABLE t; -- '", True, False),
    ('SELECT "a" ; DROP TABLE t', False, True),
    ("SELECT a FROM t PROCEDURE ANALYSE()", False, False),
    ("EXPLAIN DELETE FROM t", False, False),
    ("IF 1 THEN DROP TABLE t; END IF", False, False),
]
EXAMPLES = int(os.environ.get("ORACLE_EXAMPLES", "1500"))


@pytest.fixture(scope="module")
def oracle(mariadb) -> Iterator[Oracle]:  # type: ignore[no-untyped-def]
    o = Oracle(mariadb.socket)
    yield o
    o.close()


@pytest.mark.parametrize(("sql", "nbe", "ansi"), FINDINGS)
def test_findings_agree_with_the_server(oracle: Oracle, sql: str, nbe: bool, ansi: bool) -> None:
    case = Case(sql, nbe, ansi)
    commands = oracle.commands(case)
    assert commands, "the server recorded nothing: is performance_schema on?"
    assert disagreement(case, commands) is None


def test_the_oracle_can_fail(oracle: Oracle) -> None:
    """A classifier that missed the carried statement would be caught (the check is not vacuous)."""
    case = Case("SET STATEMENT max_statement_time=1 FOR DROP TABLE t", False, False)
    assert oracle.commands(case) == ["drop_table"]
    outer_only = classify("SET max_statement_time=1")
    assert not explained("drop_table", outer_only)
    body = Case("BEGIN NOT ATOMIC DECLARE CONTINUE HANDLER FOR SQLEXCEPTION BEGIN END; DROP TABLE t; END", False, False)
    assert oracle.commands(body) == ["compound_sql", "sp:DROP TABLE t"]  # body statements are seen too
    assert not explained("sp:DROP TABLE t", classify("BEGIN NOT ATOMIC SELECT 1; END"))


def test_generated_statements_agree_with_the_server(oracle: Oracle) -> None:
    found: list[str] = []

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
    @given(cases())
    def run(case: Case) -> None:
        why = disagreement(case, oracle.commands(case))
        if why is not None:
            found.append(why)

    run()
    kinds = sorted({why.split(" for ")[0] for why in found})  # one line per kind of disagreement
    assert not found, "\n".join(kinds[:10] + found[:10])


def test_collation_ids_and_unsafe_charsets_match_the_server(oracle: Oracle) -> None:
    with oracle.root.cursor() as c:
        c.execute("SELECT ID, CHARACTER_SET_NAME FROM information_schema.COLLATIONS WHERE ID IS NOT NULL")
        rows = c.fetchall()
        assert rows and all(charset_of(int(i)) == cs for i, cs in rows)
        c.execute("SELECT CHARACTER_SET_NAME FROM information_schema.CHARACTER_SETS")
        unsafe = set()
        for (cs,) in c.fetchall():
            # Does some two-byte character of cs end in 0x5c (backslash) or 0x60 (backquote)?
            c.execute("SELECT MAX(CHAR_LENGTH(CONVERT(UNHEX(CONCAT(HEX(seq), t.trail)) USING " + cs + ")) = 1 "
                      "AND LENGTH(CONVERT(UNHEX(CONCAT(HEX(seq), t.trail)) USING " + cs + ")) = 2) "
                      "FROM mysql.seq_129_to_254 JOIN (SELECT '5C' AS trail UNION SELECT '60' UNION SELECT '27' "
                      "UNION SELECT '22') t")  # fmt: skip
            if c.fetchone()[0]:
                unsafe.add(cs)
    assert unsafe - {"ucs2", "utf16", "utf16le", "utf32"} == ESCAPE_UNSAFE - {"gb18030"}


def test_literal_values_match_the_server(oracle: Oracle) -> None:
    """PREPARE/EXECUTE IMMEDIATE judge the literal's value: our unquoting must equal the server's."""
    from hypothesis import strategies as st

    from policies.sql.lexer import STRING, lex, unquote

    found: list[str] = []

    @settings(max_examples=min(EXAMPLES, 600), deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
    @given(st.text(alphabet="ab'\"\\%_0nrtZN\n ", max_size=12), st.sampled_from(["'", '"']), st.booleans())
    def run(body: str, quote: str, nbe: bool) -> None:
        literal = quote + body + quote
        lexed = lex(f"SELECT {literal}", no_backslash_escapes=nbe)
        if lexed.error or len(lexed.statements) != 1:
            return
        tokens = lexed.statements[0].significant()
        if len(tokens) != 2 or tokens[1][0] != STRING:
            return
        ours = unquote(tokens[1][1], no_backslash_escapes=nbe)
        with oracle.root.cursor() as c:
            c.execute("SET SESSION sql_mode = %s", ("NO_BACKSLASH_ESCAPES" if nbe else "",))
            try:
                c.execute(f"SELECT {literal}")
            except Exception as exc:  # noqa: BLE001 - the server refusing it is no disagreement
                found.append(f"server refused {literal!r} (nbe={nbe}) that we lexed as one string: {exc}")
                return
            theirs = c.fetchone()[0]
            c.execute("SET SESSION sql_mode = DEFAULT")
        if isinstance(theirs, bytes):
            theirs = theirs.decode()
        if ours != theirs:
            found.append(f"{literal!r} nbe={nbe}: ours {ours!r}, server {theirs!r}")

    run()
    assert not found, "\n".join(found[:10])
