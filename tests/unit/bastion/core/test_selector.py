from __future__ import annotations

import pytest

from bastion.core.selector import Selector, parse_username


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("shop-db", Selector("shop-db")),
        ("shop-db/readonly", Selector("shop-db", role="readonly")),
        ("alice#shop-db", Selector("shop-db", user="alice")),
        ("alice:web01/admin", Selector("web01", role="admin", user="alice")),
        ("bad name!", None),
        ("", None),
        ("#shop-db", None),
        ("a/b/c", None),
        ("x" * 65, None),
        ("-leading", None),
    ],
)
def test_parse_username(name, expected):
    assert parse_username(name) == expected
