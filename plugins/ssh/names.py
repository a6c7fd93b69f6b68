"""The SSH user name selects the target: ``web01``, ``alice:web01`` or ``web01/role``.

The bastion's SSH user name is not an OS account: it names the target (and optionally
the person, which must then match whoever authenticates, and an access-rule role).
``#`` is accepted as well as ``:`` (Warpgate's separator) so one habit works for both
MySQL and SSH. Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAME = re.compile(r"^(?:(?P<user>[A-Za-z0-9._@+-]{1,128})[:#])?(?P<target>[A-Za-z0-9._-]{1,128})"
                   r"(?:/(?P<role>[A-Za-z0-9._-]{1,64}))?$")


@dataclass(frozen=True, slots=True)
class Selector:
    """What the SSH user name asks for."""

    target: str
    user: str = ""
    """Bastion user the client claims to be; empty when not given."""
    role: str = ""


def parse_username(name: str) -> Selector | None:
    """The selector in ``name``, or None when it is not ``[user:]target[/role]``."""
    match = _NAME.match(name)
    if match is None:
        return None
    return Selector(target=match["target"], user=match["user"] or "", role=match["role"] or "")
