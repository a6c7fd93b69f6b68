"""The configuration file's schema, as frozen dataclasses (see docs/configuration.md).

Field annotations are the schema enforced by :mod:`bastion.config.schema`; attribute
docstrings are the reference documentation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class ListenerConfig:
    """One listening socket (``web``, or a protocol plugin's name)."""

    port: int
    bind: str = "127.0.0.1"
    enabled: bool = True
    max_connections: int = 500
    handshake_timeout: float = 15.0
    """Seconds a client has to finish TLS and authentication."""
    idle_timeout: float = 8 * 3600.0
    """Seconds without client traffic before the session is closed."""
    options: dict[str, Any] = field(default_factory=dict)
    """Protocol specific listener settings (e.g. ``server_version`` for MySQL)."""

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port {self.port} is out of range 0-65535")
        if self.max_connections < 1:
            raise ValueError("max_connections must be at least 1")


@dataclass(frozen=True)
class TLSConfig:
    """The bastion's own TLS certificate (client-facing MySQL, web portal if enabled)."""

    cert_file: str | None = None
    """PEM certificate chain; when unset a self-signed one is generated in ``state_dir``."""
    key_file: str | None = None
    hostnames: list[str] = field(default_factory=lambda: ["localhost", "127.0.0.1"])


@dataclass(frozen=True)
class UpstreamTLSConfig:
    mode: Literal["disabled", "preferred", "required", "verify-full"] = "preferred"
    ca_file: str | None = None
    server_name: str | None = None


@dataclass(frozen=True)
class TargetConfig:
    """A database or host reachable through the bastion."""

    name: str
    protocol: str
    host: str
    port: int
    tags: list[str] = field(default_factory=list)
    accounts: list[str] = field(default_factory=list)
    """Upstream accounts the vault holds credentials for (``bastion credentials set``)."""
    tls: UpstreamTLSConfig = field(default_factory=UpstreamTLSConfig)
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.name or any(c in self.name for c in " /#:@"):
            raise ValueError(f"target name {self.name!r} must be non-empty without spaces or / # : @")
        if not self.accounts:
            raise ValueError(f"target {self.name!r} needs at least one upstream account")
        if not 1 <= self.port <= 65535:
            raise ValueError(f"port {self.port} is out of range 1-65535")


@dataclass(frozen=True)
class SAMLConfig:
    """SAML 2.0 identity provider settings (the bastion is the Service Provider)."""

    idp_metadata_url: str | None = None
    idp_metadata_file: str | None = None
    sp_base_url: str = "http://127.0.0.1:8080"
    """Public base URL of the web portal; ACS, metadata and SLS live under ``/saml/``."""
    sp_entity_id: str | None = None
    attributes: dict[str, str] = field(default_factory=lambda: {
        "user_id": "uid", "email": "mail", "display_name": "displayName", "groups": "eduPersonAffiliation"})
    roles: dict[str, list[str]] = field(default_factory=dict)
    """Bastion role -> IdP groups (roles: admin, approver, auditor, user)."""
    allow_unsolicited: bool = False
    clock_skew: int = 60
    want_assertions_signed: bool = True
    want_messages_signed: bool = False


@dataclass(frozen=True)
class PolicyConfig:
    files: list[str] = field(default_factory=list)
    """YAML rule files (access, guardrails, masking); relative paths are resolved
    against the config file's directory."""
    stages: list[str] = field(default_factory=lambda: ["access"])
    """Entry-point names of the ``bastion.policies`` stages, in evaluation order."""
    stage_budget: float = 0.5


@dataclass(frozen=True)
class StateConfig:
    url: str = "sqlite:///{state_dir}/state.db"
    """SQLAlchemy URL: SQLite (WAL) by default, ``mysql+pymysql://…`` for several nodes."""


@dataclass(frozen=True)
class VaultConfig:
    key_file: str | None = "{state_dir}/vault.key"
    """32-byte key, base64; created on first use if missing (mode 0600)."""
    key_env: str | None = None
    """Name of an environment variable holding the key; wins over ``key_file``."""


@dataclass(frozen=True)
class TokenConfig:
    default_ttl: int = 3600
    max_ttl: int = 12 * 3600
    require_reason: bool = False
    allow_mysql_native_password: bool = False


@dataclass(frozen=True)
class AuditConfig:
    journal_dir: str = "{state_dir}/audit"
    sinks: list[str] = field(default_factory=lambda: ["journal"])
    index: dict[str, Any] = field(default_factory=lambda: {"backend": "sqlite"})


@dataclass(frozen=True)
class BastionConfig:
    """The whole configuration file."""

    state_dir: str = "./var"
    listeners: dict[str, ListenerConfig] = field(default_factory=dict)
    targets: list[TargetConfig] = field(default_factory=list)
    tls: TLSConfig = field(default_factory=TLSConfig)
    saml: SAMLConfig | None = None
    policies: PolicyConfig = field(default_factory=PolicyConfig)
    state: StateConfig = field(default_factory=StateConfig)
    vault: VaultConfig = field(default_factory=VaultConfig)
    tokens: TokenConfig = field(default_factory=TokenConfig)
    audit: AuditConfig = field(default_factory=AuditConfig)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    secret_key_file: str = "{state_dir}/web-secret.key"

    def target(self, name: str) -> TargetConfig | None:
        return next((t for t in self.targets if t.name == name), None)
