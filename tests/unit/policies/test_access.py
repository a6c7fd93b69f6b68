from __future__ import annotations

import pytest

from bastion.core.types import Connect, Query
from policies.access import grants
from policies.files import AccessRule
from tests.conftest import make_identity, make_session, make_target

RULES = (
    AccessRule(id="dba", groups=["dba"], tags=["prod"], protocols=["mysql"], account="admin"),
    AccessRule(id="dev", groups=["developers"], targets=["orders-db"], account="readonly", roles=["readonly"]),
    AccessRule(id="sre", groups=["sre"], tags=["linux"], protocols=["ssh"], account="deploy"),
)


@pytest.mark.parametrize(
    ("groups", "target", "role", "expected"),
    [
        (("dba",), make_target(), "", "dba"),
        (("developers",), make_target(), "", "dev"),
        (("developers",), make_target(), "readonly", "dev"),
        (("developers",), make_target(), "admin", None),
        (("developers",), make_target(name="other-db"), "", None),
        (("sre",), make_target(), "", None),
        (("sre",), make_target(name="web01", protocol="ssh", tags=("linux",), accounts=("deploy",)), "", "sre"),
        (("dba",), make_target(name="web01", protocol="ssh", tags=("prod",), accounts=("admin",)), "", None),
        ((), make_target(), "", None),
        (("dba",), make_target(accounts=("readonly",)), "", None),
    ],
    ids=["tag-match", "name-match", "role-ok", "role-not-granted", "other-target", "wrong-group",
         "ssh-tag", "protocol-filter", "no-groups", "account-not-on-target"],
)
def test_grants(groups, target, role, expected):
    rule = grants(RULES, frozenset(groups), target, role)
    assert (rule.id if rule else None) == expected


def test_stage_decides_connect_only():
    from policies.access import AccessPolicy

    stage = AccessPolicy.__new__(AccessPolicy)
    stage.rules = RULES
    session = make_session(make_identity(groups=("developers",)))
    decision = stage.decide(Connect(session=session))
    assert decision is not None and decision.account == "readonly" and decision.rule == "access:dev"
    assert stage.decide(Query(session=session, sql="select 1")) is None
    nobody = make_session(make_identity(groups=("guests",)))
    assert stage.decide(Connect(session=nobody)) is None
