"""The MySQL listener's options are checked at start-up."""

from __future__ import annotations

import pytest

from plugins.mysql import MySQLPlugin
from plugins.mysql.options import listener_problems


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({}, None),
        ({"server_version": "8.0.36-bastion", "busy_poll_us": 200}, None),
        ({"busy_poll_us": 0}, None),
        ({"busy_poll_us": 10_000}, None),
        ({"busy_poll_us": 10_001}, "busy_poll_us must be an integer"),
        ({"busy_poll_us": -1}, "busy_poll_us must be an integer"),
        ({"busy_poll_us": "200"}, "busy_poll_us must be an integer"),
        ({"busy_poll_us": True}, "busy_poll_us must be an integer"),
        ({"server_version": 8}, "server_version must be a string"),
        ({"busy_poll": 200}, "unknown option 'busy_poll'"),
        ({"auth_plugins": ["caching_sha2_password"]}, None),
        ({"auth_plugins": ["caching_sha2_password", "mysql_native_password"]}, None),
        ({"auth_plugins": ["mysql_native_password"]}, "auth_plugins must be a list including caching_sha2_password"),
        ({"auth_plugins": "mysql_native_password"}, "auth_plugins must be a list"),
        ({"auth_plugins": []}, "auth_plugins must be a list"),
        ({"auth_plugins": ["caching_sha2_password", "mysql_clear_password"]}, "unknown plugin 'mysql_clear_password'"),
    ],
)
def test_listener_options(options, problem):
    problems = MySQLPlugin().validate_listener(options)
    if problem is None:
        assert problems == []
    else:
        assert any(problem in p for p in problems), problems


@pytest.mark.parametrize(("value", "ok"), [(1, True), (60, True), (0.5, False), (0, False), (True, False),
                                           ("60", False), (10**6, False)])
def test_ephemeral_sweep_seconds(value: object, ok: bool) -> None:
    assert (listener_problems({"ephemeral_sweep_seconds": value}) == []) is ok
