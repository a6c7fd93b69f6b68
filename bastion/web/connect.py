"""What the portal shows about reaching targets: which ones, as which account, and the
copy-paste commands for native clients; plus the fingerprints users verify the bastion by.

Access is computed with the access stage's own rule matching (``policies.access``), so
the portal lists exactly what a connection would be granted.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from bastion.config.model import BastionConfig
from bastion.context import PluginContext
from bastion.core.types import Target
from bastion.runtime.tls import ca_certificate
from policies.access import grants, rule_matches_target

log = logging.getLogger("bastion.web")


@dataclass(frozen=True)
class Command:
    label: str
    text: str


@dataclass(frozen=True)
class Reachable:
    """A target the user may reach, the rule that grants it, and how to connect."""

    target: Target
    account: str
    rule: str
    description: str
    usernames: tuple[str, ...]
    """User names the client may send: the target, or ``target/role`` for another rule's account."""
    commands: tuple[Command, ...]

    def as_json(self) -> dict[str, Any]:
        return {"name": self.target.name, "protocol": self.target.protocol, "tags": sorted(self.target.tags),
                "account": self.account, "rule": self.rule, "description": self.description,
                "usernames": list(self.usernames), "commands": {c.label: c.text for c in self.commands}}


def public_host(cfg: BastionConfig) -> str:
    if cfg.public_host:
        return cfg.public_host
    if cfg.saml is not None:
        host = urlsplit(cfg.saml.sp_base_url).hostname
        if host:
            return host
    return "127.0.0.1"


def listener_port(cfg: BastionConfig, protocol: str) -> int | None:
    lc = cfg.listeners.get(protocol)
    return lc.port if lc is not None and lc.enabled and lc.port else None


def commands_for(cfg: BastionConfig, target: Target) -> tuple[Command, ...]:
    host, name = public_host(cfg), target.name
    port = listener_port(cfg, target.protocol)
    if port is None:
        return ()
    if target.protocol == "mysql":
        return (
            Command("mariadb", f"mariadb -h {host} -P {port} --ssl -u {name} -p"),
            Command("mysql", f"mysql -h {host} -P {port} --ssl-mode=REQUIRED -u {name} -p"),
            Command("JDBC (MariaDB Connector/J)", f"jdbc:mariadb://{host}:{port}/?sslMode=trust&user={name}"),
            Command("JDBC (MySQL Connector/J)", f"jdbc:mysql://{host}:{port}/?sslMode=REQUIRED&user={name}"),
        )
    if target.protocol == "ssh":
        return (
            Command("ssh", f"ssh -p {port} {name}@{host}"),
            Command("scp", f"scp -P {port} FILE {name}@{host}:PATH"),
            Command("sftp", f"sftp -P {port} {name}@{host}"),
        )
    return ()


def reachable(ctx: PluginContext, groups: frozenset[str]) -> list[Reachable]:
    """Targets a member of ``groups`` may reach, in configuration order."""
    rules = ctx.settings.policies.access
    cfg = ctx.settings.config
    out: list[Reachable] = []
    for target in ctx.targets():
        rule = grants(rules, groups, target)
        if rule is None:
            continue
        names: list[str] = [target.name]
        for other in rules:
            if groups & set(other.groups) and rule_matches_target(other, target) and other.account in target.accounts:
                for role in (*other.roles, other.account):
                    candidate = f"{target.name}/{role}"
                    if candidate not in names and grants(rules, groups, target, role) is not None:
                        names.append(candidate)
        out.append(Reachable(target, rule.account, rule.id, rule.description, tuple(names),
                             commands_for(cfg, target)))
    return out


def host_key_fingerprints(state_dir: Path) -> list[dict[str, str]]:
    """The SSH plugin's host keys (``state_dir/ssh/host_keys.json``), if it wrote them."""
    path = state_dir / "ssh" / "host_keys.json"
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        log.warning("cannot read SSH host key fingerprints", extra={"path": str(path), "error": str(exc)})
        return []
    if not isinstance(data, list):
        return []
    return [{"type": str(k.get("type", "")), "fingerprint": str(k.get("fingerprint", ""))}
            for k in data if isinstance(k, dict) and k.get("fingerprint")]


def tls_certificate(cfg: BastionConfig) -> Path:
    """What clients verify the bastion with: the private CA (``ca.crt``), or ``tls.cert_file``."""
    return ca_certificate(cfg.tls, Path(cfg.state_dir))


def tls_fingerprint(cfg: BastionConfig) -> str | None:
    """SHA-256 fingerprint of :func:`tls_certificate` (the private CA: it stays the same when
    the listener's leaf is renewed), as ``openssl x509 -fingerprint -sha256``."""
    try:
        cert = x509.load_pem_x509_certificate(tls_certificate(cfg).read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("cannot read the TLS certificate", extra={"error": str(exc)})
        return None
    digest = hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest().upper()
    return "SHA256:" + ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))
