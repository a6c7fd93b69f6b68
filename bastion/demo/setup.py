"""The demo's data, accounts, configuration and policies (shared with the integration tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bastion.demo.services import SSHD, MariaDB

SHOP_SQL = """
CREATE DATABASE IF NOT EXISTS shop;
USE shop;
CREATE TABLE customers (
  id INT PRIMARY KEY AUTO_INCREMENT,
  name VARCHAR(100) NOT NULL,
  email VARCHAR(120) NOT NULL,
  phone VARCHAR(32),
  card_number VARCHAR(19),
  notes TEXT
) DEFAULT CHARSET=utf8mb4;
CREATE TABLE orders (
  id INT PRIMARY KEY AUTO_INCREMENT,
  customer_id INT NOT NULL,
  total DECIMAL(10,2) NOT NULL,
  status VARCHAR(16) NOT NULL DEFAULT 'new',
  created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  FOREIGN KEY (customer_id) REFERENCES customers(id)
) DEFAULT CHARSET=utf8mb4;
INSERT INTO customers (name, email, phone, card_number, notes) VALUES
  ('Ada Lovelace', 'ada@example.com', '+44 20 7946 0958', '4111 1111 1111 1111', 'VIP since 2019'),
  ('Grace Hopper', 'grace@example.com', '+1 (555) 123-4567', '5555-5555-5555-4444',
   'paid with card 4012888888881881 last time'),
  ('Alan Turing', 'alan@example.com', '+44 161 496 0000', '378282246310005', 'prefers e-mail: alan.t@example.net'),
  ('Edsger Dijkstra', 'edsger@example.com', '+31 20 555 0100', '6011111111111117', NULL),
  ('Barbara Liskov', 'barbara@example.com', NULL, NULL, 'no card on file');
INSERT INTO orders (customer_id, total, status) VALUES
  (1, 120.50, 'shipped'), (1, 33.00, 'new'), (2, 999.99, 'paid'), (3, 12.00, 'new'),
  (4, 450.00, 'cancelled'), (5, 78.25, 'paid');
"""

UPSTREAM_ACCOUNTS = {
    # account name -> (upstream user, password, grants)
    "readonly": ("bastion_ro", "ro-secret-pw", "GRANT SELECT, SHOW VIEW ON shop.* TO 'bastion_ro'@'127.0.0.1'"),
    "admin": ("bastion_admin", "admin-secret-pw",
              "GRANT ALL ON *.* TO 'bastion_admin'@'127.0.0.1' WITH GRANT OPTION"),
}


DEMO_GUARDRAILS: list[dict[str, Any]] = [
    {"id": "no-drop", "description": "nobody drops or truncates on the shop database",
     "scope": {"targets": ["shop-db"]}, "match": {"keywords": ["DROP", "TRUNCATE"]}, "action": "deny",
     "message": "DROP and TRUNCATE are not allowed on shop-db"},
    {"id": "delete-needs-approval", "description": "every DELETE waits for an approver",
     "scope": {"targets": ["shop-db"]}, "match": {"keywords": ["DELETE"]}, "action": "review",
     "review": {"approvers": ["approvers"], "approvals": 1, "hold_seconds": 120, "window_seconds": 300}},
    {"id": "no-file-access", "description": "no server-side file access",
     "scope": {"targets": ["shop-db"]}, "match": {"flags": ["outfile", "load_file", "load_data"]}, "action": "deny"},
    {"id": "no-admin", "description": "admin statements and privilege changes need the DBA console",
     "scope": {"targets": ["shop-db"], "unless_groups": ["dba"]}, "match": {"kinds": ["admin", "dcl"]},
     "action": "deny"},
    {"id": "unmaskable-expressions", "description": "card numbers inside expressions would defeat masking",
     "scope": {"targets": ["shop-db"], "unless_groups": ["pci-auditors"]},
     "match": {"wrapped_columns": ["card_number", "email"]}, "action": "deny",
     "message": "card_number and email may only be selected plainly (they are masked)"},
    {"id": "ssh-no-rm-rf", "description": "no recursive deletes on hosts", "scope": {"protocols": ["ssh"]},
     "match": {"programs": ["rm"], "options": ["recursive"]}, "action": "deny",
     "message": "recursive rm is not allowed through the bastion (also through wrappers, inline interpreter "
                "code, or anything the bastion cannot read before it runs)"},
    {"id": "ssh-etc-read-only", "description": "/etc is read-only over SFTP/SCP", "scope": {"protocols": ["ssh"]},
     "match": {"file_ops": ["open-write", "remove", "rename", "mkdir", "rmdir", "setstat", "symlink"],
               "paths": ["/etc/*", "/etc"]}, "action": "deny"},
    {"id": "dynamic-sql", "description": "dynamic SQL cannot be inspected",
     "scope": {"targets": ["shop-db"]}, "match": {"flags": ["dynamic_sql"]}, "action": "deny"},
]
"""The demo's guardrails: deny DROP, hold DELETE for an approver (carol), allow reads."""

