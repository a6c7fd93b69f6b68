"""User-name selectors, option validation and the scp refusal line (parsing: test_scp.py)."""

from __future__ import annotations

import pytest

from bastion.config.model import ListenerConfig
from bastion.core.selector import Selector, parse_username
from plugins.ssh.options import SSHOptions, forward_allowed, listener_problems, target_problems
from plugins.ssh.scp import scp_refusal


@pytest.mark.parametrize(("name", "expected"), [
    ("web01", Selector("web01")),
    ("alice:web01", Selector("web01", user="alice")),
    ("alice#web01", Selector("web01", user="alice")),
    ("alice.smith@corp:web01/admin", Selector("web01", user="alice.smith@corp", role="admin")),
    ("web01/readonly", Selector("web01", role="readonly")),
    ("", None), ("a:b:c", None), ("web 01", None), ("web01/", None), (":web01", None),
])
def test_parse_username(name, expected):
    assert parse_username(name) == expected


def test_listener_options_and_defaults():
    opts = SSHOptions.from_listener(ListenerConfig(port=2222, idle_timeout=60, handshake_timeout=5,
                                                   options={"allow_forward": ["db:3306"], "record_input": True}))
    assert opts.idle_timeout == 60 and opts.handshake_timeout == 5 and opts.record_input
    assert opts.allow_forward == ("db:3306",)
    assert opts.env_allowed("LANG") and opts.env_allowed("LC_ALL") and not opts.env_allowed("LD_PRELOAD")
    assert listener_problems({"allow_forward": ["x:1"], "keepalive": 10}) == []
    problems = listener_problems({"keepalive": "often", "bogus": 1, "max_auth_attempts": True})
    assert any("unknown option 'bogus'" in p for p in problems)
    assert any(p.startswith("keepalive has the wrong type") for p in problems)
    assert any(p.startswith("max_auth_attempts has the wrong type") for p in problems)


def test_target_options(tmp_path):
    known = tmp_path / "known_hosts"
    known.write_text("")
    assert target_problems({"known_hosts": str(known), "users": {"app": "deploy"},
                            "allow_forward": ["127.0.0.1:3306"]}) == []
    assert any("known_hosts is required" in p for p in target_problems({}))
    bad = target_problems({"known_hosts": str(known), "allow_forward": ["nocolon"], "users": ["x"], "zap": 1})
    assert len(bad) == 3


@pytest.mark.parametrize(("dest", "allowed"), [
    (("127.0.0.1", 3306), True), (("DB.internal", 5432), True), (("db.internal", 5433), False),
    (("127.0.0.1", 22), False), (("10.0.0.1", 3306), False),
])
def test_forward_allowed(dest, allowed):
    assert forward_allowed(["127.0.0.1:3306", "db.internal:5432"], *dest) is allowed


def test_scp_refusal_is_one_fatal_line():
    assert scp_refusal("no\nway") == b"\x02no way\n"
