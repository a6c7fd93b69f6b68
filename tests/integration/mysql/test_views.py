"""A view is a stored query: reading one is judged with its definition. The views here
are created directly on the target (through the bastion a wrapped_columns rule refuses
them), over the demo's masked columns; bob (developer, masked, under the demo's
unmaskable-expressions rule) must not get their values, whatever the view does to them."""

from __future__ import annotations

import pytest

from tests.integration.conftest import wait_for
from tests.integration.mysql.clients import pymysql_conn, run

VIEWS = {
    "vx_rev": "SELECT id, REVERSE(card_number) AS rc FROM shop.customers",
    "vx_plain": "SELECT id, card_number, email FROM shop.customers",
    "vx_over": "SELECT id, rc FROM shop.vx_rev",  # a view over a view
    "vx_safe": "SELECT id, name FROM shop.customers",
}


@pytest.fixture(scope="module", autouse=True)
def views(mariadb):  # type: ignore[no-untyped-def]
    mariadb.sql(";".join(f"CREATE OR REPLACE VIEW shop.{name} AS {sql}" for name, sql in VIEWS.items()))
    yield
    mariadb.sql(";".join(f"DROP VIEW IF EXISTS shop.{name}" for name in reversed(VIEWS)))


@pytest.mark.parametrize("sql", [
    "SELECT rc FROM vx_rev", "SELECT * FROM vx_plain", "SELECT id FROM vx_plain", "SELECT rc FROM shop.vx_over",
    "SELECT c.id FROM customers c JOIN vx_rev v USING (id)",
])
def test_a_view_over_masked_columns_is_refused(bastion, sql):  # type: ignore[no-untyped-def]
    with pymysql_conn(bastion, bastion.token("bob", "developers"), database="shop", autocommit=True) as conn:
        message = run(conn, sql)
    assert "guardrails:unmaskable-expressions" in message, message


def test_a_view_over_other_columns_is_read_and_on_record(bastion):  # type: ignore[no-untyped-def]
    with pymysql_conn(bastion, bastion.token("bob", "developers"), database="shop", autocommit=True) as conn:
        assert run(conn, "SELECT COUNT(*) FROM vx_safe").startswith("ran: ((")
    records = wait_for(lambda: [e["data"] for e in bastion.journal() if e["type"] == "query"
                                and e["data"].get("statement") == "SELECT COUNT(*) FROM vx_safe"])
    assert records[0]["views"] == ["shop.vx_safe"]
