"""SSH key rotation: the authorized_keys path as a shell word (never arbitrary shell text)."""

from __future__ import annotations

import pytest

from bastion.core.types import Target
from bastion.credentials.rotate import RotationError
from plugins.ssh.rotate import authorized_keys_path


def target(**options: object) -> Target:
    return Target(name="t", protocol="ssh", host="h", port=22, options=options)


@pytest.mark.parametrize(("option", "expected"), [
    (None, '"$HOME"/.ssh/authorized_keys'),
    ("/etc/ssh/keys/%u", "/etc/ssh/keys/deploy"),
    ("~/.ssh/authorized_keys2", '"$HOME"/.ssh/authorized_keys2'),
])
def test_authorized_keys_path(option: str | None, expected: str) -> None:
    t = target(**({"authorized_keys": option} if option else {}))
    assert authorized_keys_path(t, "deploy") == expected


@pytest.mark.parametrize("option", ["/tmp/x; rm -rf /", "$(id)", "/a b", "`id`", "/k'"])
def test_authorized_keys_path_refuses_shell_text(option: str) -> None:
    with pytest.raises(RotationError):
        authorized_keys_path(target(authorized_keys=option), "deploy")


def test_user_name_is_checked_after_substitution() -> None:
    with pytest.raises(RotationError):
        authorized_keys_path(target(authorized_keys="/keys/%u"), "x;id")