DEMO_MASKING: list[dict[str, Any]] = [
    {"id": "cards", "description": "card numbers: by column, and anywhere in free text",
     "scope": {"targets": ["shop-db", "demo-host"], "unless_groups": ["pci-auditors"]},
     "columns": ["shop.customers.card_number"], "recognizers": ["card"], "style": "partial", "keep_last": 4},
    {"id": "emails", "description": "customer e-mails",
     "scope": {"targets": ["shop-db"], "unless_groups": ["pci-auditors"]},
     "columns": ["shop.customers.email"], "recognizers": ["email"], "style": "email"},
    {"id": "secrets", "description": "cloud and SaaS secrets in any output",
     "scope": {"unless_groups": []}, "recognizers": ["aws_access_key", "aws_secret_key", "github_token",
                                                   "gitlab_token", "slack_token", "stripe_key", "pem_private_key",
                                                   "password_hash"],
     "style": "full"},
]


def seed_mariadb(db: MariaDB) -> None:
    """Create the shop schema and the upstream accounts the bastion logs in with."""
    db.sql(SHOP_SQL)
    for user, password, grant in UPSTREAM_ACCOUNTS.values():
        db.sql(f"CREATE USER IF NOT EXISTS '{user}'@'127.0.0.1' IDENTIFIED BY '{password}';\n{grant};")


def demo_config(workdir: Path, *, db: MariaDB, sshd: SSHD | None, idp_metadata_url: str | None,
                ports: dict[str, int], protocols: set[str], sp_base_url: str) -> dict[str, Any]:
    """The demo's bastion.yaml as a dict (listeners only for installed protocol plugins)."""
    listeners: dict[str, Any] = {"web": {"port": ports["web"]}}
    targets: list[dict[str, Any]] = [{
        "name": "shop-db", "protocol": "mysql", "host": "127.0.0.1", "port": db.port,
        "tags": ["prod", "pci"], "accounts": ["readonly", "admin"],
        "options": {"users": {k: v[0] for k, v in UPSTREAM_ACCOUNTS.items()}},
        "tls": {"mode": "preferred"},
    }]
    if "mysql" in protocols:
        listeners["mysql"] = {"port": ports["mysql"]}
    if sshd is not None and "ssh" in protocols:
        listeners["ssh"] = {"port": ports["ssh"]}
        known = workdir / "known_hosts"
        # a host CA when one certified the sshd's host key (the demo), else the pinned key
        known.write_text((sshd.cert_authority_line() if sshd.host_ca_public else sshd.known_hosts_line()) + "\n")
        targets.append({"name": "demo-host", "protocol": "ssh", "host": "127.0.0.1", "port": sshd.port,
                        "tags": ["prod"], "accounts": [sshd.user],
                        # no allow_forward: ssh -L must not reach the bastion's own upstreams
                        # (the demo MariaDB) around the MySQL guardrails and masking
                        "options": {"known_hosts": str(known)}})
    config: dict[str, Any] = {
        "state_dir": str(workdir / "var"),
        "listeners": listeners,
        "targets": targets,
        "policies": {"files": [str(p) for p in write_demo_policies(workdir, protocols)],
                     "stages": ["access", "guardrails"]},
        "tokens": {"default_ttl": 3600, "max_ttl": 43200},
        "audit": {"sinks": ["journal"]},
    }
    if idp_metadata_url:
        config["saml"] = {"idp_metadata_url": idp_metadata_url, "sp_base_url": sp_base_url,
                          "roles": {"admin": ["admins"], "approver": ["approvers"], "auditor": ["auditors"]}}
    return config


def write_demo_policies(workdir: Path, protocols: set[str]) -> list[Path]:
    access = [
        {"id": "dba-admin", "groups": ["dba"], "targets": ["shop-db"], "account": "admin",
         "description": "DBAs work on the shop database with the admin account"},
        {"id": "dev-readonly", "groups": ["developers", "approvers", "auditors"], "targets": ["shop-db"],
         "account": "readonly", "description": "everyone else reads"},
    ]
    if "ssh" in protocols:
        access.append({"id": "ops-ssh", "groups": ["dba", "developers"], "targets": ["demo-host"],
                       "account": "sshdemo"})
    path = workdir / "policies" / "access.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"access": access}, sort_keys=False))
    guard = workdir / "policies" / "guardrails.yaml"
    guard.write_text(yaml.safe_dump({"guardrails": DEMO_GUARDRAILS}, sort_keys=False))
    masking = workdir / "policies" / "masking.yaml"
    targets = {"shop-db", "demo-host"} if "ssh" in protocols else {"shop-db"}
    rules = [{**r, "scope": {**r["scope"], "targets": [t for t in r["scope"].get("targets", []) if t in targets]}}
             if "targets" in r["scope"] else r for r in DEMO_MASKING]
    masking.write_text(yaml.safe_dump({"masking": rules}, sort_keys=False))
    return [path, guard, masking]


def write_config(path: Path, config: dict[str, Any]) -> Path:
    path.write_text("# generated by `bastion demo`\n" + yaml.safe_dump(config, sort_keys=False))
    return path
