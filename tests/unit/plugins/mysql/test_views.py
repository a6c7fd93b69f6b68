"""Which views a statement reads (plugins.mysql.views), with a scripted lookup."""

from __future__ import annotations

import re

import pytest

from plugins.mysql import triggers, views
from policies.sql import classify

DEFINITION = b"select reverse(`shop`.`customers`.`card_number`) AS `rc` from `shop`.`customers`"


def lookup(known: dict[tuple[str, str], bytes | None], asked: list[str]):  # type: ignore[no-untyped-def]
    """Answers a views lookup (a UNION of per-table SELECTs) from ``known``."""
    def query(sql: str) -> list[list[bytes | None]]:
        asked.append(sql)
        rows: list[list[bytes | None]] = []
        for branch in sql.split(" UNION ALL "):
            k, schema, table = re.search(r"SELECT (\d+),.*TABLE_SCHEMA = CONVERT\(X'([0-9a-f]*)'.*"
                                         r"TABLE_NAME = CONVERT\(X'([0-9a-f]*)'", branch).groups()  # type: ignore[union-attr]
            pair = (bytes.fromhex(schema).decode(), bytes.fromhex(table).decode())
            if pair in known:
                rows.append([k.encode(), pair[0].encode(), pair[1].encode(), known[pair]])
        return rows
    return query


@pytest.mark.parametrize(("sql", "home"), [
    ("SELECT rc FROM VRev", "shop"),
    ("SELECT * FROM shop.VRev", "lab"),
    ("SELECT * FROM `shop`.`VRev`", ""),
    ("SELECT id FROM customers c JOIN VRev v ON v.id = c.id", "shop"),
    ("INSERT INTO t SELECT rc FROM VRev", "shop"),
])
def test_a_view_read_is_found_as_written(sql: str, home: str) -> None:
    found = views.named(lookup({("shop", "VRev"): DEFINITION}, []), [(classify(sql), home)], set(), {}, 1.0)
    assert [(schema, name) for schema, name, _ in found] == [("shop", "VRev")]
    body = found[0][2]
    assert body.text.startswith("SELECT * FROM (select reverse(") and body.text.endswith(") AS bastion_view")
    assert classify(body.text).statements[0].wrapped_columns >= {"card_number"}


def test_each_table_is_read_once_per_ttl_and_once_per_statement() -> None:
    asked: list[str] = []
    query = lookup({}, asked)
    cache: triggers.Cache = {}
    level = [(classify("SELECT c FROM customers JOIN orders USING (id) WHERE id = 1"), "shop")]
    assert views.named(query, level, set(), cache, 10.0) == []
    assert views.named(query, level, set(), cache, 10.0 + triggers.TTL / 2) == []
    assert len(asked) == 1 and asked[0].count(" UNION ALL ") == 1
    views.named(query, level, set(), cache, 10.0 + triggers.TTL)
    assert len(asked) == 2


@pytest.mark.parametrize("definition", [None, b""])
def test_a_definition_that_cannot_be_read_fails_closed(definition: bytes | None) -> None:
    with pytest.raises(ValueError):
        views.named(lookup({("shop", "vrev"): definition}, []), [(classify("SELECT * FROM vrev"), "shop")], set(),
                    {}, 1.0)


def test_no_database_no_lookup() -> None:
    assert views.named(lambda sql: pytest.fail("no lookup"), [(classify("SELECT 1 FROM t"), "")], set(), {}, 1.0) == []
