"""Target selectors: the protocol user name names the target, not an account.

``target``, ``target/role`` or ``user#target[/role]`` (``user:target`` too, Warpgate's
form, handy for SSH where ``@`` already separates the host). The password (or key, or
login link) says who the user is; a ``user`` part, when given, must match that identity.
``@`` is never a separator: clients and shells split on it. The syntax fits MariaDB
clients' 80-character user name limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAME = re.compile(r"^(?:(?P<user>[A-Za-z0-9._@+-]{1,64})[#:])?(?P<target>[A-Za-z0-9][A-Za-z0-9_.-]{0,63})"
                   r"(?:/(?P<role>[A-Za-z0-9_.-]{1,64}))?$")


@dataclass(frozen=True, slots=True)
class Selector:
    """What a protocol user name asks for."""

    target: str
    role: str = ""
    """An access-rule role (or account name) the user asks for; empty: the rule's default."""
    user: str = ""
    """The bastion user the client claims to be; empty when not given."""


def parse_username(name: str) -> Selector | None:
    """The selector in ``name``, or None when it is not ``[user#|:]target[/role]``."""
    match = _NAME.match(name)
    if match is None:
        return None
    return Selector(target=match["target"], role=match["role"] or "", user=match["user"] or "")
