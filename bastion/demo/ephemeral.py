"""Per-session database accounts for the demo, the tests and the benchmark.

:data:`PROVISION_SQL` makes, on a demo MariaDB, the role ``eph_reader`` (reads the shop)
(``SHOW VIEW`` too: the bastion judges a view with its definition) and the provisioning
account ``bastion_prov`` — the only credential the bastion keeps
for an ephemeral target. Its privileges are what a per-session user needs to be made
and removed: ``CREATE USER``, the template's privileges ``WITH GRANT OPTION`` (or its
role ``WITH ADMIN OPTION``), ``UPDATE`` on ``mysql.*`` (``SET DEFAULT ROLE … FOR``
another user writes there), ``SELECT`` on ``mysql.*`` (the orphan sweep lists users),
``PROCESS`` and ``CONNECTION ADMIN`` (the sweep ends a dropped user's connections).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bastion.demo.services import MariaDB

PROVISION_USER, PROVISION_PASSWORD = "bastion_prov", "prov-secret-pw"

PROVISION_SQL = f"""
CREATE ROLE IF NOT EXISTS eph_reader;
GRANT SELECT, SHOW VIEW ON shop.* TO eph_reader;
CREATE USER IF NOT EXISTS '{PROVISION_USER}'@'127.0.0.1' IDENTIFIED BY '{PROVISION_PASSWORD}';
GRANT CREATE USER, PROCESS, CONNECTION ADMIN ON *.* TO '{PROVISION_USER}'@'127.0.0.1';
GRANT SELECT, UPDATE ON mysql.* TO '{PROVISION_USER}'@'127.0.0.1';
GRANT SELECT ON shop.* TO '{PROVISION_USER}'@'127.0.0.1' WITH GRANT OPTION;
GRANT eph_reader TO '{PROVISION_USER}'@'127.0.0.1' WITH ADMIN OPTION;
"""

TEMPLATES: dict[str, dict[str, Any]] = {
    "developer": {"provision": "provisioner", "role": "eph_reader"},
    "reporter": {"provision": "provisioner", "grants": ["SELECT ON shop.orders"]},
}
"""``developer``: the role template (reads the shop); ``reporter``: a grants template."""


def provision(db: MariaDB) -> None:
    db.sql(PROVISION_SQL)


def ephemeral_target(name: str, db: MariaDB) -> dict[str, Any]:
    """A MySQL target whose accounts ``developer``/``reporter`` are per-session users."""
    return {"name": name, "protocol": "mysql", "host": "127.0.0.1", "port": db.port,
            "accounts": [*TEMPLATES, "provisioner"], "tls": {"mode": "preferred"},
            "options": {"users": {"provisioner": PROVISION_USER}, "ephemeral": TEMPLATES}}


def access_file(path: Path, target: str, groups: dict[str, list[str]]) -> Path:
    """Access rules granting ``target``'s template accounts: account -> groups."""
    rules = [{"id": f"{target}-{account}", "groups": members, "targets": [target], "account": account}
             for account, members in groups.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"access": rules}, sort_keys=False))
    return path


def without_standing_credentials(config: dict[str, Any]) -> dict[str, Any]:
    """The demo's config with ``shop-db``'s developers on per-session users (template
    ``developer``, through the provisioning account) and ``demo-host`` reached with CA
    certificates; approvers and auditors keep the vaulted ``readonly`` account. Rewrites
    the demo's access policy file (``policies/access.yaml``) in place."""
    for target in config["targets"]:
        if target["name"] == "shop-db":
            target["accounts"] = [*target["accounts"], "developer", "provisioner"]
            target["options"] = {**target["options"], "users": {**target["options"]["users"],
                                                                "provisioner": PROVISION_USER},
                                 "ephemeral": {"developer": TEMPLATES["developer"]}}
        elif target["protocol"] == "ssh":
            target["options"] = {**target["options"], "credential": "ssh-certificate"}
    access = next(Path(f) for f in config["policies"]["files"] if Path(f).name == "access.yaml")
    rules = yaml.safe_load(access.read_text())["access"]
    for rule in list(rules):
        if rule["id"] == "dev-readonly":
            rule["groups"] = [g for g in rule["groups"] if g != "developers"]
            rules.insert(rules.index(rule), {
                "id": "dev-session-user", "groups": ["developers"], "targets": ["shop-db"], "account": "developer",
                "description": "developers read the shop as a database user of their own, made per session"})
    access.write_text(yaml.safe_dump({"access": rules}, sort_keys=False))
    return config
