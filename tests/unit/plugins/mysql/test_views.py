"""Which views a statement reads (plugins.mysql.views), with a scripted lookup."""

from __future__ import annotations

import pytest

from plugins.mysql import views
from policies.sql import classify

DEFINITION = b"select reverse(`shop`.`customers`.`card_number`) AS `rc` from `shop`.`customers`"


def lookup(rows_by_schema: dict[str, list[list[bytes | None]]], asked: list[str]):  # type: ignore[no-untyped-def]
    def query(sql: str) -> list[list[bytes | None]]:
        asked.append(sql)
        return next((rows for schema, rows in rows_by_schema.items()
                     if schema.encode().hex() in sql), [])
    return query


@pytest.mark.parametrize(("sql", "home"), [
    ("SELECT rc FROM vrev", "shop"),
    ("SELECT * FROM shop.vrev", "lab"),
    ("SELECT * FROM `shop`.`VRev`", ""),
    ("SELECT id FROM customers c JOIN vrev v ON v.id = c.id", "shop"),
    ("INSERT INTO t SELECT rc FROM vrev", "shop"),
])
def test_a_view_read_is_found(sql: str, home: str) -> None:
    asked: list[str] = []
    found = views.named(lookup({"shop": [[b"VRev", DEFINITION]]}, asked), [(classify(sql), home)], set(), {}, 1.0)
    assert [(schema, name) for schema, name, _ in found] == [("shop", "VRev")]
    body = found[0][2]
    assert body.text.startswith("SELECT * FROM (select reverse(") and body.text.endswith(") AS bastion_view")
    assert classify(body.text).statements[0].wrapped_columns >= {"card_number"}


def test_tables_are_not_views_and_each_database_is_read_once_per_ttl() -> None:
    asked: list[str] = []
    query = lookup({"shop": [[b"vrev", DEFINITION]]}, asked)
    cache: views.Cache = {}
    level = [(classify("SELECT c FROM customers WHERE id = 1"), "shop")]
    assert views.named(query, level, set(), cache, 10.0) == []
    assert views.named(query, level, set(), cache, 10.0 + views.TTL / 2) == []
    assert len(asked) == 1
    views.named(query, level, set(), cache, 10.0 + views.TTL)
    assert len(asked) == 2


def test_a_definition_that_cannot_be_read_fails_closed() -> None:
    with pytest.raises(ValueError):
        views.named(lambda sql: [[b"vrev", None]], [(classify("SELECT * FROM vrev"), "shop")], set(), {}, 1.0)
