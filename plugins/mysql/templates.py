"""Role templates of per-session database accounts (``account_mode: ephemeral``).

A MySQL target's ``options.ephemeral`` maps an account name (one of the target's
``accounts``, the name access rules grant) to a template::

    ephemeral:
      developer:
        provision: provisioner       # the vaulted account that creates and drops users
        role: shop_developer         # a MariaDB role: granted and set as default, and/or
        grants: ["SELECT ON shop.*"] # privilege grants, ``<privileges> ON <object>``
        host: "%"                    # host part of the created user (default ``%``)

A session granted ``developer`` then runs as a user of its own, ``b_<person>_<8 hex>``,
made for it and dropped when it ends. Names always match :data:`NAME_PATTERN`, which is
how orphans are recognised on a target. Pure: no I/O.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PREFIX = "b_"
NAME_PATTERN = re.compile(r"^b_[a-z0-9_]{1,32}_[0-9a-f]{8}$")
"""Every per-session user name; a user matching it with no state-store row is an orphan."""

MAX_PERSON = 32
_GRANT = re.compile(r"^(?P<privs>[A-Za-z][A-Za-z ,_]*?)\s+ON\s+(?P<object>(?:`[A-Za-z0-9_$]+`|[A-Za-z0-9_$]+|\*)"
                    r"(?:\.(?:`[A-Za-z0-9_$]+`|[A-Za-z0-9_$]+|\*))?)$", re.IGNORECASE)
"""``<privileges> ON <db>.<table>``: no TO, no WITH GRANT OPTION, no quotes or comments."""
_ROLE = re.compile(r"^[A-Za-z0-9_]{1,80}$")
_HOST = re.compile(r"^[A-Za-z0-9_.:%-]{1,255}$")
TEMPLATE_KEYS = {"provision", "role", "grants", "host"}


@dataclass(frozen=True, slots=True)
class Template:
    account: str
    provision: str
    role: str = ""
    grants: tuple[str, ...] = ()
    host: str = "%"


def templates(options: Mapping[str, Any]) -> dict[str, Template]:
    """The target's templates by account name (assumes :func:`problems` found none)."""
    out = {}
    for account, raw in (options.get("ephemeral") or {}).items():
        out[str(account)] = Template(account=str(account), provision=str(raw["provision"]),
                                     role=str(raw.get("role", "")), grants=tuple(raw.get("grants", [])),
                                     host=str(raw.get("host", "%")))
    return out


def problems(options: Mapping[str, Any]) -> list[str]:
    """Problems with ``options.ephemeral`` (empty when valid or absent)."""
    raw = options.get("ephemeral", {})
    if not isinstance(raw, dict):
        return ["ephemeral must map account names to templates"]
    found = []
    for account, spec in raw.items():
        where = f"ephemeral.{account}"
        if not isinstance(spec, dict):
            found.append(f"{where} must be a mapping (provision, role, grants, host)")
            continue
        found += [f"{where}: unknown key {k!r} (expected one of: {', '.join(sorted(TEMPLATE_KEYS))})"
                  for k in spec if k not in TEMPLATE_KEYS]
        provision = spec.get("provision")
        if not isinstance(provision, str) or not provision:
            found.append(f"{where}.provision must name the vaulted provisioning account")
        elif provision == account:
            found.append(f"{where}.provision must be another account than the template's own")
        role, grants = spec.get("role", ""), spec.get("grants", [])
        if not isinstance(role, str) or (role and not _ROLE.match(role)):
            found.append(f"{where}.role must be a MariaDB role name (letters, digits, _)")
        if not isinstance(grants, list) or not all(isinstance(g, str) and _GRANT.match(g.strip()) for g in grants):
            found.append(f"{where}.grants must be a list of '<privileges> ON <db>.<table>'")
        if not role and not grants:
            found.append(f"{where} needs a role or grants (a user without privileges is useless)")
        if not isinstance(spec.get("host", "%"), str) or not _HOST.match(str(spec.get("host", "%"))):
            found.append(f"{where}.host must be a MariaDB host pattern")
    return found


def user_name(person: str) -> str:
    """A fresh user name for ``person``: ``b_<sanitised person>_<8 random hex>`` (≤ 43 chars)."""
    local = person.split("@", 1)[0].lower()
    clean = re.sub(r"[^a-z0-9]+", "_", local).strip("_")[:MAX_PERSON] or "user"
    return f"{PREFIX}{clean}_{secrets.token_hex(4)}"


def grant_statement(grant: str) -> str:
    """``GRANT <grant> TO %s@%s`` for a validated grant (the user is a query parameter)."""
    match = _GRANT.match(grant.strip())
    if match is None:
        raise ValueError(f"invalid grant {grant!r}")
    return f"GRANT {match['privs']} ON {match['object']} TO %s@%s"
