"""The session's view of a statement: the shortcut for statements known to do nothing the
session must follow never hides what a statement assigns, carries, prepares or calls."""

from __future__ import annotations

import pytest

from plugins.mysql import sqlstate
from policies.sql import classify
from tests.unit.plugins.mysql.fakes import ListSink, session


class Classifies:
    """A stage that classifies SQL itself (as the guardrails do)."""

    name = "classifies"
    classifies_sql = True

    def decide(self, event: object) -> None:
        return None


INERT = [
    ("SELECT c FROM sbtest1 WHERE id=1", "SELECT c FROM sbtest1 WHERE id=77"),
    ("select name from customers where email = 'a@x'", "select name from customers where email = 'b@y'"),
    ("UPDATE t SET a = 1 WHERE id = 2", "UPDATE t SET a = 'SET NAMES sjis' WHERE id = 3"),
    ("INSERT INTO t VALUES (1, 'x')", "INSERT INTO t VALUES (2, 'EXECUTE p')"),
]

NEVER = [  # (first seen, then the same fingerprint with other literals): always classified in full
    ("SET character_set_results = 'utf8'", "SET character_set_results = 'binary'"),
    ("SET NAMES 'utf8mb4'", "SET NAMES 'sjis'"),
    ("PREPARE p FROM 'SELECT 1'", "PREPARE p FROM 'SET NAMES sjis'"),
    ("EXECUTE IMMEDIATE 'SELECT 1'", "EXECUTE IMMEDIATE 'SET character_set_client = sjis'"),
    ("SET STATEMENT max_statement_time = 1 FOR SELECT 1", "SET STATEMENT max_statement_time = 2 FOR SELECT 2"),
    ("CALL shop.p(1)", "CALL shop.p(2)"),
    ("EXECUTE p USING 1", "EXECUTE p USING 2"),
    ("/*!100000 SET NAMES 'utf8' */", "/*!100000 SET NAMES 'sjis' */"),
    ("SELECT 1; SET NAMES 'utf8'", "SELECT 2; SET NAMES 'sjis'"),
    ("DELETE FROM t", "DELETE FROM t"),  # flagged (unbounded write): never shortened
]


@pytest.mark.parametrize(("first", "then"), INERT)
def test_inert_statements_need_only_their_fingerprint(first, then):
    s, _client, _up = session([], ListSink())
    full = sqlstate.classification(s, first)
    assert full.statements  # the first of its fingerprint is classified in full
    again = sqlstate.classification(s, then)
    expected = classify(then)
    assert again.statements == () and again.fingerprint == expected.fingerprint == full.fingerprint
    assert again.kind is expected.kind and again.flags == expected.flags


@pytest.mark.parametrize(("first", "then"), NEVER)
def test_statements_the_session_follows_are_always_classified(first, then):
    s, _client, _up = session([], ListSink())
    sqlstate.classification(s, first)
    assert sqlstate.classification(s, then) == classify(then)


@pytest.mark.parametrize(("first", "then"), INERT)
def test_a_stage_that_classifies_gets_the_full_classification_cached(first, then):
    s, _client, _up = session([Classifies()], ListSink())
    sqlstate.classification(s, first)
    got = sqlstate.classification(s, then)
    assert got == classify(then) and got.statements


@pytest.mark.parametrize("modes", [(True, False), (False, True)])
def test_the_shortcut_is_per_quoting_mode(modes):
    """A fingerprint includes the modes: a statement inert under one is classified anew
    under another (where the same bytes may lex differently)."""
    s, _client, _up = session([], ListSink())
    sql = "SELECT c FROM t WHERE v = \"a\\\"; SET NAMES sjis; -- \""
    sqlstate.classification(s, sql)
    s.no_backslash_escapes, s.ansi_quotes = modes
    got = sqlstate.classification(s, sql)
    assert got == classify(sql, no_backslash_escapes=modes[0], ansi_quotes=modes[1])
