"""Per-session account templates: validation, names, grant statements."""

from __future__ import annotations

from typing import Any

import pytest

from plugins.mysql.options import target_problems
from plugins.mysql.templates import NAME_PATTERN, Template, grant_statement, problems, templates, user_name


@pytest.mark.parametrize(("spec", "ok"), [
    ({"provision": "prov", "role": "reader"}, True),
    ({"provision": "prov", "grants": ["SELECT ON shop.*", "SELECT, INSERT ON shop.orders"]}, True),
    ({"provision": "prov", "grants": ["SELECT ON `shop`.`orders`"], "host": "10.0.%"}, True),
    ({"role": "reader"}, False),  # no provisioning account
    ({"provision": "dev", "role": "reader"}, False),  # provisions itself
    ({"provision": "prov"}, False),  # neither role nor grants
    ({"provision": "prov", "role": "r; DROP USER x"}, False),
    ({"provision": "prov", "grants": ["ALL ON *.* WITH GRANT OPTION"]}, False),
    ({"provision": "prov", "grants": ["SELECT ON shop.* TO 'x'@'%'"]}, False),
    ({"provision": "prov", "grants": ["SELECT ON shop.*; DROP DATABASE shop"]}, False),
    ({"provision": "prov", "grants": ["SELECT ON shop.* /* c */"]}, False),
    ({"provision": "prov", "grants": "SELECT ON shop.*"}, False),
    ({"provision": "prov", "role": "reader", "host": "x' OR 1"}, False),
    ({"provision": "prov", "role": "reader", "extra": 1}, False),
])
def test_template_validation(spec: dict[str, Any], ok: bool) -> None:
    found = problems({"ephemeral": {"dev": spec}})
    assert (found == []) is ok, found
    assert (target_problems({"ephemeral": {"dev": spec}}) == []) is ok


def test_templates_parse() -> None:
    parsed = templates({"ephemeral": {"dev": {"provision": "prov", "grants": ["SELECT ON shop.*"]}}})
    assert parsed == {"dev": Template(account="dev", provision="prov", grants=("SELECT ON shop.*",))}
    assert templates({}) == {}


@pytest.mark.parametrize(("person", "stem"), [
    ("alice", "b_alice_"), ("Alice.Smith@example.org", "b_alice_smith_"), ("o'brien", "b_o_brien_"),
    ("ünïcødé", "b_n_c_d_"), ("@@@", "b_user_"), ("x" * 200, "b_" + "x" * 32 + "_"),
    ("a`b'c\"d;--", "b_a_b_c_d_"),
])
def test_user_names_are_sanitised_and_recognisable(person: str, stem: str) -> None:
    name = user_name(person)
    assert name.startswith(stem) and len(name) == len(stem) + 8 and len(name) <= 80
    assert NAME_PATTERN.match(name)
    assert user_name(person) != name  # random suffix


def test_grant_statement_keeps_user_as_parameter() -> None:
    assert grant_statement("SELECT, INSERT ON shop.orders") == "GRANT SELECT, INSERT ON shop.orders TO %s@%s"
    with pytest.raises(ValueError):
        grant_statement("ALL ON *.* TO root")
