"""Which tables' triggers a statement makes fire, under which spellings, and the lookup."""

from __future__ import annotations

import pytest

from plugins.mysql import triggers
from plugins.mysql.bodies import Body
from policies.sql import classify


@pytest.mark.parametrize(("sql", "home", "expected"), [
    ("INSERT INTO t VALUES (1)", "lab", {("lab", "t")}),
    ("INSERT INTO Lab.TLog VALUES (1)", "x", {("lab", "tlog"), ("Lab", "TLog")}),
    ("insert into `lab` . `T l` values (1)", "", {("lab", "t l"), ("lab", "T l")}),
    ("UPDATE TMixed SET a = 1", "Lab", {("Lab", "tmixed"), ("Lab", "TMixed")}),
    ("INSERT INTO tm SELECT * FROM TM", "d", {("d", "tm"), ("d", "TM")}),
    ("insert into tm select * from tm", "d", {("d", "tm")}),
    ("DELETE FROM t WHERE id IN (SELECT id FROM u)", "d", {("d", "t"), ("d", "u")}),
    ("REPLACE INTO t VALUES (1)", "d", {("d", "t")}),
    ("LOAD DATA INFILE '/x' INTO TABLE t", "d", {("d", "t")}),
    ("WITH x AS (SELECT 1) DELETE FROM t", "d", {("d", "t")}),
    ("SET STATEMENT max_statement_time=0 FOR INSERT INTO t VALUES (1)", "d", {("d", "t")}),
    ("PREPARE p FROM 'UPDATE t SET a = 1'", "d", {("d", "t")}),
    ("SELECT * FROM t", "d", set()),
    ("TRUNCATE TABLE t", "d", set()),
    ("INSERT INTO t VALUES (1)", "", set()),  # no database: the server finds no table
])
def test_the_tables_whose_triggers_fire(sql, home, expected):  # type: ignore[no-untyped-def]
    assert triggers.targets([(classify(sql), home)]) == expected


def test_one_query_reads_each_table_by_name():  # type: ignore[no-untyped-def]
    sql = triggers.lookup_sql([("lab", "t"), ("x'; DROP", "u")])
    assert sql.count("SELECT ") == 2 and sql.count(" UNION ALL ") == 1
    assert "DROP" not in sql  # names travel as hex literals
    assert "EVENT_OBJECT_SCHEMA = CONVERT(X'6c6162' USING utf8mb4)" in sql


def test_a_table_s_triggers_are_read_again_after_the_ttl():  # type: ignore[no-untyped-def]
    level = [(classify("INSERT INTO t VALUES (1)"), "lab")]
    cache: triggers.Cache = {}
    asked: list[str] = []

    def query(sql: str) -> list[list[bytes | None]]:
        asked.append(sql)
        return [[b"0", b"lab", b"t_wipe", b"DELETE FROM v", b""]]

    assert triggers.fired(query, level, set(), cache, now=100.0)[0][1] == "t_wipe"
    assert triggers.fired(query, level, set(), cache, now=100.0 + triggers.TTL / 2)[0][1] == "t_wipe"
    assert len(asked) == 1  # the second write trusted what the first read
    triggers.fired(query, level, set(), cache, now=100.0 + triggers.TTL)
    assert len(asked) == 2


def test_bodies_are_read_once_and_an_unreadable_one_refuses():  # type: ignore[no-untyped-def]
    level = [(classify("INSERT INTO t VALUES (1)"), "lab")]
    seen: set[str] = set()
    rows = [[b"0", b"lab", b"t_wipe", b"DELETE FROM v", b""]]
    found = triggers.fired(lambda sql: rows, level, seen)
    assert found == [("lab", "t_wipe", Body("BEGIN NOT ATOMIC DELETE FROM v; END"))]
    assert triggers.fired(lambda sql: rows, level, seen) == []
    with pytest.raises(ValueError):
        triggers.fired(lambda sql: [[b"0", b"lab", b"hidden", None, b""]], level, set())
    assert triggers.fired(lambda sql: pytest.fail("no lookup"), [(classify("SELECT 1"), "lab")], set()) == []


@pytest.mark.parametrize(("sql_mode", "nbe", "ansi"), [
    (b"", False, False),
    (None, False, False),
    (b"NO_BACKSLASH_ESCAPES", True, False),
    (b"STRICT_TRANS_TABLES,ANSI_QUOTES", False, True),
    (b"PIPES_AS_CONCAT,ANSI_QUOTES,IGNORE_SPACE,NO_BACKSLASH_ESCAPES", True, True),
    (b"ORACLE", False, True),
])
def test_a_body_keeps_the_quoting_modes_it_was_created_under(sql_mode: bytes | None, nbe: bool, ansi: bool) -> None:
    level = [(classify("INSERT INTO t VALUES (1)"), "lab")]
    [(_, _, body)] = triggers.fired(lambda sql: [[b"0", b"lab", b"tr", b"SET @a = 1", sql_mode]], level, set())
    assert (body.no_backslash_escapes, body.ansi_quotes) == (nbe, ansi)
