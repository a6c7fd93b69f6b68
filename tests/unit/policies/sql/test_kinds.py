"""Statement kinds: the strictness order that makes any doubt fail closed."""

from __future__ import annotations

from policies.sql import Kind, stricter


def test_strictness_order() -> None:
    order = ["read", "transaction", "session", "write", "exec", "ddl", "dcl", "file", "admin", "unknown"]
    for weaker, strongest in zip(order, order[1:], strict=False):
        assert stricter(Kind(weaker), Kind(strongest)) is Kind(strongest)
        assert stricter(Kind(strongest), Kind(weaker)) is Kind(strongest)
