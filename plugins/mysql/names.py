"""The MySQL user name selects the target: ``target``, ``target/role`` or ``user#target[/role]``.

The password is the user's bastion token, which already says who the user is, so the
user name only has to name the target. ``user#`` is accepted for clients that insist on
a personal user name; it must then match the token's user. The syntax avoids ``@``
(clients split on it) and fits the 80-character limit of MariaDB clients.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAME = re.compile(r"^(?:(?P<user>[^#/\s]{1,64})#)?(?P<target>[A-Za-z0-9][A-Za-z0-9_.-]{0,63})"
                   r"(?:/(?P<role>[A-Za-z0-9_.-]{1,64}))?$")


@dataclass(frozen=True, slots=True)
class Selector:
    target: str
    role: str = ""
    user: str = ""


def parse_username(name: str) -> Selector | None:
    """Parse a MySQL user name into a target selector; None if it is not one."""
    match = _NAME.match(name)
    if match is None:
        return None
    return Selector(target=match["target"], role=match["role"] or "", user=match["user"] or "")
